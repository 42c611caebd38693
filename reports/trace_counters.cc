// add_counters() of reports/trace_events.h.
#include <map>

#include "reports/trace_events.h"

namespace rehearse::reports {

namespace {

using nlohmann::json;

json counter(int pid, TimeUs at, const char* name, json args) {
  return {{"ph", "C"}, {"ts", at}, {"pid", pid}, {"tid", 0}, {"name", name}, {"args", std::move(args)}};
}

int region_pid(const RunFacts& facts, const std::string& region) {
  const int index = facts.layout.region_index(region);
  return index >= 0 ? index : facts.layout.global_region();
}

void sample_counters(json& events, const RunResult& result, const RunFacts& facts) {
  for (const MetricSample& sample : result.samples) {
    const int pid = region_pid(facts, sample.region);
    events.push_back(counter(pid, sample.time_us, "replication lag (ms)",
                             {{"lag_ms", static_cast<double>(sample.replication_lag_us) / kMs}}));
    events.push_back(counter(pid, sample.time_us, "longest wait (ms)",
                             {{"wait_ms", static_cast<double>(sample.max_latency_us) / kMs}}));
    events.push_back(counter(pid, sample.time_us, "requests per second",
                             {{"ok", sample.requests - sample.failed}, {"failed", sample.failed}}));
    events.push_back(counter(pid, sample.time_us, "rows backfilled", {{"rows", sample.rows_backfilled}}));
  }
}

void write_counters(json& events, const RunResult& result, const RunFacts& facts) {
  std::map<std::string, std::int64_t> rows_by_region;
  for (const Event& event : result.history.events()) {
    const bool backfill = event.kind == EventKind::write && event.write == WriteKind::backfill &&
                          event.outcome == Outcome::applied;
    if (!backfill) continue;
    std::int64_t& rows = rows_by_region[event.region];
    rows += event.b >= event.a ? event.b - event.a + 1 : 0;
    events.push_back(counter(region_pid(facts, event.region), event.time_us, "rows backfilled", {{"rows", rows}}));
  }
}

}  // namespace

void add_counters(json& events, const RunResult& result, const RunFacts& facts) {
  if (!result.samples.empty()) {
    sample_counters(events, result, facts);
  } else {
    write_counters(events, result, facts);
  }
}

}  // namespace rehearse::reports
