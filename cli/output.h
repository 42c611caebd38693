// How `rehearse` prints results: the text verdict for people and the JSON objects of
// ../shared/spec/cli.md for scripts.
#pragma once

#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/run_result.h"

namespace rehearse::cli {

// The `run --json` object.
nlohmann::json run_json(const RunResult& result);
// One history event as a JSON object (a line of history.jsonl / --trace).
nlohmann::json event_json(const Event& event);
// The human summary of a run: verdict, violations, outcome, statistics, replay command (a live
// run: the command that runs it again).
void print_run_text(std::ostream& out, const RunResult& result, const std::string& scenario_argument, bool live = false);

}  // namespace rehearse::cli
