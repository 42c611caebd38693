// The shrinker of `rehearse shrink` (cli/shrink.cc prints what it finds; docs/cli.md, "shrink").
//
// The seed's faults (the written `faults:`, then what `random_faults` draws for this seed, in the
// order the world schedules them) become one explicit schedule with `random_faults` removed.
// Passes then change it, each change kept only when a fresh run with the same seed still
// violates the invariant: `after` (drop what starts after the violation), `swarm` (turn a fault
// kind or a target off), `ddmin` (Zeller's delta debugging over the list), `pairs` (every pair
// alone, when few are left), `shorten` (durations and magnitudes down), `later` (each fault as
// late as it still breaks), `round` (readable values). Every run is a pure function of
// (scenario, seed), so a kept change stays kept. Greedy: the result is 1-minimal (no single
// fault can be dropped), not the smallest schedule there is.
#include "sweep/shrink.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/checkers.h"
#include "core/duration.h"
#include "core/plan.h"
#include "scenarios/loader.h"
#include "scenarios/scenario_yaml.h"
#include "sim/random_faults.h"
#include "sim/world.h"

namespace rehearse::sweep {

namespace {

constexpr int kRoundsMax = 3;                 // the ddmin/shorten passes repeat at most this often
constexpr std::size_t kPairsFaultsMax = 12;   // every pair is tried only up to this many faults (66 pairs)
constexpr int kSearchSteps = 16;              // binary searches stop at 1/16 of their first span
constexpr int kBinarySearchStepsMax = 24;     // a bound on every binary search
constexpr std::uint64_t kWithinSeedsMax = 1000;  // expect.within_seeds is written only up to this seed

ExplicitSchedule explicit_schedule(const Scenario& scenario, std::uint64_t seed) {
  ExplicitSchedule schedule;
  schedule.faults = scenario.faults;
  schedule.written = scenario.faults.size();
  if (!scenario.random_faults) return schedule;
  Result<MigrationPlan> plan = compile_plan(scenario);
  REHEARSE_ASSERT(plan.is_ok());
  sim::World world(scenario, seed, plan.value());  // built only for its node names; never run
  std::vector<std::string> names;
  for (sim::Node* node : world.all_nodes()) names.push_back(node->name());
  const std::vector<FaultSpec> drawn =
      sim::expand_random_faults(*scenario.random_faults, scenario.duration_us, names, seed);
  schedule.faults.insert(schedule.faults.end(), drawn.begin(), drawn.end());
  schedule.drawn = drawn.size();
  return schedule;
}

// The order `shrink` picks the invariant to keep in when --invariant is not given: safety
// (split brain, lost or inconsistent data, a schema left half-migrated, a contract without a
// validation) before service (availability, stale reads) before liveness. A fault swarm
// usually breaks availability too; the migration's own safety bug is the finding to shrink.
constexpr const char* kSeverityOrder[] = {"mutual-exclusion",         "no-lost-writes", "data-consistency",
                                          "schema-convergence",       "validate-before-contract",
                                          "availability",             "replica-staleness", "liveness"};

// The invariants `result` violates, each once, most severe first (names outside
// kSeverityOrder last, in the order found).
std::vector<std::string> violated_by_severity(const RunResult& result) {
  std::vector<std::string> names;
  for (const char* name : kSeverityOrder) {
    for (const Violation& violation : result.violations) {
      if (violation.invariant == name) {
        names.push_back(name);
        break;
      }
    }
  }
  for (const Violation& violation : result.violations) {
    if (std::find(names.begin(), names.end(), violation.invariant) == names.end()) names.push_back(violation.invariant);
  }
  return names;
}

const Violation* find_violation(const RunResult& result, const std::string& invariant) {
  for (const Violation& violation : result.violations) {
    if (violation.invariant == invariant) return &violation;
  }
  return nullptr;
}

std::string schedule_key(const std::vector<FaultSpec>& faults) {
  std::string key;
  for (const FaultSpec& fault : faults) key += fault_yaml(fault) + "\n";
  return key;
}

using Schedule = std::vector<FaultSpec>;

// Runs candidate schedules with the seed and remembers which reproduce the violation.
class Shrinker {
 public:
  Shrinker(const Scenario& scenario, std::uint64_t seed, std::string invariant, int runs_max)
      : base_(scenario), seed_(seed), invariant_(std::move(invariant)), runs_max_(runs_max) {
    REHEARSE_ASSERT(runs_max_ > 0);
    base_.random_faults.reset();
  }

