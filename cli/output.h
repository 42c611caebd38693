// How `rehearse` prints a run for people: the text verdict. The `run --json` object and the
// history's JSON lines for scripts have one writer, reports/run_json.h, which the commands and the
// postmortem's result.json and history.jsonl share.
#pragma once

#include <ostream>
#include <string>

#include "core/run_result.h"

namespace rehearse::cli {

// The human summary of a run: verdict, violations, outcome, statistics, replay command (a live
// run: the command that runs it again).
void print_run_text(std::ostream& out, const RunResult& result, const std::string& scenario_argument, bool live = false);

}  // namespace rehearse::cli
