#include "core/conformance.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "core/invariants.h"

namespace rehearse {

namespace {

double ms(TimeUs us) { return static_cast<double>(us) / static_cast<double>(kMs); }

bool is_backfill(const Event& event) {
  return event.kind == EventKind::write && event.write == WriteKind::backfill && event.outcome == Outcome::applied;
}

bool is_ddl(const Event& event) {
  return event.kind == EventKind::write && event.write == WriteKind::ddl && event.outcome == Outcome::applied;
}

// The simulator describes the fault as "long transaction on db:R for ...", the live runner as
// "long_transaction on db:R for ...".
bool holds_table_of(const Event& event, const std::string& region) {
  if (event.kind != EventKind::fault_start) return false;
  const std::string target = " on db:" + region + " ";
  return (event.detail.starts_with("long transaction") || event.detail.starts_with("long_transaction")) &&
         event.detail.find(target) != std::string::npos;
}

const TableSnapshot* end_snapshot(const Observations& observations, const std::string& region) {
  const TableSnapshot* found = nullptr;
  for (const TableSnapshot& snapshot : observations.snapshots) {
    if (snapshot.moment == "end" && snapshot.node == "db:" + region) found = &snapshot;
  }
  return found;
}

// The columns of the table as its catalog shows them (name, type, NOT NULL), `id` left out (its
// type and constraint are the harness's), sorted by name.
std::string schema_text(const TableSnapshot& snapshot) {
  std::vector<std::string> columns;
  for (const CatalogColumn& column : snapshot.catalog.columns) {
    if (column.name != "id") columns.push_back(fmt::format("{} {}{}", column.name, column.type, column.not_null ? " not null" : ""));
  }
  std::sort(columns.begin(), columns.end());
  return fmt::format("{}", fmt::join(columns, ", "));
}

std::string checksum_text(const ConformSpec& spec, const Observations& observations, const std::string& region) {
  const TableSnapshot* snapshot = end_snapshot(observations, region);
  if (snapshot == nullptr) return "no end snapshot";
  if (spec.full_checksum) {
    return fmt::format("{} rows, checksum {:016x}", snapshot->table.row_count(), table_checksum(snapshot->table));
  }
  return fmt::format("columns [{}], {} rows off the plan", schema_text(*snapshot), count_rows_off_plan(observations, *snapshot));
}

// Nearest-rank percentile of `values` (not empty).
double percentile(std::vector<TimeUs> values, double share) {
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(share * static_cast<double>(values.size())));
  return ms(values[std::clamp<std::size_t>(rank, 1, values.size()) - 1]);
}

// How long of `request`'s wait the host ran nothing (`pauses` in time order, not overlapping);
// marks each pause it overlaps in `counted`.
TimeUs host_paused_us(const std::vector<HostPause>& pauses, const RequestLatency& request, std::vector<bool>& counted) {
  const TimeUs end = request.sent_us + request.waited_us;
  auto it = std::upper_bound(pauses.begin(), pauses.end(), request.sent_us,
                             [](TimeUs sent, const HostPause& pause) { return sent < pause.end_us; });
  TimeUs paused = 0;
  for (; it != pauses.end() && it->start_us < end; ++it) {
    const TimeUs overlap = std::min(end, it->end_us) - std::max(request.sent_us, it->start_us);
    if (overlap <= 0) continue;
    paused += overlap;
    counted[static_cast<std::size_t>(it - pauses.begin())] = true;
  }
  return std::min(paused, request.waited_us);
}

std::string number_text(const std::optional<double>& value, const std::string& unit) {
  if (!value) return "n/a";
  if (unit.empty()) return fmt::format("{:.0f}", *value);
  return *value >= 100 ? fmt::format("{:.0f} {}", *value, unit) : fmt::format("{:.3g} {}", *value, unit);
}

ConformRow exact_row(std::string measure, std::string region, std::string sim, std::string live) {
  ConformRow row;
  row.measure = std::move(measure);
  row.region = std::move(region);
  row.match = ConformMatch::exact;
  row.matched = sim == live;
  row.sim_text = std::move(sim);
  row.live_text = std::move(live);
  return row;
}

// sim / live within [low, high]; both absent: n/a (matches); one absent: no match; both zero:
// equal (matches).
ConformRow ratio_row(std::string measure, std::string region, std::optional<double> sim, std::optional<double> live, double low,
                     double high, std::string unit, ConformMatch match = ConformMatch::ratio) {
  ConformRow row;
  row.measure = std::move(measure);
  row.region = std::move(region);
  row.match = match;
  row.sim = sim;
  row.live = live;
  row.low = low;
  row.high = high;
  row.unit = std::move(unit);
  row.sim_text = number_text(sim, row.unit);
  row.live_text = number_text(live, row.unit);
  if (!sim && !live) {
    row.applicable = false;
    return row;
  }
  if (!sim || !live) {
    row.matched = false;
    return row;
  }
  if (*sim == 0 && *live == 0) return row;  // both zero: equal
  if (*live == 0) {
    row.matched = false;
    return row;
  }
  row.ratio = *sim / *live;
  row.matched = *row.ratio >= low && *row.ratio <= high;
  return row;
}

}  // namespace

