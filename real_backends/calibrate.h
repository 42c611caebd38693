// `rehearse calibrate` (../shared/spec/calibration.md, docs/calibration.md): measures what the
// simulated database's cost profile holds on a real PostgreSQL primary (and its streaming
// replicas), inside its own schema `rehearse_calibration`, which it drops at the end.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/table_shape.h"

namespace rehearse::live {

inline constexpr const char* kCalibrationSchema = "rehearse_calibration";

struct CalibrateOptions {
  std::string primary;                // libpq connection string
  std::vector<std::string> replicas;  // libpq connection strings
  std::int64_t rows = 200'000;        // rows of the scratch table
  std::int64_t budget_us = 120'000'000;
  // --table: the scratch table takes this table's columns and value distributions (read from
  // the catalog and pg_stats, core/table_shape.h), filled with `rows` rows drawn from them.
  std::optional<QualifiedName> table;
};

// Where the scratch table's shape came from (--table).
struct CalibrationTable {
  std::string name;                         // SQL spelling, schema-qualified
  std::optional<std::int64_t> rows_estimate;  // pg_class.reltuples; nullopt: never analyzed
  std::int64_t pages = 0;
  int columns = 0;
  std::vector<std::string> approximations;  // describe_approximations()
};

// One profile value: the median of its samples and their spread.
struct CalibrationMeasure {
  std::string key;   // a profile key; "update_per_row_us.N" for the batch size N
  double median = 0;
  double p10 = 0;
  double p90 = 0;
  int samples = 0;
  std::string how;   // what was timed
};

struct CalibrationResult {
  std::vector<CalibrationMeasure> measures;  // in cost_profile_keys() order
  std::string server_version;                // the primary's
  std::string machine;                       // host name, CPU model, cores
  std::string date;                          // UTC, ISO 8601
  std::int64_t rows = 0;
  std::int64_t budget_us = 0;
  double wall_s = 0;
  int replicas = 0;
  std::optional<CalibrationTable> table;  // with --table
};

// Why calibration stopped: exit_code 2 (bad input, e.g. a replica given as the primary, a --table
// that does not exist or has a column type the scenario model lacks) or 3
// (environment: unreachable server, budget exhausted, a statement failed). The schema is dropped.
class CalibrationError : public std::runtime_error {
 public:
  CalibrationError(int exit_code, const std::string& message) : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Runs the measurements; `progress` is told what is being measured (for a terminal line).
CalibrationResult calibrate(const CalibrateOptions& options, const std::function<void(const std::string&)>& progress);

// The profile file: every key with its median, its spread as a comment, and the machine, date
// and server version as comments. Loads with scenarios/costs.h's load_cost_profile_file.
std::string calibration_profile_yaml(const CalibrationResult& result);

}  // namespace rehearse::live
