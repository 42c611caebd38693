// The `run --json` object (../shared/spec/cli.md) and one JSON object per history event: the one
// writer of both, used by `rehearse run --json` / `--trace` (cli/) and by a report's result.json
// and history.jsonl.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/run_result.h"

namespace rehearse::reports {

nlohmann::json run_object(const RunResult& result);
// The stats' split by cause (an extension, docs/cli.md): app_errors_by_cause,
// max_stall_ms_by_cause and max_replica_lag_ms_by_cause, each {"migration": N, "fault": M}.
void add_stats_by_cause(nlohmann::json& stats, const RunStats& s);
nlohmann::json event_object(const Event& event);
// Every event of the history, one compact JSON object a line.
std::string history_lines(const History& history);

}  // namespace rehearse::reports