  // Whether the scenario with `faults` as its whole schedule still violates the invariant with
  // the seed. Once the run budget is spent every new schedule counts as not reproducing.
  bool reproduces(const std::vector<FaultSpec>& faults) {
    const std::string key = schedule_key(faults);
    if (auto it = memo_.find(key); it != memo_.end()) return it->second.has_value();
    if (runs_ >= runs_max_) {
      exhausted_ = true;
      return false;
    }
    ++runs_;
    Scenario candidate = base_;
    candidate.faults = faults;
    const RunResult result = sim::simulate(candidate, seed_);
    const Violation* violation = find_violation(result, invariant_);
    std::optional<Violation> kept;
    if (violation != nullptr) kept = *violation;
    memo_.emplace(key, kept);
    return kept.has_value();
  }

  // The violation of a schedule that reproduces. REQUIRES: reproduces(faults) returned true.
  const Violation& violation(const std::vector<FaultSpec>& faults) const {
    auto it = memo_.find(schedule_key(faults));
    REHEARSE_ASSERT(it != memo_.end());
    REHEARSE_ASSERT(it->second.has_value());
    return *it->second;
  }

  // Swarm feature off: BUGGIFY fault points (core/buggify.h). Kept off when the schedule still
  // reproduces without them; every later run then has them off.
  bool turn_buggify_off(const Schedule& faults) {
    if (!base_.buggify) return false;
    if (runs_ >= runs_max_) {
      exhausted_ = true;
      return false;
    }
    Shrinker without(base_, seed_, invariant_, runs_max_ - runs_);
    without.base_.buggify = false;
    const bool reproduced = without.reproduces(faults);
    runs_ += without.runs_;
    if (!reproduced) return false;
    base_.buggify = false;
    memo_ = std::move(without.memo_);
    return true;
  }

  int runs() const { return runs_; }
  bool exhausted() const { return exhausted_; }
  const Scenario& base() const { return base_; }

