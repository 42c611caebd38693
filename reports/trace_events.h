// The trace.json writer: the run as Chrome / Perfetto trace-event JSON (opens in
// ui.perfetto.dev or chrome://tracing). pid = region (the last pid is the "global" pseudo
// region), tid = node, named with "M" metadata events; "X" spans for leases, phases and fault
// windows, nested per thread; "i" instants for faults, crashes, lease expiries and losses and
// violations; "C" counters for replication lag, latency and backfill progress.
#pragma once

#include <nlohmann/json.hpp>

#include "core/run_result.h"
#include "reports/facts.h"

namespace rehearse::reports {

// {"traceEvents": [...], "displayTimeUnit": "ms", "otherData": {...}}; ts and dur in us.
nlohmann::json trace_json(const RunResult& result, const RunFacts& facts);

// The "C" counter events: from result.samples (replication lag, longest wait, requests,
// rows backfilled), or, when there are none, backfill progress from the applied backfill writes.
void add_counters(nlohmann::json& events, const RunResult& result, const RunFacts& facts);

}  // namespace rehearse::reports
