// The scenario writer, the other half of the loader (scenarios/loader.h): scenario.yaml, the
// scenario as run, re-emitted from the model of core/model.h with the seed set and every setting
// written out (defaults included), so the file alone reproduces the run. Faults drawn by
// random_faults are listed, from the history's fault events, as a comment. Its callers: the
// postmortem's scenario.yaml (the CLI passes the text to reports/), `rehearse shrink`, and the
// live runner's engine processes.
#pragma once

#include <cstdint>
#include <string>

#include "core/history.h"
#include "core/model.h"

namespace rehearse {

// The YAML text of `scenario` with `seed:` set to `seed`; when `history` holds fault events of
// faults not written in the scenario (line 0: drawn by random_faults), a trailing comment
// block lists them.
std::string scenario_yaml(const Scenario& scenario, std::uint64_t seed, const History& history);

// The YAML text of `scenario` with `seed:` set to `seed`, after `header` (comment lines, each
// starting with '#' and ending with a newline; may be empty) and with no trailing comment: the
// file `rehearse shrink` writes. REQUIRES: header is empty or comment lines.
std::string scenario_yaml_with_header(const Scenario& scenario, std::uint64_t seed, const std::string& header);

// One fault as a flow map, exactly as an entry of `faults:` is written: {at: 12s, pause: engine-1, for: 15s}.
std::string fault_yaml(const FaultSpec& fault);

}  // namespace rehearse
