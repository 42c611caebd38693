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
#include "cli/merge_input.h"

namespace rehearse::cli {

namespace {

std::optional<MergeInput> read_input(const std::string& file) {
  std::ifstream in(file);
  if (!in) {
    std::cerr << "rehearse: " << file << ": cannot be read\n";
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  std::variant<MergeInput, std::string> input = parse_merge_input(text.str(), file);
  if (auto* problem = std::get_if<std::string>(&input)) {
    std::cerr << "rehearse: " << *problem << "\n";
    return std::nullopt;
  }
  return std::move(std::get<MergeInput>(input));
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
