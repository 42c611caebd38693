// Subcommands of `rehearse`: parse arguments, load the scenario, run, print.
#include "cli/commands.h"

#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/output.h"
#include "core/plan.h"
#include "scenarios/loader.h"
#include "sim/world.h"

namespace rehearse::cli {

namespace {

constexpr int kExitPass = 0;
constexpr int kExitViolation = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitEnvironment = 3;

// Loads and validates a scenario named on the command line; prints the errors and returns
// nullopt when it cannot be run.
std::optional<Scenario> load_or_report(const std::string& argument) {
  LoadResult loaded = resolve_scenario(argument);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) std::cerr << "rehearse: " << error.to_string() << "\n";
    if (loaded.errors.empty()) std::cerr << "rehearse: " << argument << ": could not be loaded\n";
    return std::nullopt;
  }
  Result<MigrationPlan> plan = compile_plan(*loaded.scenario);
  if (!plan.is_ok()) {
    std::cerr << "rehearse: " << loaded.scenario->source_path << ": migration.operations: " << plan.status().message() << "\n";
    return std::nullopt;
  }
  return loaded.scenario;
}

RunResult timed_simulation(const Scenario& scenario, std::uint64_t seed) {
  const auto started = std::chrono::steady_clock::now();  // wall time for stats only, never inside the run
  RunResult result = sim::simulate(scenario, seed);
  result.stats.wall_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  return result;
}

bool write_history(const std::string& path, const History& history) {
  std::ofstream out(path);
  if (!out) return false;
  for (const Event& event : history.events()) out << event_json(event).dump() << "\n";
  return static_cast<bool>(out);
}

struct RunOptions {
  std::string scenario;
  std::optional<std::uint64_t> seed;
  bool json = false;
  std::string trace;
};

int command_run(const RunOptions& options) {
  std::optional<Scenario> scenario = load_or_report(options.scenario);
  if (!scenario) return kExitBadInput;
  const std::uint64_t seed = options.seed.value_or(scenario->seed);
  RunResult result = timed_simulation(*scenario, seed);
  if (!options.trace.empty() && !write_history(options.trace, result.history)) {
    std::cerr << "rehearse: cannot write the trace to " << options.trace << "\n";
    return kExitEnvironment;
  }
  if (options.json) {
    std::cout << run_json(result).dump(2) << "\n";
  } else {
    print_run_text(std::cout, result, options.scenario);
  }
  return result.violated() ? kExitViolation : kExitPass;
}

int command_list() {
  for (const auto& [name, summary] : list_builtin_scenarios()) std::cout << fmt::format("{:<32} {}\n", name, summary);
  return kExitPass;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rehearse: deterministic simulation and chaos rehearsal of zero-downtime database migrations"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Help for every subcommand");

  RunOptions run;
  CLI::App* run_command = app.add_subcommand("run", "One simulated run: prints the verdict and the migration outcome");
  run_command->add_option("scenario", run.scenario, "Scenario file, or the name of a built-in scenario")->required();
  run_command->add_option("--seed", run.seed, "Seed of the run (default: the scenario's seed)");
  run_command->add_flag("--json", run.json, "Print the result as one JSON object (cli.md)");
  run_command->add_option("--trace", run.trace, "Write every event of the run to FILE, one JSON object a line");

  CLI::App* list_command = app.add_subcommand("list", "The built-in scenarios, one line each");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& error) {
    app.exit(error);
    return kExitBadInput;
  }
  if (run_command->parsed()) return command_run(run);
  if (list_command->parsed()) return command_list();
  return kExitBadInput;
}

}  // namespace rehearse::cli