ConformSpec conform_spec(const Scenario& scenario) {
  ConformSpec spec;
  // The regions with a database of their own: every one, or in a global topology the home (the
  // others only read its replicas, and the home's rows judge them).
  for (const auto& region : scenario.topology.regions) {
    if (scenario.topology.mode == TopologyMode::global && region.name != scenario.topology.home) continue;
    spec.regions.push_back(region.name);
  }
  const WorkloadSpec& workload = scenario.workload;
  const bool served = workload.all_regions || !workload.regions.empty();
  spec.full_checksum = !served || workload.writes_per_s <= 0;
  for (const FaultSpec& fault : scenario.faults) {
    if (fault.kind != FaultKind::long_transaction) continue;
    for (const std::string& target : fault.targets) {
      const std::string region = target.starts_with("db:") ? target.substr(3) : target;
      if (std::find(spec.long_transaction_regions.begin(), spec.long_transaction_regions.end(), region) ==
          spec.long_transaction_regions.end()) {
        spec.long_transaction_regions.push_back(region);
      }
    }
  }
  return spec;
}

std::uint64_t table_checksum(const TableImage& table) {
  std::vector<std::pair<std::string, std::size_t>> columns;
  for (std::size_t c = 0; c < table.columns.size(); ++c) columns.emplace_back(table.columns[c], c);
  std::sort(columns.begin(), columns.end());
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const auto& [name, index] : columns) hash = hash_string(hash, name);
  for (std::size_t row = 0; row < table.row_count(); ++row) {
    for (const auto& [name, index] : columns) hash = hash_string(hash, table.at(row, static_cast<int>(index)).to_string());
  }
  return hash;
}

WorldMeasures measure_world(const ConformSpec& spec, const RunResult& result, const Observations& observations) {
  WorldMeasures measures;
  const std::vector<Event>& events = result.history.events();
  std::vector<std::string> states;
  for (const std::string& region : spec.regions) {
    auto state = result.region_states.find(region);
    states.push_back(fmt::format("{} {}", region, state == result.region_states.end() ? "?" : state->second));
  }
  measures.outcome = fmt::format("{}: {}", result.outcome, fmt::join(states, ", "));
  // Which invariants the run broke (a lock scenario's verdict: mutual-exclusion or not), not
  // how often: a second stale write is timing, the first is the finding.
  std::set<std::string> violated;
  for (const Violation& violation : result.violations) violated.insert(violation.invariant);
  measures.violations = violated.empty() ? "none" : fmt::format("{}", fmt::join(violated, ", "));

  // The migration's span: from its first phase to its last applied change.
  std::optional<TimeUs> first_phase;
  TimeUs last_change = 0;
  for (const Event& event : events) {
    if (event.kind == EventKind::phase && !first_phase) first_phase = event.time_us;
    if (event.kind == EventKind::write && event.outcome == Outcome::applied && event.write != WriteKind::checkpoint) {
      last_change = std::max(last_change, event.time_us);
    }
  }

  for (const std::string& region : spec.regions) {
    std::vector<std::string> phases;
    std::optional<TimeUs> backfill_start, backfill_end;
    std::vector<TimeUs> batches;
    for (const Event& event : events) {
      if (event.region != region) continue;
      if (event.kind == EventKind::phase) {
        if (phases.empty() || phases.back() != event.detail) phases.push_back(event.detail);
        if (event.detail == "backfill" && !backfill_start) backfill_start = event.time_us;
        if (event.detail != "backfill" && backfill_start && !backfill_end) backfill_end = event.time_us;
      }
      if (is_backfill(event)) batches.push_back(event.time_us);
    }
    measures.phases[region] = phases.empty() ? "(none)" : fmt::format("{}", fmt::join(phases, " > "));
    measures.checksums[region] = checksum_text(spec, observations, region);
    std::optional<double>& backfill = measures.backfill_ms[region];
    if (backfill_start) {
      const TimeUs end = backfill_end ? *backfill_end : (batches.empty() ? *backfill_start : batches.back());
      backfill = ms(end - *backfill_start);
    }
    // A batch's duration as the interval between consecutive batches' commits (its statement,
    // checkpoint, lease and lag checks and batch_pause); one batch (unbatched): the backfill.
    std::optional<double>& batch = measures.mean_batch_ms[region];
    if (batches.size() >= 2) {
      batch = ms(batches.back() - batches.front()) / static_cast<double>(batches.size() - 1);
    } else if (batches.size() == 1) {
      batch = backfill;
    }
  }

  for (const std::string& region : spec.long_transaction_regions) {
    std::optional<double>& wait = measures.ddl_wait_ms[region];
    std::optional<TimeUs> held;
    TimeUs phase_start = 0;
    for (const Event& event : events) {
      if (!held && holds_table_of(event, region)) held = event.time_us;
      if (event.region != region) continue;
      if (event.kind == EventKind::phase) phase_start = event.time_us;
      if (held && is_ddl(event)) {
        wait = ms(event.time_us - std::max(*held, phase_start));
        break;
      }
    }
  }

  if (result.stats.app_requests > 0) {
    // During the migration (calibration.md): requests sent from its first phase to its last
    // change; the warm-up before it and the snapshots after it are not the migration's.
    TimeUs max_stall = 0, max_stall_gross = 0;
    std::vector<TimeUs> writes;
    std::vector<bool> pause_counted(observations.host_pauses.size(), false);
    for (const RequestLatency& request : observations.request_latencies) {
      if (!first_phase || request.sent_us < *first_phase || request.sent_us > last_change) continue;
      const TimeUs waited = request.waited_us - host_paused_us(observations.host_pauses, request, pause_counted);
      max_stall = std::max(max_stall, waited);
      max_stall_gross = std::max(max_stall_gross, request.waited_us);
      if (request.write) writes.push_back(waited);
    }
    for (std::size_t i = 0; i < pause_counted.size(); ++i) {
      if (!pause_counted[i]) continue;
      ++measures.host_pauses;
      measures.host_paused_ms += ms(observations.host_pauses[i].end_us - observations.host_pauses[i].start_us);
    }
    measures.max_stall_ms = ms(max_stall);
    measures.max_stall_gross_ms = ms(max_stall_gross);
    if (!writes.empty()) measures.p99_write_ms = percentile(std::move(writes), 0.99);
    measures.max_replica_lag_ms = ms(result.stats.max_replica_lag_us);
  }
  measures.app_errors = static_cast<double>(result.stats.app_errors);
  return measures;
}

