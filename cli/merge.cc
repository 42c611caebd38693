// `rehearse merge FILE...`: merges the `sweep --json` outputs of several shards (or seed
// ranges) of one scenario into one summary of the same shape (sweep/merge.h). Text by default,
// the sweep --json object with --json. Inputs are bounded: nesting (before the JSON parser
// recurses, sweep/merge_input.h), size (here), and every sum is checked for overflow.
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands_internal.h"
#include "scenarios/yaml_input.h"
#include "sweep/merge.h"

namespace rehearse::cli {

namespace {

constexpr std::size_t kMaxInputBytes = std::size_t{1} << 30;  // 10 million seeds take about 100 MB

std::optional<std::string> read_bounded(const std::string& file) {
  std::string problem;
  std::optional<std::string> text = read_bounded_file(file, kMaxInputBytes, "a sweep summary", &problem);
  if (!text) std::cerr << "rehearse: " << file << ": " << problem << "\n";
  return text;
}

std::optional<sweep::MergeInput> read_input(const std::string& file) {
  const std::optional<std::string> text = read_bounded(file);
  if (!text) return std::nullopt;
  std::variant<sweep::MergeInput, std::string> input = sweep::parse_merge_input(*text, file);
  if (auto* problem = std::get_if<std::string>(&input)) {
    std::cerr << "rehearse: " << *problem << "\n";
    return std::nullopt;
  }
  return std::move(std::get<sweep::MergeInput>(input));
}

void print_merge_text(std::ostream& out, const SweepSummary& merged, const std::vector<sweep::MergeInput>& inputs,
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
  std::vector<sweep::MergeInput> inputs;
  for (const std::string& file : options.files) {
    std::optional<sweep::MergeInput> input = read_input(file);
    if (!input) return kExitBadInput;
    inputs.push_back(std::move(*input));
  }
  if (const std::string problem = sweep::merge_problem(inputs); !problem.empty()) {
    std::cerr << "rehearse: " << problem << "\n";
    return kExitBadInput;
  }
  const std::variant<SweepSummary, std::string> merged_or_problem = sweep::merge_summaries(inputs);
  if (const auto* problem = std::get_if<std::string>(&merged_or_problem)) {
    std::cerr << "rehearse: " << *problem << "\n";
    return kExitBadInput;
  }
  const SweepSummary* merged = &std::get<SweepSummary>(merged_or_problem);
  nlohmann::json json = summary_json(*merged);
  if (const std::string warning = sweep::describe_coverage(inputs, json); !warning.empty()) {
    std::cerr << "rehearse: " << warning << "\n";
  }
  if (options.json) {
    std::cout << json.dump(2) << "\n";
  } else {
    print_merge_text(std::cout, *merged, inputs, json);
  }
  return merged->violating_seeds.empty() ? kExitPass : kExitViolation;
}

}  // namespace rehearse::cli
