// `rehearse merge FILE...`: merges the `sweep --json` outputs of several shards (or seed
// ranges) of one scenario into one summary of the same shape: violating seeds united and
// sorted, by_invariant merged, seeds_run and wall_ms summed.
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands_internal.h"

namespace rehearse::cli {

namespace {

struct MergeInput {
  std::string file;
  SweepSummary summary;
  nlohmann::json seeds;  // the optional "seeds" and "shard" fields, null when absent
  nlohmann::json shard;
};

bool is_seed_list(const nlohmann::json& json) {
  if (!json.is_array()) return false;
  for (const auto& seed : json) {
    if (!seed.is_number_unsigned()) return false;
  }
  return true;
}

// Fills `summary` from a parsed sweep object; returns the problem, or "" when it is valid.
std::string parse_summary(const nlohmann::json& json, SweepSummary& summary) {
  if (!json.is_object()) return "not a JSON object";
  if (!json.contains("scenario") || !json["scenario"].is_string()) return "\"scenario\" missing or not a string";
  if (!json.contains("seeds_run") || !json["seeds_run"].is_number_unsigned()) return "\"seeds_run\" missing or not a count";
  if (!json.contains("violating_seeds") || !is_seed_list(json["violating_seeds"])) {
    return "\"violating_seeds\" missing or not a list of seeds";
  }
  if (!json.contains("by_invariant") || !json["by_invariant"].is_object()) return "\"by_invariant\" missing or not an object";
  if (!json.contains("wall_ms") || !json["wall_ms"].is_number_integer()) return "\"wall_ms\" missing or not an integer";
  summary.scenario = json["scenario"].get<std::string>();
  summary.seeds_run = json["seeds_run"].get<std::uint64_t>();
  summary.violating_seeds = json["violating_seeds"].get<std::vector<std::uint64_t>>();
  summary.wall_ms = json["wall_ms"].get<std::int64_t>();
  for (const auto& [invariant, seeds] : json["by_invariant"].items()) {
    if (!is_seed_list(seeds)) return fmt::format("\"by_invariant\".\"{}\" is not a list of seeds", invariant);
    summary.by_invariant[invariant] = seeds.get<std::vector<std::uint64_t>>();
  }
  return parse_coverage(json, summary);
}

std::optional<MergeInput> read_input(const std::string& file) {
  std::ifstream in(file);
  if (!in) {
    std::cerr << "rehearse: " << file << ": cannot be read\n";
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded()) {
    std::cerr << "rehearse: " << file << ": not valid JSON (expected the output of `rehearse sweep --json`)\n";
    return std::nullopt;
  }
  MergeInput input;
  input.file = file;
  const std::string problem = parse_summary(json, input.summary);
  if (!problem.empty()) {
    std::cerr << "rehearse: " << file << ": not a sweep summary: " << problem << "\n";
    return std::nullopt;
  }
  if (json.contains("seeds")) input.seeds = json["seeds"];
  if (json.contains("shard")) input.shard = json["shard"];
  return input;
}

// Inputs must name one scenario and must not cover the same seeds twice.
bool inputs_compatible(const std::vector<MergeInput>& inputs) {
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].summary.scenario != inputs.front().summary.scenario) {
      std::cerr << fmt::format("rehearse: {}: scenario '{}' does not match '{}' of {}\n", inputs[i].file,
                               inputs[i].summary.scenario, inputs.front().summary.scenario, inputs.front().file);
      return false;
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (!inputs[i].seeds.is_null() && inputs[i].seeds == inputs[j].seeds && inputs[i].shard == inputs[j].shard) {
        std::cerr << fmt::format("rehearse: {}: covers the same seeds as {} (merging both would count them twice)\n",
                                 inputs[i].file, inputs[j].file);
        return false;
      }
    }
  }
  return true;
}

bool is_shard(const nlohmann::json& shard) {
  return shard.is_object() && shard.contains("index") && shard["index"].is_number_unsigned() && shard.contains("count") &&
         shard["count"].is_number_unsigned();
}

// Adds "seeds" and "shards" to the merged object when every input agrees on them, and warns
// when shards of one split are missing.
void describe_coverage(const std::vector<MergeInput>& inputs, nlohmann::json& merged) {
  const nlohmann::json& seeds = inputs.front().seeds;
  for (const MergeInput& input : inputs) {
    if (input.seeds != seeds || !is_shard(input.shard)) return;
    if (input.shard["count"] != inputs.front().shard["count"]) return;
  }
  if (!seeds.is_null()) merged["seeds"] = seeds;
  const auto count = inputs.front().shard["count"].get<std::uint64_t>();
  std::set<std::uint64_t> indices;
  for (const MergeInput& input : inputs) indices.insert(input.shard["index"].get<std::uint64_t>());
  merged["shards"] = {{"count", count}, {"merged", indices}};
  if (indices.size() < count) {
    std::cerr << fmt::format("rehearse: warning: merged {} of {} shards; the summary covers only those\n",
                             indices.size(), count);
  }
}

SweepSummary merge_summaries(const std::vector<MergeInput>& inputs) {
  SweepSummary merged;
  merged.scenario = inputs.front().summary.scenario;
  std::set<std::uint64_t> violating;
  std::map<std::string, std::set<std::uint64_t>> by_invariant;
  for (const MergeInput& input : inputs) {
    merged.seeds_run += input.summary.seeds_run;
    merged.wall_ms += input.summary.wall_ms;
    violating.insert(input.summary.violating_seeds.begin(), input.summary.violating_seeds.end());
    for (const auto& [invariant, seeds] : input.summary.by_invariant) by_invariant[invariant].insert(seeds.begin(), seeds.end());
    // Shards cover disjoint seeds, so per-probe seed counts add up like hits do.
    for (std::size_t i = 0; i < kProbeCount; ++i) {
      merged.probes[i].seeds += input.summary.probes[i].seeds;
      merged.probes[i].hits += input.summary.probes[i].hits;
    }
    merged.buggify = merged.buggify || input.summary.buggify;
    for (std::size_t i = 0; i < kFaultSiteCount; ++i) {
      merged.sites[i].enabled_seeds += input.summary.sites[i].enabled_seeds;
      merged.sites[i].fired_seeds += input.summary.sites[i].fired_seeds;
      merged.sites[i].fires += input.summary.sites[i].fires;
    }
  }
  merged.violating_seeds.assign(violating.begin(), violating.end());
  for (const auto& [invariant, seeds] : by_invariant) merged.by_invariant[invariant].assign(seeds.begin(), seeds.end());
  return merged;
}

}  // namespace

CLI::App* add_merge_command(CLI::App& app, MergeOptions& options) {
  CLI::App* command = app.add_subcommand("merge", "Merges the `sweep --json` outputs of shards of one scenario into one summary");
  command->add_option("files", options.files, "Files holding `rehearse sweep --json` output")->required();
  return command;
}

int command_merge(const MergeOptions& options) {
  std::vector<MergeInput> inputs;
  for (const std::string& file : options.files) {
    std::optional<MergeInput> input = read_input(file);
    if (!input) return kExitBadInput;
    inputs.push_back(std::move(*input));
  }
  if (!inputs_compatible(inputs)) return kExitBadInput;
  const SweepSummary merged = merge_summaries(inputs);
  nlohmann::json json = summary_json(merged);
  describe_coverage(inputs, json);
  std::cout << json.dump(2) << "\n";
  return merged.violating_seeds.empty() ? kExitPass : kExitViolation;
}

}  // namespace rehearse::cli
