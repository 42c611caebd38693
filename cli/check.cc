// `rehearse check [PATH...]`: the CI gate. Runs every scenario's `expect:` over its seed
// budget and says, per scenario, whether the expectation was met (sweep/expect.h judges it).
#include <algorithm>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands_internal.h"
#include "scenarios/loader.h"
#include "sweep/expect.h"

namespace rehearse::cli {

namespace {

constexpr std::size_t kSeedsListed = 5;

struct CheckTarget {
  std::string argument;  // as it would be given to `rehearse run`
  Scenario scenario;
};

struct CheckResult {
  std::string argument;
  Scenario scenario;
  SweepSummary summary;
  std::vector<std::string> seen;     // invariants violated by some seed, sorted
  std::vector<std::string> missing;  // expected invariants never seen
  bool met = false;
};

// Every *.yaml file directly in `directory`, sorted by name.
std::vector<std::string> scenario_files(const std::filesystem::path& directory) {
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    if (entry.is_regular_file(error) && entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The scenario arguments named by the command line: built-ins when `paths` is empty.
std::optional<std::vector<std::string>> expand_paths(const std::vector<std::string>& paths) {
  std::vector<std::string> arguments;
  if (paths.empty()) {
    for (const auto& [name, summary] : list_builtin_scenarios()) arguments.push_back(name);
  }
  for (const std::string& path : paths) {
    std::error_code error;
    if (!std::filesystem::is_directory(path, error)) {
      arguments.push_back(path);
      continue;
    }
    std::vector<std::string> files = scenario_files(path);
    if (files.empty()) {
      std::cerr << "rehearse: " << path << ": no *.yaml scenario files in this directory\n";
      return std::nullopt;
    }
    arguments.insert(arguments.end(), files.begin(), files.end());
  }
  return arguments;
}

// Loads every scenario (reporting every load error); nullopt when any fails to load.
std::optional<std::vector<CheckTarget>> load_targets(const std::vector<std::string>& paths) {
  std::optional<std::vector<std::string>> arguments = expand_paths(paths);
  if (!arguments) return std::nullopt;
  std::vector<CheckTarget> targets;
  bool all_loaded = true;
  for (const std::string& argument : *arguments) {
    std::optional<Scenario> scenario = load_or_report(argument);
    if (scenario) {
      targets.push_back(CheckTarget{argument, std::move(*scenario)});
    } else {
      all_loaded = false;
    }
  }
  if (!all_loaded) return std::nullopt;
  return targets;
}

CheckResult check_one(const CheckTarget& target, int jobs) {
  ProgressLine progress(target.scenario.name);
  sweep::ExpectationResult judged = sweep::check_expectation(target.scenario, jobs, &progress);
  return CheckResult{target.argument,           target.scenario,          std::move(judged.summary),
                     std::move(judged.seen),    std::move(judged.missing), judged.met};
}

std::string expectation_text(const ExpectSpec& expect) {
  if (expect.verdict == Verdict::pass || expect.invariants.empty()) return fmt::format("expected {}", to_string(expect.verdict));
  return fmt::format("expected {} [{}]", to_string(expect.verdict), fmt::join(expect.invariants, ", "));
}

std::string result_line(const CheckResult& result) {
  const std::vector<std::uint64_t>& violating = result.summary.violating_seeds;
  std::string line = fmt::format("{}  {}  {}: {} seeds, {} violating", result.met ? "PASS" : "FAIL", result.scenario.name,
                                 expectation_text(result.scenario.expect), result.summary.seeds_run, violating.size());
  if (!violating.empty()) {
    const std::size_t listed = std::min(violating.size(), kSeedsListed);
    line += fmt::format(" (seeds {}{})", fmt::join(violating.begin(), violating.begin() + static_cast<std::ptrdiff_t>(listed), ", "),
                        violating.size() > listed ? ", ..." : "");
  }
  if (!result.seen.empty()) line += fmt::format("; seen {}", fmt::join(result.seen, ", "));
  if (!result.missing.empty()) line += fmt::format("; missing {}", fmt::join(result.missing, ", "));
  if (!result.met && !violating.empty()) line += "; replay: " + reproduce_command(result.argument, violating.front());
  return line;
}

nlohmann::json result_json(const CheckResult& result) {
  const ExpectSpec& expect = result.scenario.expect;
  return {{"name", result.scenario.name},
          {"source", result.scenario.source_path},
          {"expected", to_string(expect.verdict)},
          {"expected_invariants", expect.invariants},
          {"met", result.met},
          {"seeds_run", result.summary.seeds_run},
          {"violating_seeds", result.summary.violating_seeds},
          {"invariants_seen", result.seen},
          {"wall_ms", result.summary.wall_ms}};
}

void print_summary(std::ostream& out, const std::vector<CheckResult>& results) {
  std::vector<std::string> failed;
  for (const CheckResult& result : results) {
    if (!result.met) failed.push_back(result.scenario.name);
  }
  if (failed.empty()) {
    out << fmt::format("check: all {} expectations met\n", results.size());
  } else {
    out << fmt::format("check: {} of {} expectations met; not met: {}\n", results.size() - failed.size(),
                       results.size(), fmt::join(failed, ", "));
  }
}

}  // namespace

CLI::App* add_check_command(CLI::App& app, CheckOptions& options) {
  CLI::App* command = app.add_subcommand(
      "check", "Runs every scenario's `expect:` over its seed budget (default: the built-in library); the CI gate");
  command->add_option("paths", options.paths,
                      "Scenario files, directories (every *.yaml in them) or built-in names; none = every built-in");
  command->add_option("--jobs", options.jobs, "Run seeds on J threads")->check(CLI::Range(1, 1024));
  command->add_flag("--json", options.json, "Print a JSON array with one object per scenario (text goes to stderr)");
  return command;
}

int command_check(const CheckOptions& options) {
  std::optional<std::vector<CheckTarget>> targets = load_targets(options.paths);
  if (!targets) return kExitBadInput;
  std::ostream& text = options.json ? std::cerr : std::cout;
  std::vector<CheckResult> results;
  nlohmann::json json = nlohmann::json::array();
  for (const CheckTarget& target : *targets) {
    results.push_back(check_one(target, options.jobs));
    text << result_line(results.back()) << std::endl;
    json.push_back(result_json(results.back()));
  }
  print_summary(text, results);
  if (options.json) std::cout << json.dump(2) << "\n";
  const bool all_met = std::all_of(results.begin(), results.end(), [](const CheckResult& result) { return result.met; });
  return all_met ? kExitPass : kExitViolation;
}

}  // namespace rehearse::cli
