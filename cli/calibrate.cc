// `rehearse calibrate --primary DSN [--replica DSN]... [--rows N] [--budget 2m] [--table SCHEMA.TABLE]
// --out FILE [--json]` (../shared/spec/calibration.md, docs/calibration.md): measures a cost
// profile on a real PostgreSQL (real_backends/calibrate.h) and writes it to FILE; with --table the
// scratch table has that table's shape (core/table_shape.h). Exit codes: 0 written, 2 bad input (a
// replica as --primary, a bad --budget, no such --table or a column type the scenario model
// lacks), 3 environment (unreachable, budget exhausted).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands_internal.h"
#include "real_backends/calibrate.h"
#include "scenarios/loader.h"

namespace rehearse::cli {
namespace {

struct CalibrateCommandOptions {
  std::string primary;
  std::vector<std::string> replicas;
  std::int64_t rows = 200'000;
  std::string budget = "2m";
  std::string out;
  std::string table;  // SCHEMA.TABLE; empty = the built-in scratch table
  bool json = false;
};

nlohmann::json calibration_json(const live::CalibrationResult& result, const std::string& out) {
  nlohmann::json measures = nlohmann::json::array();
  for (const auto& m : result.measures) {
    measures.push_back({{"key", m.key}, {"median", m.median}, {"p10", m.p10}, {"p90", m.p90}, {"samples", m.samples}, {"how", m.how}});
  }
  nlohmann::json json = {{"out", out},         {"machine", result.machine}, {"date", result.date},
                         {"server_version", result.server_version},
                         {"rows", result.rows}, {"replicas", result.replicas}, {"wall_s", result.wall_s},
                         {"budget_s", result.budget_us / 1'000'000}, {"measures", measures}};
  if (const auto& table = result.table) {
    json["table"] = {{"name", table->name},
                     {"rows_estimate", table->rows_estimate ? nlohmann::json(*table->rows_estimate) : nlohmann::json()},
                     {"pages", table->pages},
                     {"columns", table->columns},
                     {"approximations", table->approximations}};
  }
  return json;
}

int calibrate_command(const CalibrateCommandOptions& options) {
  const std::optional<TimeUs> budget = parse_duration(options.budget);
  if (!budget || *budget <= 0) {
    std::cerr << "rehearse calibrate: --budget: expected a positive duration such as 2m or 90s, got '" << options.budget << "'\n";
    return kExitBadInput;
  }
  if (options.rows < 1000) {
    std::cerr << "rehearse calibrate: --rows: expected at least 1000 rows, got " << options.rows << "\n";
    return kExitBadInput;
  }
  live::CalibrateOptions calibrate_options{options.primary, options.replicas, options.rows, *budget, std::nullopt};
  if (!options.table.empty()) {
    std::string why;
    calibrate_options.table = parse_qualified_name(options.table, &why);
    if (!calibrate_options.table) {
      std::cerr << "rehearse calibrate: --table: " << why << ", got '" << options.table << "'\n";
      return kExitBadInput;
    }
  }
  // Before measuring: a profile that cannot be written is known at once.
  const std::filesystem::path out_dir = std::filesystem::path(options.out).parent_path();
  if (access(out_dir.empty() ? "." : out_dir.c_str(), W_OK) != 0) {
    std::cerr << "rehearse calibrate: cannot write " << options.out << ": its directory is missing or not writable\n";
    return kExitEnvironment;
  }
  const bool terminal = isatty(STDERR_FILENO) != 0;
  auto progress = [terminal](const std::string& line) {
    if (terminal) std::cerr << "\r\033[Kcalibrate: " << line << std::flush;
  };
  live::CalibrationResult result;
  try {
    result = live::calibrate(calibrate_options, progress);
  } catch (const live::CalibrationError& error) {
    if (terminal) std::cerr << "\r\033[K";
    std::cerr << "rehearse calibrate: " << error.what() << "\n";
    return error.exit_code();
  }
  if (terminal) std::cerr << "\r\033[K";
  std::ofstream file(options.out);
  file << live::calibration_profile_yaml(result);
  file.close();
  if (!file) {
    std::cerr << "rehearse calibrate: cannot write " << options.out << "\n";
    return kExitEnvironment;
  }
  if (options.json) {
    std::cout << calibration_json(result, options.out).dump(2) << "\n";
  } else {
    std::cout << fmt::format("calibrated PostgreSQL {} ({} replica(s), {} rows) in {:.1f} s; profile written to {}\n",
                             result.server_version, result.replicas, result.rows, result.wall_s, options.out);
    if (const auto& table = result.table) {
      std::cout << fmt::format("scratch table shaped like {} ({} columns)\n", table->name, table->columns);
      for (const std::string& line : table->approximations) std::cout << "  approximated: " << line << "\n";
    }
    for (const auto& m : result.measures) {
      std::cout << fmt::format("  {:<32} {:>10.3f}  ({:.3f}..{:.3f}, {} samples)\n", m.key, m.median, m.p10, m.p90, m.samples);
    }
  }
  return 0;
}

}  // namespace

void register_calibrate_command(CLI::App& app) {
  auto options = std::make_shared<CalibrateCommandOptions>();
  CLI::App* command = app.add_subcommand("calibrate", "Measure a cost profile on a real PostgreSQL (calibration.md)");
  command->add_option("--primary", options->primary, "libpq connection string of the primary")->required();
  command->add_option("--replica", options->replicas, "libpq connection string of a streaming replica (repeatable)");
  command->add_option("--rows", options->rows, "Rows of the scratch table (default 200000)");
  command->add_option("--budget", options->budget, "Longest the calibration may take (default 2m)");
  command->add_option("--table", options->table,
                      "SCHEMA.TABLE whose columns and pg_stats distributions the scratch table takes (no row is read)");
  command->add_option("--out", options->out, "Profile file to write")->required();
  command->add_flag("--json", options->json, "Print the measures as one JSON object");
  command->callback([options] {
    const int code = calibrate_command(*options);
    std::cout.flush();
    std::exit(code);
  });
}

}  // namespace rehearse::cli
