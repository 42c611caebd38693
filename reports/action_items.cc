// propose_action_items() of reports/report.h: one settings fix per lint finding, then fixes
// for violated invariants that no finding covered, then all of them together; each applied
// to a copy of the scenario for the caller to re-run.
#include <algorithm>
#include <functional>
#include <optional>

#include <fmt/format.h>

#include "core/duration.h"
#include "core/lint.h"
#include "reports/report.h"
#include "reports/text.h"

namespace rehearse::reports {

namespace {

struct Fix {
  std::string change;
  std::function<void(Scenario&)> apply;
};

// The lease length that covers two of the longest estimated batches, in whole seconds.
TimeUs safe_ttl(const Scenario& scenario) {
  const TimeUs needed = 3 * estimated_batch_us(scenario);
  return std::max(scenario.lock.ttl_us, (needed + kSec - 1) / kSec * kSec);
}

std::optional<Fix> lock_fix(const std::string& id, const Scenario& scenario) {
  if (id == "no-fencing" || id == "client-fencing") {
    return Fix{"set lock.fencing: storage", [](Scenario& s) { s.lock.fencing = Fencing::storage; }};
  }
  if (id == "ttl-shorter-than-batch") {
    const TimeUs ttl = safe_ttl(scenario);
    return Fix{fmt::format("set lock.ttl: {}", duration_text(ttl, DurationStyle::scenario)), [ttl](Scenario& s) {
                 s.lock.ttl_us = ttl;
                 if (s.lock.renew_every_us >= ttl) s.lock.renew_every_us = ttl / 3;
               }};
  }
  if (id == "no-renewal") {
    const TimeUs every = std::max<TimeUs>(kMs, scenario.lock.ttl_us / 3 / kMs * kMs);
    return Fix{fmt::format("set lock.renew_every: {}", duration_text(every, DurationStyle::scenario)),
               [every](Scenario& s) { s.lock.renew_every_us = every; }};
  }
  if (id == "lock-in-app-database") {
    return Fix{"set lock.backend: etcd", [](Scenario& s) {
                 s.lock.backend = LockBackend::etcd;
                 s.lock.nodes = 1;
               }};
  }
  return std::nullopt;
}

// A DDL lock wait short enough that the queries queued behind it stay within the stall SLO.
TimeUs safe_lock_timeout(const Scenario& scenario) {
  const TimeUs fifth_of_stall = scenario.slo.max_stall_us > 0 ? scenario.slo.max_stall_us / 5 : 2 * kSec;
  return std::clamp<TimeUs>(fifth_of_stall / kMs * kMs, 10 * kMs, 2 * kSec);
}

std::optional<Fix> engine_fix(const std::string& id, const Scenario& scenario) {
  if (id == "no-lock-timeout") {
    const TimeUs timeout = safe_lock_timeout(scenario);
    return Fix{fmt::format("set engine.lock_timeout: {}", duration_text(timeout, DurationStyle::scenario)),
               [timeout](Scenario& s) { s.engine.lock_timeout_us = timeout; }};
  }
  if (id == "unbatched-backfill") return Fix{"set engine.batch_size: 1000", [](Scenario& s) { s.engine.batch_size = 1000; }};
  if (id == "replica-backfill-source") {
    return Fix{"set engine.backfill_source: primary", [](Scenario& s) { s.engine.backfill_source = BackfillSource::primary; }};
  }
  if (id == "no-lag-throttle") {
    return Fix{"set engine.max_replication_lag: 2s", [](Scenario& s) { s.engine.max_replication_lag_us = 2 * kSec; }};
  }
  if (id == "all-at-once") {
    return Fix{"set engine.rollout: region-by-region", [](Scenario& s) { s.engine.rollout = Rollout::region_by_region; }};
  }
  if (id == "validation-off") return Fix{"set engine.validate: true", [](Scenario& s) { s.engine.validate = true; }};
  if (id == "no-jitter") return Fix{"set engine.backoff.jitter: full", [](Scenario& s) { s.engine.backoff.jitter = Jitter::full; }};
  return std::nullopt;
}

// A fix for a violated invariant when no lint finding led to one.
std::optional<Fix> invariant_fix(const std::string& invariant, const Scenario& scenario) {
  if (invariant == "mutual-exclusion") {
    if (scenario.lock.fencing != Fencing::storage) return lock_fix("no-fencing", scenario);
    if (!scenario.lock.persistence) return Fix{"set lock.persistence: true", [](Scenario& s) { s.lock.persistence = true; }};
    if (scenario.lock.backend == LockBackend::redlock && !scenario.lock.delayed_restart) {
      return Fix{"set lock.delayed_restart: true", [](Scenario& s) { s.lock.delayed_restart = true; }};
    }
  }
  if (invariant == "availability" && scenario.engine.lock_timeout_us == 0) return engine_fix("no-lock-timeout", scenario);
  if (invariant == "availability" && scenario.engine.batch_size == 0) return engine_fix("unbatched-backfill", scenario);
  if (invariant == "replica-staleness" && scenario.engine.max_replication_lag_us == 0) return engine_fix("no-lag-throttle", scenario);
  if ((invariant == "data-consistency" || invariant == "no-lost-writes") &&
      scenario.engine.backfill_source == BackfillSource::replica) {
    return engine_fix("replica-backfill-source", scenario);
  }
  if (invariant == "validate-before-contract" && !scenario.engine.validate) return engine_fix("validation-off", scenario);
  return std::nullopt;
}

void add_item(std::vector<std::pair<ActionItem, Scenario>>& items, std::vector<Fix>& applied, const Scenario& scenario,
              std::optional<Fix> fix, std::string rationale) {
  if (!fix) return;
  const bool known = std::any_of(items.begin(), items.end(), [&fix](const auto& item) { return item.first.change == fix->change; });
  if (known) return;
  Scenario fixed = scenario;
  fix->apply(fixed);
  items.emplace_back(ActionItem{fix->change, std::move(rationale)}, std::move(fixed));
  applied.push_back(std::move(*fix));
}

}  // namespace

std::vector<std::pair<ActionItem, Scenario>> propose_action_items(const Scenario& scenario, const RunResult& result) {
  std::vector<std::pair<ActionItem, Scenario>> items;
  std::vector<Fix> applied;
  for (const LintFinding& finding : lint(scenario)) {
    std::optional<Fix> fix = lock_fix(finding.id, scenario);
    if (!fix) fix = engine_fix(finding.id, scenario);
    add_item(items, applied, scenario, std::move(fix), fmt::format("lint `{}`: {}", finding.id, finding.message));
  }
  for (const Violation& violation : result.violations) {
    add_item(items, applied, scenario, invariant_fix(violation.invariant, scenario),
             fmt::format("{} was violated: {}", violation.invariant, violation.detail));
  }
  if (applied.size() > 1) {
    Scenario all = scenario;
    for (const Fix& fix : applied) fix.apply(all);
    items.emplace_back(ActionItem{"all of the above together", "the changes above may each be needed"}, std::move(all));
  }
  return items;
}

std::string default_reproduce_command(const std::string& scenario_argument, std::uint64_t seed) {
  return fmt::format("rehearse run {} --seed {}", shell_quote(scenario_argument), seed);
}

}  // namespace rehearse::reports
