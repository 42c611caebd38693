// Running scenarios for the subcommands: loading with error reports, timed single runs and the
// terminal progress line of the seed runner (sweep/runner.h).
#include <algorithm>
#include <cstdio>
#include <iostream>

#include <fmt/format.h>
#include <unistd.h>

#include "cli/commands_internal.h"
#include "core/plan.h"
#include "scenarios/loader.h"
#include "sim/world.h"

namespace rehearse::cli {

std::optional<Scenario> load_or_report(const std::string& argument) {
  LoadResult loaded = resolve_scenario(argument);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) std::cerr << "rehearse: " << error.to_string() << "\n";
    if (loaded.errors.empty()) std::cerr << "rehearse: " << argument << ": could not be loaded\n";
    return std::nullopt;
  }
  Result<MigrationPlan> plan = compile_plan(*loaded.scenario);
  if (!plan.is_ok()) {
    std::cerr << "rehearse: " << loaded.scenario->source_path << ": migration.operations: " << plan.status().message()
              << "\n";
    return std::nullopt;
  }
  return loaded.scenario;
}

RunResult timed_simulation(const Scenario& scenario, std::uint64_t seed) {
  const auto started = std::chrono::steady_clock::now();  // wall time for stats only, never inside the run
  RunResult result = sim::simulate(scenario, seed);
  result.stats.wall_ms = elapsed_ms(started);
  return result;
}

std::string reproduce_command(const std::string& scenario_argument, std::uint64_t seed) {
  return fmt::format("rehearse run {} --seed {}", scenario_argument, seed);
}

namespace {

std::string eta_text(double seconds) {
  const auto whole = static_cast<std::int64_t>(seconds + 0.5);
  if (whole < 60) return fmt::format("{}s", whole);
  if (whole < 3600) return fmt::format("{}m{:02d}s", whole / 60, static_cast<int>(whole % 60));
  return fmt::format("{}h{:02d}m", whole / 3600, static_cast<int>((whole % 3600) / 60));
}

}  // namespace

ProgressLine::ProgressLine(std::string label)
    : label_(std::move(label)),
      enabled_(isatty(fileno(stderr)) != 0),
      started_(std::chrono::steady_clock::now()),
      last_shown_(started_) {}

void ProgressLine::update(std::size_t done, std::size_t total, std::size_t violating) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total && now - last_shown_ < std::chrono::milliseconds(100)) return;
  last_shown_ = now;
  const double seconds = std::chrono::duration<double>(now - started_).count();
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
  const std::string eta = rate > 0 ? eta_text(static_cast<double>(total - done) / rate) : "?";
  std::string line = fmt::format("{}: {}/{} seeds, {} violating, {:.1f} seeds/s, ETA {}", label_, done, total,
                                 violating, rate, eta);
  const std::size_t width = line.size();
  if (width < width_) line.append(width_ - width, ' ');
  width_ = std::max(width_, width);
  std::fprintf(stderr, "\r%s", line.c_str());
  std::fflush(stderr);
}

void ProgressLine::finish() {
  if (!enabled_ || width_ == 0) return;
  std::fprintf(stderr, "\r%s\r", std::string(width_, ' ').c_str());
  std::fflush(stderr);
  width_ = 0;
}

}  // namespace rehearse::cli
