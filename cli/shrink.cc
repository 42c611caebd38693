// `rehearse shrink SCENARIO --seed N [--out FILE] [--json] [--invariant NAME] [--max-runs N]`:
// turns a violating seed into a small explicit fault schedule that still violates the same
// invariant with the same seed (sweep/shrink.h), and writes it as a scenario file (docs/cli.md,
// "shrink").
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands_internal.h"
#include "core/checkers.h"
#include "core/duration.h"
#include "scenarios/scenario_yaml.h"
#include "sweep/shrink.h"

namespace rehearse::cli {

namespace {

using sweep::PassReport;
using sweep::ShrinkOutcome;

nlohmann::json outcome_json(const Scenario& original, const ShrinkOutcome& outcome, std::uint64_t seed,
                            const std::string& out_path, std::int64_t wall_ms) {
  nlohmann::json passes = nlohmann::json::array();
  for (const PassReport& pass : outcome.passes) {
    passes.push_back({{"name", pass.name}, {"faults_before", pass.faults_before}, {"faults_after", pass.faults_after},
                      {"runs", pass.runs}});
  }
  nlohmann::json faults = nlohmann::json::array();
  for (const FaultSpec& fault : outcome.faults) faults.push_back(fault_yaml(fault));
  nlohmann::json json = {
      {"scenario", original.name},
      {"seed", seed},
      {"invariant", outcome.invariant},
      {"invariant_chosen_by", outcome.by_severity ? "severity" : "flag"},
      {"violated", outcome.violated},
      {"faults_before", outcome.original.faults.size()},
      {"faults_written", outcome.original.written},
      {"faults_drawn", outcome.original.drawn},
      {"faults_after", outcome.faults.size()},
      {"faults", faults},
      {"violation",
       {{"invariant", outcome.violation.invariant}, {"time_ms", outcome.violation.time_us / kMs},
        {"node", outcome.violation.node}, {"detail", outcome.violation.detail}}},
      {"runs", outcome.runs},
      {"budget_exhausted", outcome.exhausted},
      {"verified", outcome.verified},
      {"buggify", outcome.buggify},
      {"passes", passes},
      {"wall_ms", wall_ms},
  };
  json["out"] = out_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(out_path);
  if (out_path.empty()) json["yaml"] = outcome.yaml;
  return json;
}

// Which invariant is shrunk and why: "violated: availability, mutual-exclusion; shrinking
// mutual-exclusion, the most severe (--invariant NAME picks another)".
std::string choice_text(const ShrinkOutcome& outcome) {
  std::string names;
  for (const std::string& name : outcome.violated) names += (names.empty() ? "" : ", ") + name;
  return fmt::format("violated: {}; shrinking {}{}", names, outcome.invariant,
                     outcome.by_severity ? ", the most severe (--invariant NAME picks another)" : " (--invariant)");
}

void print_summary(std::ostream& out, const Scenario& original, const ShrinkOutcome& outcome, std::uint64_t seed,
                   const std::string& out_path, std::int64_t wall_ms) {
  out << fmt::format("shrink {} seed {}: {}\n", original.name, seed, outcome.invariant);
  out << choice_text(outcome) << "\n";
  out << fmt::format("schedule: {} written + {} drawn by random_faults = {} faults\n", outcome.original.written,
                     outcome.original.drawn, outcome.original.faults.size());
  out << fmt::format("result: {} fault{} (from {}) in {} runs, {} ms wall{}\n", outcome.faults.size(),
                     outcome.faults.size() == 1 ? "" : "s", outcome.original.faults.size(), outcome.runs, wall_ms,
                     outcome.exhausted ? " (run budget spent: --max-runs)" : "");
  for (const FaultSpec& fault : outcome.faults) out << "  - " << fault_yaml(fault) << "\n";
  out << fmt::format("still {} at {} on {}: {}\n", outcome.violation.invariant,
                     duration_text(outcome.violation.time_us, DurationStyle::clock), outcome.violation.node,
                     outcome.violation.detail);
  if (!outcome.verified) out << "warning: the written scenario, loaded back, did not reproduce the violation\n";
  if (!out_path.empty()) {
    out << fmt::format("wrote {}\n", out_path);
    out << fmt::format("reproduce: rehearse run {} --seed {}\n", out_path, seed);
  }
}

}  // namespace

CLI::App* add_shrink_command(CLI::App& app, ShrinkOptions& options) {
  CLI::App* command = app.add_subcommand(
      "shrink", "Turns a violating seed into a small explicit fault schedule that still violates the same invariant");
  command->add_option("scenario", options.scenario, "Scenario file, or the name of a built-in scenario")->required();
  command->add_option("--seed", options.seed, "The violating seed")->required()->check(unsigned_seed());
  command->add_option("--out", options.out, "Write the shrunk scenario to FILE (default: stdout)");
  command->add_flag("--json", options.json, "Print a JSON summary on stdout (an extension; docs/cli.md)");
  command
      ->add_option("--invariant", options.invariant,
                   "The invariant to keep violating (default: the most severe the seed violates)")
      ->check(CLI::Validator(
          [](std::string& name) {
            return is_invariant_name(name) ? std::string() : "not an invariant name (docs/cli.md, shrink): " + name;
          },
          "INVARIANT"));
  command->add_option("--max-runs", options.max_runs, "At most this many simulated runs (default 1000)")
      ->check(CLI::Range(1, 1000000));
  return command;
}

int command_shrink(const ShrinkOptions& options) {
  const auto started = std::chrono::steady_clock::now();  // wall time for the summary only
  std::optional<Scenario> scenario = load_or_report(options.scenario);
  if (!scenario) return kExitBadInput;
  ShrinkOutcome outcome = sweep::choose_invariant(*scenario, options.seed, options.invariant);
  if (!outcome.seed_violates) {
    std::cout << fmt::format("shrink {} seed {}: {} violated; nothing to shrink\n", scenario->name, options.seed,
                             options.invariant.empty() ? "no invariant" : options.invariant + " not");
    return kExitPass;
  }
  std::ofstream file;
  if (!options.out.empty()) {
    file.open(options.out);
    if (!file) {
      std::cerr << "rehearse: cannot write the shrunk scenario to " << options.out << "\n";
      return kExitEnvironment;
    }
  }
  std::cerr << "shrink: " << choice_text(outcome) << "\n";
  if (!sweep::shrink_seed(*scenario, options.seed, options.max_runs, options.out, std::cerr, outcome)) {
    std::cerr << fmt::format("rehearse: seed {}'s explicit schedule of {} faults does not violate {} (a determinism "
                             "bug: please report it); nothing written\n",
                             options.seed, outcome.original.faults.size(), outcome.invariant);
    return kExitViolation;
  }
  if (file.is_open()) {
    file << outcome.yaml;
    file.close();
    if (!file) {
      std::cerr << "rehearse: cannot write the shrunk scenario to " << options.out << "\n";
      return kExitEnvironment;
    }
  }
  const std::int64_t wall_ms = elapsed_ms(started);
  if (options.json) {
    std::cout << outcome_json(*scenario, outcome, options.seed, options.out, wall_ms).dump(2) << "\n";
  } else if (options.out.empty()) {
    std::cout << outcome.yaml;
    print_summary(std::cerr, *scenario, outcome, options.seed, options.out, wall_ms);
  } else {
    print_summary(std::cout, *scenario, outcome, options.seed, options.out, wall_ms);
  }
  return kExitViolation;
}

}  // namespace rehearse::cli