std::string ConformRow::band_text() const {
  switch (match) {
    case ConformMatch::exact: return "exact";
    case ConformMatch::ratio: return fmt::format("{}..{}", low, high);
    case ConformMatch::errors: return fmt::format("both 0, or {}..{}", low, high);
  }
  return "?";
}

std::vector<ConformRow> compare_worlds(const ConformSpec& spec, const WorldMeasures& sim, const WorldMeasures& live) {
  auto at = [](const auto& map, const std::string& region) {
    auto it = map.find(region);
    return it == map.end() ? typename std::decay_t<decltype(map)>::mapped_type{} : it->second;
  };
  std::vector<ConformRow> rows;
  for (const std::string& region : spec.regions) rows.push_back(exact_row("phases", region, at(sim.phases, region), at(live.phases, region)));
  rows.push_back(exact_row("outcome", "", sim.outcome, live.outcome));
  rows.push_back(exact_row("violations", "", sim.violations, live.violations));
  for (const std::string& region : spec.regions) {
    rows.push_back(exact_row("checksum", region, at(sim.checksums, region), at(live.checksums, region)));
  }
  for (const std::string& region : spec.regions) {
    rows.push_back(ratio_row("backfill_duration", region, at(sim.backfill_ms, region), at(live.backfill_ms, region), kDurationBandLow,
                             kDurationBandHigh, "ms"));
    rows.push_back(ratio_row("mean_batch_duration", region, at(sim.mean_batch_ms, region), at(live.mean_batch_ms, region),
                             kDurationBandLow, kDurationBandHigh, "ms"));
  }
  rows.push_back(ratio_row("max_stall", "", sim.max_stall_ms, live.max_stall_ms, kDurationBandLow, kDurationBandHigh, "ms"));
  rows.push_back(ratio_row("p99_write_latency", "", sim.p99_write_ms, live.p99_write_ms, kDurationBandLow, kDurationBandHigh, "ms"));
  if (spec.long_transaction_regions.empty()) {
    rows.push_back(ratio_row("ddl_wait", "", std::nullopt, std::nullopt, kDdlWaitBandLow, kDdlWaitBandHigh, "ms"));
  }
  for (const std::string& region : spec.long_transaction_regions) {
    rows.push_back(ratio_row("ddl_wait", region, at(sim.ddl_wait_ms, region), at(live.ddl_wait_ms, region), kDdlWaitBandLow,
                             kDdlWaitBandHigh, "ms"));
  }
  rows.push_back(ratio_row("max_replica_lag", "", sim.max_replica_lag_ms, live.max_replica_lag_ms, kLagBandLow, kLagBandHigh, "ms"));
  rows.push_back(ratio_row("app_errors", "", sim.app_errors, live.app_errors, kErrorBandLow, kErrorBandHigh, "", ConformMatch::errors));
  return rows;
}

}  // namespace rehearse
