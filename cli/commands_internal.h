// Shared by the subcommand files of cli/ (run and list in commands.cc, sweep.cc, merge.cc,
// replay.cc, check.cc, plan.cc): the exit codes of cli.md, loading a scenario with error
// reports, timed runs, the terminal progress line of the seed runner (sweep/runner.h) and JUnit
// output. Each subcommand has an options struct, an `add_*_command` that declares its flags on
// the CLI11 app, and a `command_*` that runs it; commands.cc wires them together. What the
// commands compute over many seeds (running them, summing them up, merging, shrinking) is
// sweep/'s.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model.h"
#include "core/run_result.h"
#include "sweep/runner.h"
#include "sweep/summary.h"

namespace CLI {
class App;
class Validator;
}

namespace rehearse::cli {

constexpr int kExitPass = 0;
constexpr int kExitViolation = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitEnvironment = 3;

// --seed: CLI11 would read "-1" into an unsigned seed as 2^64-1 and clamp 2^64 to 2^64-1; a seed
// is written in decimal digits, without a sign, below 2^64.
const CLI::Validator& unsigned_seed();
// A count from 1 to `max`, in decimal digits (--count).
CLI::Validator unsigned_count(std::uint64_t max);
// Decimal digits only, below 2^64; nullopt otherwise.
std::optional<std::uint64_t> parse_decimal(std::string_view text);
// "8GiB", "512MiB", "1048576" (bytes); nullopt when malformed or past 2^64-1 bytes.
std::optional<std::uint64_t> parse_memory_size(std::string_view text);

// Loads and validates a scenario named on the command line (a file or a built-in name) and
// compiles its plan; prints the errors on stderr and returns nullopt when it cannot be run.
std::optional<Scenario> load_or_report(const std::string& argument);

// Runs one seed and fills stats.wall_ms (measured outside the simulated run).
RunResult timed_simulation(const Scenario& scenario, std::uint64_t seed);

// `rehearse run SCENARIO --seed N`: the command that reproduces one seed.
std::string reproduce_command(const std::string& scenario_argument, std::uint64_t seed);

// The seed runner, the summary of many seeds and its coverage live in sweep/ (sweep/runner.h,
// sweep/summary.h); the subcommands name them as their own.
using sweep::elapsed_ms;
using sweep::run_seeds;
using sweep::SeedOutcome;
using sweep::summarize;
using sweep::summary_json;
using sweep::SweepSummary;

// The `seeds done/total, violations, seeds/s, ETA` line on stderr, rewritten in place with
// \r. It prints only when stderr is a terminal; otherwise every call does nothing.
class ProgressLine final : public sweep::SeedProgress {
 public:
  explicit ProgressLine(std::string label);
  void update(std::size_t done, std::size_t total, std::size_t violating) override;
  // Erases the line (so the next output starts on a clean line).
  void finish() override;

 private:
  std::string label_;
  bool enabled_ = false;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_shown_;
  std::size_t width_ = 0;
};

// The coverage table of a sweep summary (cli/sweep.cc), printed by `sweep` and `merge`.
void print_coverage_text(std::ostream& out, const SweepSummary& summary);

// The JUnit XML of a sweep: one <testsuite> in a <testsuites>, one <testcase> per seed and a
// <failure> for each violating seed with its replay command.
std::string junit_xml(const SweepSummary& summary, const std::vector<SeedOutcome>& outcomes,
                      const std::string& scenario_argument);

struct SweepOptions {
  std::string scenario;
  std::string seeds;  // "A..B"
  std::optional<std::uint64_t> count;
  int jobs = 1;
  std::string shard;  // "K/N"
  bool json = false;
  std::string junit;
  bool buggify = false;  // --buggify: BUGGIFY fault points on for every seed
};
CLI::App* add_sweep_command(CLI::App& app, SweepOptions& options);
int command_sweep(const SweepOptions& options);

struct MergeOptions {
  std::vector<std::string> files;
  bool json = false;
};
CLI::App* add_merge_command(CLI::App& app, MergeOptions& options);
int command_merge(const MergeOptions& options);

struct ReplayOptions {
  std::string scenario;
  std::uint64_t seed = 0;
};
CLI::App* add_replay_command(CLI::App& app, ReplayOptions& options);
int command_replay(const ReplayOptions& options);

struct CheckOptions {
  std::vector<std::string> paths;
  int jobs = 1;
  bool json = false;
};
CLI::App* add_check_command(CLI::App& app, CheckOptions& options);
int command_check(const CheckOptions& options);

struct PlanOptions {
  std::string scenario;
  bool json = false;
};
CLI::App* add_plan_command(CLI::App& app, PlanOptions& options);
// `rehearse import` (cli/import.cc): exits from its callback.
void register_import_command(CLI::App& app);
int command_plan(const PlanOptions& options);

struct ShrinkOptions {
  std::string scenario;
  std::uint64_t seed = 0;
  std::string out;        // empty: the scenario goes to stdout
  bool json = false;
  std::string invariant;  // empty: the most severe invariant the seed violates (cli/shrink.cc)
  int max_runs = 1000;
};
CLI::App* add_shrink_command(CLI::App& app, ShrinkOptions& options);

// `calibrate` (calibrate.cc): when parsed, runs and exits the process with its exit code.
void register_calibrate_command(CLI::App& app);
// `conform` (conform.cc): when parsed, runs and exits the process with its exit code.
void register_conform_command(CLI::App& app);
int command_shrink(const ShrinkOptions& options);

// Runs the proposed fixes of `result` in simulation on the same seed and writes the postmortem
// into `directory`, naming `reproduce_command` as the way to reproduce the run; returns the
// exit code (3 when it cannot be written). `rehearse report`, `run --report` and `live --report`.
int write_postmortem(const Scenario& scenario, std::uint64_t seed, const RunResult& result, const std::string& reproduce_command,
                     const std::string& directory);

}  // namespace rehearse::cli
