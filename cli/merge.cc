// `rehearse merge FILE...`: merges the `sweep --json` outputs of several shards (or seed
// ranges) of one scenario into one summary of the same shape: violating seeds united and
// sorted, by_invariant merged, seeds_run and wall_ms summed. Text by default, the sweep --json
// object with --json. Inputs are bounded: nesting (before the JSON parser recurses), size, and
// every sum is checked for overflow.
#include <fstream>
#include <iostream>
#include <limits>
#include <set>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands_internal.h"
#include "cli/merge_input.h"
#include "scenarios/yaml_input.h"

namespace rehearse::cli {

namespace {

constexpr std::size_t kMaxInputBytes = std::size_t{1} << 30;  // 10 million seeds take about 100 MB

std::optional<std::string> read_bounded(const std::string& file) {
  std::string problem;
  std::optional<std::string> text = read_bounded_file(file, kMaxInputBytes, "a sweep summary", &problem);
  if (!text) std::cerr << "rehearse: " << file << ": " << problem << "\n";
  return text;
}

std::optional<MergeInput> read_input(const std::string& file) {
  const std::optional<std::string> text = read_bounded(file);
  if (!text) return std::nullopt;
  std::variant<MergeInput, std::string> input = parse_merge_input(*text, file);
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

// Adds `value` to `*total`; false (and *overflowed names the field) when the sum does not fit.
template <class T> bool add_checked(T* total, T value, const char* field, std::string* overflowed) {
  if (!__builtin_add_overflow(*total, value, total)) return true;
  if (overflowed->empty()) *overflowed = field;
  return false;
}

// The merged summary, or nullopt after reporting a sum that does not fit its type.
std::optional<SweepSummary> merge_summaries(const std::vector<MergeInput>& inputs) {
  SweepSummary merged;
  merged.scenario = inputs.front().summary.scenario;
  std::set<std::uint64_t> violating;
  std::map<std::string, std::set<std::uint64_t>> by_invariant;
  std::string overflowed;
  for (const MergeInput& input : inputs) {
    add_checked(&merged.seeds_run, input.summary.seeds_run, "seeds_run", &overflowed);
    add_checked(&merged.wall_ms, input.summary.wall_ms, "wall_ms", &overflowed);
    violating.insert(input.summary.violating_seeds.begin(), input.summary.violating_seeds.end());
    for (const auto& [invariant, seeds] : input.summary.by_invariant) by_invariant[invariant].insert(seeds.begin(), seeds.end());
    // Shards cover disjoint seeds, so per-probe seed counts add up like hits do.
    for (std::size_t i = 0; i < kProbeCount; ++i) {
      add_checked(&merged.probes[i].seeds, input.summary.probes[i].seeds, "probes.seeds", &overflowed);
      add_checked(&merged.probes[i].hits, input.summary.probes[i].hits, "probes.hits", &overflowed);
    }
    merged.buggify = merged.buggify || input.summary.buggify;
    for (std::size_t i = 0; i < kFaultSiteCount; ++i) {
      add_checked(&merged.sites[i].enabled_seeds, input.summary.sites[i].enabled_seeds, "buggify.enabled_seeds", &overflowed);
      add_checked(&merged.sites[i].fired_seeds, input.summary.sites[i].fired_seeds, "buggify.fired_seeds", &overflowed);
      add_checked(&merged.sites[i].fires, input.summary.sites[i].fires, "buggify.fires", &overflowed);
    }
  }
  if (!overflowed.empty()) {
    std::cerr << fmt::format("rehearse: the merged \"{}\" does not fit a 64-bit count (the inputs' values sum past {}); "
                             "these are not the summaries of real sweeps\n",
                             overflowed, overflowed.find("seeds") != std::string::npos
                                             ? std::numeric_limits<std::uint64_t>::max()
                                             : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
    return std::nullopt;
  }
  merged.violating_seeds.assign(violating.begin(), violating.end());
  for (const auto& [invariant, seeds] : by_invariant) merged.by_invariant[invariant].assign(seeds.begin(), seeds.end());
  return merged;
}

void print_merge_text(std::ostream& out, const SweepSummary& merged, const std::vector<MergeInput>& inputs,
                      const nlohmann::json& json) {
  std::string covered = fmt::format("{} file{}", inputs.size(), inputs.size() == 1 ? "" : "s");
  if (json.contains("shards")) {
    covered += fmt::format(", shards {} of {}", fmt::join(json["shards"]["merged"].get<std::vector<std::uint64_t>>(), ","),
                           json["shards"]["count"].get<std::uint64_t>());
  }
  out << fmt::format("merge {} ({}{}): {} seeds run, {} violating, {} ms wall (summed)\n", merged.scenario, covered,
                     merged.buggify ? ", buggify on" : "", merged.seeds_run, merged.violating_seeds.size(), merged.wall_ms);
  if (merged.violating_seeds.empty()) out << "no invariant violated\n";
  for (const auto& [invariant, seeds] : merged.by_invariant) {
    out << fmt::format("{} ({} seed{}):\n", invariant, seeds.size(), seeds.size() == 1 ? "" : "s");
    for (const std::uint64_t seed : seeds) out << "  " << reproduce_command(merged.scenario, seed) << "\n";
  }
  print_coverage_text(out, merged);
}

}  // namespace

CLI::App* add_merge_command(CLI::App& app, MergeOptions& options) {
  CLI::App* command = app.add_subcommand("merge", "Merges the `sweep --json` outputs of shards of one scenario into one summary");
  command->add_option("files", options.files, "Files holding `rehearse sweep --json` output")->required();
  command->add_flag("--json", options.json, "Print the merged summary as one JSON object (the sweep --json object, cli.md)");
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
  const std::optional<SweepSummary> merged = merge_summaries(inputs);
  if (!merged) return kExitBadInput;
  nlohmann::json json = summary_json(*merged);
  describe_coverage(inputs, json);
  if (options.json) {
    std::cout << json.dump(2) << "\n";
  } else {
    print_merge_text(std::cout, *merged, inputs, json);
  }
  return merged->violating_seeds.empty() ? kExitPass : kExitViolation;
}

}  // namespace rehearse::cli
