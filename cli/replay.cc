// `rehearse replay SCENARIO --seed N`: runs one seed twice and compares the two histories
// event by event. A difference is a determinism bug (exit 1, the first differing event is
// printed); otherwise the run's timeline of milestones, its verdict and its trace hash are
// printed (exit 0: replay judges determinism, not invariants).
#include <algorithm>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands_internal.h"
#include "core/duration.h"
#include "reports/run_json.h"

namespace rehearse::cli {

namespace {

// The index of the first event where the two histories differ; nullopt when they are equal.
std::optional<std::size_t> first_difference(const History& first, const History& second) {
  const auto& a = first.events();
  const auto& b = second.events();
  const std::size_t common = std::min(a.size(), b.size());
  for (std::size_t index = 0; index < common; ++index) {
    if (reports::event_object(a[index]) != reports::event_object(b[index])) return index;
  }
  if (a.size() != b.size()) return common;
  return std::nullopt;
}

std::string rendering_at(const History& history, std::size_t index) {
  if (index >= history.events().size()) return "(no event: the history ends here)";
  return reports::event_object(history.events()[index]).dump();
}

void print_difference(std::ostream& out, const RunResult& first, const RunResult& second, std::size_t index) {
  out << fmt::format("replay {} seed {}: NOT DETERMINISTIC\n", first.scenario, first.seed);
  out << fmt::format("trace_hash {} (first run) != {} (second run); {} vs {} events\n", first.trace_hash,
                     second.trace_hash, first.history.events().size(), second.history.events().size());
  out << fmt::format("first difference at event {}:\n", index);
  out << "  first run:  " << rendering_at(first.history, index) << "\n";
  out << "  second run: " << rendering_at(second.history, index) << "\n";
}

bool is_bulk_write(const Event& event) {
  return event.kind == EventKind::write && (event.write == WriteKind::backfill || event.write == WriteKind::checkpoint);
}

void print_event_line(std::ostream& out, const Event& event) {
  const std::string outcome = event.outcome == Outcome::none ? "-" : to_string(event.outcome);
  std::string kind = to_string(event.kind);
  if (event.write != WriteKind::none) kind += fmt::format("({})", to_string(event.write));
  const std::string token = event.token == 0 ? "-" : fmt::format("token {}", event.token);
  const std::string region = event.region.empty() ? "-" : event.region;
  out << fmt::format("  {:>6} {:>10}  {:<22} {:<16} {:<8} {:<9} {:<12} {}\n", fmt::format("#{}", event.id),
                     duration_text(event.time_us, DurationStyle::clock), event.node, kind, outcome, token, region,
                     event.detail);
}

void print_timeline(std::ostream& out, const History& history) {
  std::size_t skipped = 0;
  out << fmt::format("  {:>6} {:>10}  {:<22} {:<16} {:<8} {:<9} {:<12} {}\n", "event", "time", "node", "kind", "outcome",
                     "token", "region", "detail");
  for (const Event& event : history.events()) {
    if (is_bulk_write(event)) {
      ++skipped;
      continue;
    }
    print_event_line(out, event);
  }
  out << fmt::format("({} backfill and checkpoint writes not shown; `rehearse run --trace FILE` writes every event)\n",
                     skipped);
}

void print_verdict(std::ostream& out, const RunResult& result) {
  if (!result.violated()) {
    out << "verdict: PASS (no invariant violated)\n";
    return;
  }
  out << "verdict: VIOLATION\n";
  for (const Violation& violation : result.violations) {
    out << fmt::format("  {} at {} on {}: {}\n", violation.invariant,
                       duration_text(violation.time_us, DurationStyle::clock), violation.node, violation.detail);
  }
}

}  // namespace

CLI::App* add_replay_command(CLI::App& app, ReplayOptions& options) {
  CLI::App* command = app.add_subcommand(
      "replay", "Runs a seed twice, checks both traces hash the same, prints the timeline");
  command->add_option("scenario", options.scenario, "Scenario file, or the name of a built-in scenario")->required();
  command->add_option("--seed", options.seed, "Seed to replay")->required()->check(unsigned_seed());
  return command;
}

int command_replay(const ReplayOptions& options) {
  std::optional<Scenario> scenario = load_or_report(options.scenario);
  if (!scenario) return kExitBadInput;
  const RunResult first = timed_simulation(*scenario, options.seed);
  const RunResult second = timed_simulation(*scenario, options.seed);
  const std::optional<std::size_t> difference = first_difference(first.history, second.history);
  if (difference || first.trace_hash != second.trace_hash) {
    print_difference(std::cout, first, second, difference.value_or(first.history.events().size()));
    return kExitViolation;
  }
  std::cout << fmt::format("replay {} seed {}: {} events, {} simulated\n", first.scenario, first.seed,
                           first.history.events().size(), duration_text(first.stats.sim_time_us, DurationStyle::clock));
  print_timeline(std::cout, first.history);
  print_verdict(std::cout, first);
  std::cout << fmt::format("migration: {}\n", first.outcome);
  std::cout << fmt::format("deterministic: both runs gave the same {} events, trace_hash {}\n",
                           first.history.events().size(), first.trace_hash);
  return kExitPass;
}

}  // namespace rehearse::cli
