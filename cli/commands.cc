// The `rehearse` command line: the `run` and `list` subcommands, and the wiring point that
// registers every subcommand (sweep, merge, replay, check and plan live in their own files,
// see commands_internal.h) and dispatches to the one parsed.
#include "cli/commands.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands_internal.h"
#include "cli/live.h"
#include "cli/output.h"
#include "cli/version.h"
#include "reports/report.h"
#include "reports/run_json.h"
#include "scenarios/limits.h"
#include "scenarios/loader.h"

namespace rehearse::cli {

std::optional<std::uint64_t> parse_decimal(std::string_view text) {
  std::uint64_t value = 0;
  const bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!digits || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// CLI11 reads "-1" into an unsigned option as 2^64-1 and clamps 2^64 and beyond to 2^64-1: the
// text itself is checked, digits only, within range.
const CLI::Validator& unsigned_seed() {
  static const CLI::Validator validator(
      [](std::string& text) {
        return parse_decimal(text) ? std::string() : "a seed is an integer from 0 to 18446744073709551615, got " + text;
      },
      "SEED");
  return validator;
}

CLI::Validator unsigned_count(std::uint64_t max) {
  return CLI::Validator(
      [max](std::string& text) {
        const std::optional<std::uint64_t> value = parse_decimal(text);
        return value && *value >= 1 && *value <= max ? std::string()
                                                     : fmt::format("expected an integer from 1 to {}, got {}", max, text);
      },
      "N");
}

std::optional<std::uint64_t> parse_memory_size(std::string_view text) {
  const std::size_t digits = text.find_first_not_of("0123456789");
  const std::optional<std::uint64_t> number = parse_decimal(text.substr(0, digits));
  const std::string_view unit = digits == std::string_view::npos ? "" : text.substr(digits);
  int shift = -1;
  if (unit.empty() || unit == "B") shift = 0;
  if (unit == "KiB" || unit == "K") shift = 10;
  if (unit == "MiB" || unit == "M") shift = 20;
  if (unit == "GiB" || unit == "G") shift = 30;
  if (unit == "TiB" || unit == "T") shift = 40;
  if (!number || shift < 0 || *number > (std::numeric_limits<std::uint64_t>::max() >> shift)) return std::nullopt;
  return *number << shift;
}

namespace {

bool write_history(const std::string& path, const History& history) {
  std::ofstream out(path);
  if (!out) return false;
  for (const Event& event : history.events()) out << reports::event_object(event).dump() << "\n";
  return static_cast<bool>(out);
}

struct RunOptions {
  std::string scenario;
  std::optional<std::uint64_t> seed;
  bool json = false;
  std::string trace;
  std::string report;
  bool buggify = false;  // an extension: BUGGIFY fault points on (docs/coverage.md)
};

struct ReportOptions {
  std::string scenario;
  std::uint64_t seed = 1;
  std::string out;
};

int command_report(const ReportOptions& options) {
  std::optional<Scenario> scenario = load_or_report(options.scenario);
  if (!scenario) return kExitBadInput;
  const RunResult result = timed_simulation(*scenario, options.seed);
  print_run_text(std::cout, result, options.scenario);
  return write_postmortem(*scenario, options.seed, result, reports::default_reproduce_command(options.scenario, options.seed),
                          options.out);
}

int command_run(const RunOptions& options) {
  std::optional<Scenario> scenario = load_or_report(options.scenario);
  if (!scenario) return kExitBadInput;
  const std::uint64_t seed = options.seed.value_or(scenario->seed);
  if (options.buggify) scenario->buggify = true;
  RunResult result = timed_simulation(*scenario, seed);
  if (!options.trace.empty() && !write_history(options.trace, result.history)) {
    std::cerr << "rehearse: cannot write the trace to " << options.trace << "\n";
    return kExitEnvironment;
  }
  if (options.json) {
    std::cout << reports::run_object(result).dump(2) << "\n";
  } else {
    print_run_text(std::cout, result, options.scenario);
  }
  if (!options.report.empty()) {
    return write_postmortem(*scenario, seed, result, reports::default_reproduce_command(options.scenario, seed), options.report);
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
  app.set_version_flag("--version", std::string("rehearse ") + build_version(), "The build's version and commit");
  // Given before or after the subcommand (subcommands fall through to it).
  app.fallthrough();
  std::string memory_limit_text;
  app.add_option("--memory-limit", memory_limit_text,
                 "Refuse a scenario whose run is estimated to need more memory than SIZE (default 4GiB; "
                 "units B, KiB, MiB, GiB, TiB; 0 = no limit)")
      ->check(CLI::Validator(
          [](std::string& text) {
            return parse_memory_size(text) ? std::string() : "expected a size such as 8GiB or 512MiB, got " + text;
          },
          "SIZE"))
      // Set as soon as parsed: `live` runs inside the parse, from its callback.
      ->each([](const std::string& text) { set_memory_limit(parse_memory_size(text).value_or(kDefaultMemoryLimit)); });

  RunOptions run;
  CLI::App* run_command = app.add_subcommand("run", "One simulated run: prints the verdict and the migration outcome");
  run_command->add_option("scenario", run.scenario, "Scenario file, or the name of a built-in scenario")->required();
  run_command->add_option("--seed", run.seed, "Seed of the run (default: the scenario's seed)")->check(unsigned_seed());
  run_command->add_flag("--json", run.json, "Print the result as one JSON object (cli.md)");
  run_command->add_option("--trace", run.trace, "Write every event of the run to FILE, one JSON object a line");
  run_command->add_option("--report", run.report, "Also write the rehearsal postmortem into DIR (reports.md)");
  run_command->add_flag("--buggify", run.buggify, "Turn BUGGIFY fault points on (an extension; docs/coverage.md)");

  ReportOptions report;
  CLI::App* report_command = app.add_subcommand("report", "Writes a rehearsal postmortem of one seed (reports.md)");
  report_command->add_option("scenario", report.scenario, "Scenario file, or the name of a built-in scenario")->required();
  report_command->add_option("--seed", report.seed, "Seed of the run")->required()->check(unsigned_seed());
  report_command->add_option("--out", report.out, "Directory to write the report into")->required();

  SweepOptions sweep;
  CLI::App* sweep_command = add_sweep_command(app, sweep);
  MergeOptions merge;
  CLI::App* merge_command = add_merge_command(app, merge);
  ReplayOptions replay;
  CLI::App* replay_command = add_replay_command(app, replay);
  CheckOptions check;
  CLI::App* check_command = add_check_command(app, check);
  PlanOptions plan;
  CLI::App* plan_command = add_plan_command(app, plan);
  ShrinkOptions shrink;
  CLI::App* shrink_command = add_shrink_command(app, shrink);
  CLI::App* list_command = app.add_subcommand("list", "The built-in scenarios, one line each");
  register_live_command(app);
  register_calibrate_command(app);
  register_conform_command(app);
  register_import_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForVersion& version) {
    return app.exit(version);
  } catch (const CLI::ParseError& error) {
    app.exit(error);
    return kExitBadInput;
  }
  if (run_command->parsed()) return command_run(run);
  if (report_command->parsed()) return command_report(report);
  if (sweep_command->parsed()) return command_sweep(sweep);
  if (merge_command->parsed()) return command_merge(merge);
  if (replay_command->parsed()) return command_replay(replay);
  if (check_command->parsed()) return command_check(check);
  if (plan_command->parsed()) return command_plan(plan);
  if (shrink_command->parsed()) return command_shrink(shrink);
  if (list_command->parsed()) return command_list();
  return kExitBadInput;
}

}  // namespace rehearse::cli
