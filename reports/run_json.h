// result.json and history.jsonl: the `run --json` object and one JSON object per event, in
// exactly the form of cli/output.h's run_json() / event_json(). reports/ may not depend on
// cli/ (the CLI links the reports, not the other way round), so the two are mirrored here;
// tests/report_test.cc checks that they stay identical to the CLI's.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/run_result.h"

namespace rehearse::reports {

nlohmann::json run_object(const RunResult& result);
// The stats' split by cause (an extension, docs/cli.md): app_errors_by_cause,
// max_stall_ms_by_cause and max_replica_lag_ms_by_cause, each {"migration": N, "fault": M}.
// Shared by both mirrors.
void add_stats_by_cause(nlohmann::json& stats, const RunStats& s);
nlohmann::json event_object(const Event& event);
// Every event of the history, one compact JSON object a line.
std::string history_lines(const History& history);

}  // namespace rehearse::reports
