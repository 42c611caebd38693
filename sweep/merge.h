// Merging the `sweep --json` outputs of several shards (or seed ranges) of one scenario into one
// summary of the same shape: violating seeds united and sorted, by_invariant merged, seeds_run,
// wall_ms and the coverage counts summed, every sum checked for overflow. The inputs are read
// by sweep/merge_input.h; `rehearse merge` (cli/merge.cc) prints the result.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "sweep/merge_input.h"
#include "sweep/summary.h"

namespace rehearse::sweep {

// Inputs must name one scenario and must not cover the same seeds twice: the problem (a message
// to print after "rehearse: ", naming the file), or "" when they can be merged.
std::string merge_problem(const std::vector<MergeInput>& inputs);

// The merged summary, or the message (after "rehearse: ") naming a sum that does not fit its
// type. REQUIRES: inputs not empty.
std::variant<SweepSummary, std::string> merge_summaries(const std::vector<MergeInput>& inputs);

// Adds "seeds" and "shards" to the merged object when every input agrees on them; returns the
// warning to print after "rehearse: " when shards of one split are missing, "" otherwise.
std::string describe_coverage(const std::vector<MergeInput>& inputs, nlohmann::json& merged);

}  // namespace rehearse::sweep