 private:
  Scenario base_;  // random_faults removed
  std::uint64_t seed_;
  std::string invariant_;
  int runs_max_;
  int runs_ = 0;
  bool exhausted_ = false;
  std::map<std::string, std::optional<Violation>> memo_;  // schedule -> its violation, if any
};

Schedule without(const Schedule& faults, const std::function<bool(const FaultSpec&)>& drop) {
  Schedule kept;
  for (const FaultSpec& fault : faults) {
    if (!drop(fault)) kept.push_back(fault);
  }
  return kept;
}

// Faults that start after the violation cannot have caused it (the run before that moment is
// the same without them): dropped in one run.
Schedule pass_after(Shrinker& shrinker, Schedule faults) {
  const TimeUs violated_at = shrinker.violation(faults).time_us;
  Schedule candidate =
      without(faults, [violated_at](const FaultSpec& fault) { return !fault.at_phase && fault.at_us > violated_at; });
  if (candidate.size() < faults.size() && shrinker.reproduces(candidate)) return candidate;
  return faults;
}

// Swarm features off: BUGGIFY, then every fault of one kind, then every fault on one target.
Schedule pass_swarm(Shrinker& shrinker, Schedule faults) {
  shrinker.turn_buggify_off(faults);
  std::set<int> kinds;
  std::set<std::string> targets;
  for (const FaultSpec& fault : faults) {
    kinds.insert(static_cast<int>(fault.kind));
    targets.insert(fault.targets.begin(), fault.targets.end());
  }
  for (int kind : kinds) {
    Schedule candidate = without(faults, [kind](const FaultSpec& fault) { return static_cast<int>(fault.kind) == kind; });
    if (candidate.size() < faults.size() && shrinker.reproduces(candidate)) faults = std::move(candidate);
  }
  for (const std::string& target : targets) {
    Schedule candidate = without(faults, [&target](const FaultSpec& fault) {
      return std::find(fault.targets.begin(), fault.targets.end(), target) != fault.targets.end();
    });
    if (candidate.size() < faults.size() && shrinker.reproduces(candidate)) faults = std::move(candidate);
  }
  return faults;
}

// Chunk `index` of `count` near-equal chunks of `faults`, or everything but it.
Schedule chunk(const Schedule& faults, std::size_t count, std::size_t index, bool complement) {
  const std::size_t begin = faults.size() * index / count;
  const std::size_t end = faults.size() * (index + 1) / count;
  Schedule part;
  for (std::size_t i = 0; i < faults.size(); ++i) {
    if ((i >= begin && i < end) != complement) part.push_back(faults[i]);
  }
  return part;
}

// Zeller and Hildebrandt's ddmin: try each chunk alone, then each complement, refining the
// chunks when neither reproduces. The result is 1-minimal: no single fault can be dropped.
Schedule pass_ddmin(Shrinker& shrinker, Schedule faults) {
  if (shrinker.reproduces({})) return {};
  std::size_t count = 2;
  while (faults.size() >= 2 && !shrinker.exhausted()) {
    count = std::min(count, faults.size());
    bool reduced = false;
    for (std::size_t i = 0; i < count && !reduced; ++i) {
      Schedule part = chunk(faults, count, i, false);
      if (shrinker.reproduces(part)) {
        faults = std::move(part);
        count = 2;
        reduced = true;
      }
    }
    for (std::size_t i = 0; i < count && !reduced && count > 2; ++i) {
      Schedule rest = chunk(faults, count, i, true);
      if (shrinker.reproduces(rest)) {
        faults = std::move(rest);
        count = std::max<std::size_t>(count - 1, 2);
        reduced = true;
      }
    }
    if (reduced) continue;
    if (count >= faults.size()) break;
    count = std::min(count * 2, faults.size());
  }
  return faults;
}

// Every pair of faults alone, when few are left: ddmin only tries chunks, and two faults that
// break the invariant together may sit in different chunks.
Schedule pass_pairs(Shrinker& shrinker, Schedule faults) {
  if (faults.size() <= 2 || faults.size() > kPairsFaultsMax) return faults;
  for (std::size_t i = 0; i < faults.size(); ++i) {
    for (std::size_t j = i + 1; j < faults.size(); ++j) {
      Schedule pair = {faults[i], faults[j]};
      if (shrinker.reproduces(pair)) return pair;
    }
  }
  return faults;
}

// One numeric setting of a fault, seen as a non-negative integer (a magnitude: the sign of a
// clock jump or skew is kept).
struct Knob {
  const char* name;
  std::function<bool(const FaultSpec&)> applies;
  std::function<std::int64_t(const FaultSpec&)> get;
  std::function<void(FaultSpec&, std::int64_t)> set;
  std::int64_t smallest;               // never below this (0 can mean "forever")
  std::vector<std::int64_t> nice_steps;  // round to these, coarse first
};

bool has_duration(const FaultSpec& fault) {
  switch (fault.kind) {
    case FaultKind::pause:
    case FaultKind::partition:
    case FaultKind::delay:
    case FaultKind::drop:
    case FaultKind::clock_drift:
    case FaultKind::replication_lag:
    case FaultKind::long_transaction: return fault.for_us > 0;
    default: return false;
  }
}

std::int64_t sign_of(std::int64_t value) { return value < 0 ? -1 : 1; }

const std::vector<Knob>& knobs() {
  static const std::vector<std::int64_t> kTimeSteps = {kSec, 100 * kMs, 10 * kMs};
  static const std::vector<Knob> all = {
      {"for", has_duration, [](const FaultSpec& f) { return f.for_us; }, [](FaultSpec& f, std::int64_t v) { f.for_us = v; },
       100 * kMs, kTimeSteps},
      {"restart_after", [](const FaultSpec& f) { return f.kind == FaultKind::crash && f.restart_after_us.has_value(); },
       [](const FaultSpec& f) { return *f.restart_after_us; }, [](FaultSpec& f, std::int64_t v) { f.restart_after_us = v; },
       100 * kMs, kTimeSteps},
      {"extra", [](const FaultSpec& f) { return f.kind == FaultKind::delay || f.kind == FaultKind::replication_lag; },
       [](const FaultSpec& f) { return f.extra_us; }, [](FaultSpec& f, std::int64_t v) { f.extra_us = v; }, 10 * kMs,
       kTimeSteps},
      {"by", [](const FaultSpec& f) { return f.kind == FaultKind::clock_jump && f.by_us != 0; },
       [](const FaultSpec& f) { return std::abs(f.by_us); },
       [](FaultSpec& f, std::int64_t v) { f.by_us = sign_of(f.by_us) * v; }, 100 * kMs, kTimeSteps},
      {"offset", [](const FaultSpec& f) { return f.kind == FaultKind::clock_skew && f.offset_us != 0; },
       [](const FaultSpec& f) { return std::abs(f.offset_us); },
       [](FaultSpec& f, std::int64_t v) { f.offset_us = sign_of(f.offset_us) * v; }, 100 * kMs, kTimeSteps},
      {"ppm", [](const FaultSpec& f) { return f.kind == FaultKind::clock_drift && f.ppm != 0; },
       [](const FaultSpec& f) { return std::abs(f.ppm); }, [](FaultSpec& f, std::int64_t v) { f.ppm = sign_of(f.ppm) * v; },
       1, {10000, 1000, 100}},
      {"probability", [](const FaultSpec& f) { return f.kind == FaultKind::drop; },
       [](const FaultSpec& f) { return static_cast<std::int64_t>(f.probability * 1000 + 0.5); },
       [](FaultSpec& f, std::int64_t v) { f.probability = static_cast<double>(v) / 1000.0; }, 10, {100, 50, 10}},
  };
  return all;
}

// The start of a fault as a knob: its time, or its delay after the phase that triggers it.
const Knob& start_knob() {
  static const Knob knob = {
      "at", [](const FaultSpec&) { return true; },
      [](const FaultSpec& f) { return f.at_phase ? f.at_phase->after_us : f.at_us; },
      [](FaultSpec& f, std::int64_t v) { (f.at_phase ? f.at_phase->after_us : f.at_us) = v; }, 0,
      {kSec, 100 * kMs, 10 * kMs}};
  return knob;
}

// Whether `faults` with fault `index`'s knob set to `value` reproduces; keeps it if so.
bool try_value(Shrinker& shrinker, Schedule& faults, std::size_t index, const Knob& knob, std::int64_t value) {
  Schedule candidate = faults;
  knob.set(candidate[index], value);
  if (!shrinker.reproduces(candidate)) return false;
  faults = std::move(candidate);
  return true;
}

// Each fault as late as it still breaks: a binary search between its start and the moment of
// the violation (a later start means a shorter prefix of healthy running to read).
Schedule pass_later(Shrinker& shrinker, Schedule faults) {
  const Knob& knob = start_knob();
  for (std::size_t i = 0; i < faults.size(); ++i) {
    const TimeUs violated_at = shrinker.violation(faults).time_us;
    std::int64_t good = knob.get(faults[i]);
    std::int64_t bad = faults[i].at_phase ? good + violated_at : violated_at;
    const std::int64_t resolution = std::max<std::int64_t>(100 * kMs, (bad - good) / kSearchSteps);
    for (int step = 0; step < kBinarySearchStepsMax && bad - good > resolution; ++step) {
      const std::int64_t middle = good + (bad - good) / 2;
      if (try_value(shrinker, faults, i, knob, middle)) {
        good = middle;
      } else {
        bad = middle;
      }
    }
  }
  return faults;
}

// Durations and magnitudes down: for each knob a binary search for the smallest value that
// still breaks (the smallest allowed value is tried first).
Schedule pass_shorten(Shrinker& shrinker, Schedule faults) {
  for (std::size_t i = 0; i < faults.size(); ++i) {
    for (const Knob& knob : knobs()) {
      if (!knob.applies(faults[i])) continue;
      std::int64_t good = knob.get(faults[i]);
      if (good <= knob.smallest || try_value(shrinker, faults, i, knob, knob.smallest)) continue;
      std::int64_t bad = knob.smallest;
      const std::int64_t resolution = std::max<std::int64_t>(knob.nice_steps.back(), (good - bad) / kSearchSteps);
      for (int step = 0; step < kBinarySearchStepsMax && good - bad > resolution; ++step) {
        const std::int64_t middle = bad + (good - bad) / 2;
        if (try_value(shrinker, faults, i, knob, middle)) {
          good = middle;
        } else {
          bad = middle;
        }
      }
    }
  }
  return faults;
}

// Readable values: each knob (and the start) rounded to the coarsest step that still breaks,
// to the nearest multiple first, then up.
void round_knob(Shrinker& shrinker, Schedule& faults, std::size_t index, const Knob& knob) {
  const std::int64_t value = knob.get(faults[index]);
  for (const std::int64_t step : knob.nice_steps) {
    if (value % step == 0) return;
    const std::int64_t down = value / step * step;
    const std::int64_t up = down + step;
    const std::int64_t nearest = value - down < up - value ? down : up;
    for (const std::int64_t candidate : {nearest, up}) {
      if (candidate < knob.smallest) continue;
      if (try_value(shrinker, faults, index, knob, candidate)) return;
    }
  }
}

Schedule pass_round(Shrinker& shrinker, Schedule faults) {
  for (std::size_t i = 0; i < faults.size(); ++i) {
    round_knob(shrinker, faults, i, start_knob());
    for (const Knob& knob : knobs()) {
      if (knob.applies(faults[i])) round_knob(shrinker, faults, i, knob);
    }
  }
  return faults;
}

using Pass = Schedule (*)(Shrinker&, Schedule);

// Runs one pass and prints its progress line on `log`.
Schedule run_pass(Shrinker& shrinker, const char* name, Pass pass, Schedule faults, std::vector<PassReport>& reports,
                  std::ostream& log) {
  PassReport report{.name = name, .faults_before = faults.size()};
  const int runs_before = shrinker.runs();
  const std::string before = schedule_key(faults);
  faults = pass(shrinker, std::move(faults));
  report.faults_after = faults.size();
  report.runs = shrinker.runs() - runs_before;
  report.changed = schedule_key(faults) != before;
  log << fmt::format("shrink: {:<8} {} -> {} faults{}, {} runs\n", name, report.faults_before, report.faults_after,
                           report.changed ? "" : " (unchanged)", report.runs);
  reports.push_back(report);
  return faults;
}

// Every pass in order. Dropping and shortening repeat while they change something (a shorter
// fault can make another unneeded); moving faults later comes last, once the count is settled,
// because a later fault can change how the invariant breaks; then a last drop and rounding.
Schedule shrink_schedule(Shrinker& shrinker, Schedule faults, std::vector<PassReport>& reports, std::ostream& log) {
  REHEARSE_ASSERT(shrinker.reproduces(faults));
  faults = run_pass(shrinker, "after", pass_after, std::move(faults), reports, log);
  faults = run_pass(shrinker, "swarm", pass_swarm, std::move(faults), reports, log);
  for (int round = 0; round < kRoundsMax && !shrinker.exhausted(); ++round) {
    const std::string before = schedule_key(faults);
    if (round > 0) faults = run_pass(shrinker, "after", pass_after, std::move(faults), reports, log);
    faults = run_pass(shrinker, "ddmin", pass_ddmin, std::move(faults), reports, log);
    faults = run_pass(shrinker, "pairs", pass_pairs, std::move(faults), reports, log);
    faults = run_pass(shrinker, "shorten", pass_shorten, std::move(faults), reports, log);
    if (schedule_key(faults) == before) break;
  }
  faults = run_pass(shrinker, "later", pass_later, std::move(faults), reports, log);
  faults = run_pass(shrinker, "after", pass_after, std::move(faults), reports, log);
  faults = run_pass(shrinker, "ddmin", pass_ddmin, std::move(faults), reports, log);
  faults = run_pass(shrinker, "round", pass_round, std::move(faults), reports, log);
  REHEARSE_ASSERT(shrinker.reproduces(faults));
  return faults;
}

Scenario shrunk_scenario(const Scenario& original, const ShrinkOutcome& outcome, std::uint64_t seed) {
  Scenario scenario = original;
  scenario.random_faults.reset();
  scenario.faults = outcome.faults;
  scenario.name = original.name + "-shrunk";
  scenario.description = fmt::format(
      "{} seed {}, shrunk by `rehearse shrink` to {} explicit fault{} (from {}) that still violate{} {} with this "
      "seed. The original: {}",
      original.name, seed, outcome.faults.size(), outcome.faults.size() == 1 ? "" : "s", outcome.original.faults.size(),
      outcome.faults.size() == 1 ? "s" : "", outcome.invariant, original.description);
  scenario.expect = ExpectSpec{.verdict = Verdict::violation, .invariants = {outcome.invariant}};
  if (seed >= 1 && seed <= kWithinSeedsMax) scenario.expect.within_seeds = static_cast<int>(seed);
  return scenario;
}

std::string yaml_header(const Scenario& original, const ShrinkOutcome& outcome, std::uint64_t seed,
                        const std::string& out_path) {
  return fmt::format(
      "# Shrunk by `rehearse shrink` from {} ({}) seed {}: {} of {} faults ({} written, {} drawn by random_faults)\n"
      "# still violate {} with this seed; {} runs.\n"
      "# Reproduce: rehearse run {} --seed {}\n",
      original.name, original.source_path, seed, outcome.faults.size(), outcome.original.faults.size(),
      outcome.original.written, outcome.original.drawn, outcome.invariant, outcome.runs,
      out_path.empty() ? "FILE" : out_path, seed);
}

// Loads the written text back and runs it: the file, not the model, is what users replay.
bool verify_yaml(const std::string& yaml, std::uint64_t seed, const std::string& invariant) {
  LoadResult loaded = load_scenario_text(yaml, "shrunk.yaml");
  if (!loaded.ok()) return false;
  if (!compile_plan(*loaded.scenario).is_ok()) return false;
  return find_violation(sim::simulate(*loaded.scenario, seed), invariant) != nullptr;
}

}  // namespace

ShrinkOutcome choose_invariant(const Scenario& scenario, std::uint64_t seed, const std::string& requested) {
  const RunResult first = sim::simulate(scenario, seed);
  ShrinkOutcome outcome;
  outcome.invariant = requested;
  outcome.violated = violated_by_severity(first);
  outcome.by_severity = outcome.invariant.empty();
  if (outcome.by_severity && !outcome.violated.empty()) outcome.invariant = outcome.violated.front();
  outcome.seed_violates = !outcome.invariant.empty() && find_violation(first, outcome.invariant) != nullptr;
  return outcome;
}

bool shrink_seed(const Scenario& scenario, std::uint64_t seed, int max_runs, const std::string& out_path,
                 std::ostream& log, ShrinkOutcome& outcome) {
  REHEARSE_ASSERT(outcome.seed_violates);
  outcome.original = explicit_schedule(scenario, seed);
  Shrinker shrinker(scenario, seed, outcome.invariant, max_runs);
  if (!shrinker.reproduces(outcome.original.faults)) return false;
  outcome.faults = shrink_schedule(shrinker, outcome.original.faults, outcome.passes, log);
  outcome.violation = shrinker.violation(outcome.faults);
  outcome.runs = shrinker.runs();
  outcome.exhausted = shrinker.exhausted();
  outcome.buggify = shrinker.base().buggify;
  Scenario shrunk = shrunk_scenario(scenario, outcome, seed);
  shrunk.buggify = shrinker.base().buggify;  // the swarm pass may have turned it off
  outcome.yaml = scenario_yaml_with_header(shrunk, seed, yaml_header(scenario, outcome, seed, out_path));
  outcome.verified = verify_yaml(outcome.yaml, seed, outcome.invariant);
  return true;
}

}  // namespace rehearse::sweep
