// The `live` subcommand: loads a live config, runs (or dry-runs) the migration against real
// backends, prints the verdict like `run` does.
#include "cli/live.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <iterator>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands_internal.h"
#include "cli/output.h"
#include "core/plan.h"
#include "real_backends/engine_process.h"
#include "real_backends/live_lock.h"
#include "real_backends/live_runner.h"
#include "reports/report.h"
#include "reports/run_json.h"
#include "scenarios/scenario_yaml.h"
#include "sim/world.h"
#include "scenarios/live_config.h"
#include "scenarios/limits.h"
#include "scenarios/loader.h"

namespace rehearse::cli {

namespace {

live::LiveSetup setup_of(const LiveConfig& config) {
  live::LiveSetup setup{config.scenario, {}, config.lock_endpoints};
  for (const auto& region : config.regions) setup.regions.push_back(live::RegionEndpoints{region.name, region.primary, region.replicas});
  return setup;
}

int exit_for(const Status& status) {
  std::cerr << "rehearse live: " << status.message() << "\n";
  return status.is_unavailable() ? kExitEnvironment : kExitBadInput;
}

std::string this_executable() {
  char path[4096];
  const ssize_t length = ::readlink("/proc/self/exe", path, sizeof path - 1);
  return length > 0 ? std::string(path, static_cast<std::size_t>(length)) : std::string("rehearse");
}


}  // namespace

live::LiveOptions live_run_options(const std::string& engine_binary) {
  live::LiveOptions options;
  options.engine_binary = engine_binary;
  options.scenario_text = [](const Scenario& scenario) { return scenario_yaml(scenario, scenario.seed, History()); };
  return options;
}

int live_engine_command() {
  live::install_pause_point();  // before anything else: the runner may ask for a pause early
  const std::string text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  Result<live::EngineProcessSpec> spec = live::parse_engine_spec(text);
  if (!spec.is_ok()) {
    std::cerr << "rehearse live-engine: " << spec.status().message() << "\n";
    return live::kEngineExitBadSpec;
  }
  set_memory_limit(0);  // the runner checked the config under its own --memory-limit
  LoadResult loaded = load_scenario_text(spec.value().scenario_yaml, "<engine spec>");
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) std::cerr << "rehearse live-engine: " << error.to_string() << "\n";
    return live::kEngineExitBadSpec;
  }
  Result<MigrationPlan> plan = compile_plan(*loaded.scenario);
  if (!plan.is_ok()) {
    std::cerr << "rehearse live-engine: " << plan.status().message() << "\n";
    return live::kEngineExitBadSpec;
  }
  const live::LiveSetup setup{*loaded.scenario, spec.value().regions, spec.value().lock_endpoints};
  Status lock = live::check_lock_endpoints(setup.scenario.lock.backend,
                                           live::lock_store_endpoints(setup.scenario, setup.regions, setup.lock_endpoints));
  if (!lock.is_ok()) {
    std::cerr << "rehearse live-engine: " << lock.message() << "\n";
    return live::kEngineExitBadSpec;
  }
  return live::run_engine_process(setup, plan.value(), spec.value().instance, spec.value().incarnation, spec.value().start_ns,
                                  spec.value().monitor_path);
}

int live_command(const LiveOptions& options) {
  LiveConfigResult loaded = load_live_config_file(options.config);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) std::cerr << error.to_string() << "\n";
    return kExitBadInput;
  }
  Result<MigrationPlan> plan = compile_plan(loaded.config->scenario);
  if (!plan.is_ok()) return exit_for(plan.status());
  const live::LiveSetup setup = setup_of(*loaded.config);
  Status supported = live::check_supported(setup);
  if (!supported.is_ok()) return exit_for(supported);
  if (options.dry_run) {
    Status shown = live::dry_run(setup, plan.value(), options.prepare, std::cout);
    return shown.is_ok() ? kExitPass : exit_for(shown);
  }
  live::LiveOptions run_options = live_run_options(this_executable());
  run_options.prepare = options.prepare;
  run_options.log = &std::cerr;
  Result<RunResult> result = live::run_live(setup, plan.value(), run_options);
  if (!result.is_ok()) return exit_for(result.status());
  if (options.json) {
    std::cout << reports::run_object(result.value()).dump(2) << "\n";
  } else {
    print_run_text(std::cout, result.value(), options.config, /*live=*/true);
  }
  if (!options.report_dir.empty()) {
    // Proposed fixes are verified in simulation on the same seed: a live re-run would migrate
    // the real table again.
    return write_postmortem(setup.scenario, setup.scenario.seed, result.value(),
                            fmt::format("rehearse live {} --report {}", options.config, options.report_dir), options.report_dir);
  }
  return result.value().violated() ? kExitViolation : kExitPass;
}

void register_live_command(CLI::App& app) {
  auto options = std::make_shared<LiveOptions>();
  CLI::App* command = app.add_subcommand("live", "The migration against real PostgreSQL and Redis (live.md)");
  command->add_option("config", options->config, "Live config file (a scenario with real endpoints)")->required();
  command->add_flag("--prepare", options->prepare, "Create and fill the table where it is absent");
  command->add_flag("--dry-run", options->dry_run, "Connect, check and print the plan; change nothing");
  command->add_flag("--json", options->json, "Print the run --json object");
  command->add_option("--report", options->report_dir, "Write the postmortem of the live run into DIR (reports.md)");
  command->callback([options] {
    const int code = live_command(*options);
    std::cout.flush();
    std::exit(code);
  });
  CLI::App* engine = app.add_subcommand("live-engine", "One engine process of a live run (internal)");
  engine->group("");  // hidden: the runner starts it, people do not
  engine->callback([] {
    const int code = live_engine_command();
    std::cout.flush();
    std::exit(code);
  });
}

}  // namespace rehearse::cli
