// Reading one `sweep --json` output back for `rehearse merge` (sweep/merge.h, cli/merge.cc): the
// text of one file in, the summary and its coverage fields out, or the problem. Kept apart from
// the rest of sweep/ so that the merge fuzz target (fuzz/merge_fuzz.cc) links only this and
// rehearse_core.
#pragma once

#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "sweep/summary.h"

namespace rehearse::sweep {

struct MergeInput {
  std::string file;
  SweepSummary summary;
  nlohmann::json seeds;  // the optional "seeds" and "shard" fields, null when absent
  nlohmann::json shard;
};

// Parses `text`, the content of `file`; on failure returns the message to print after
// "rehearse: " (it names the file).
std::variant<MergeInput, std::string> parse_merge_input(const std::string& text, const std::string& file);

// Reads `probes` (and `buggify`) of a sweep object (summary_json) back into `summary`; returns
// the problem, or "" when they are valid.
std::string parse_coverage(const nlohmann::json& json, SweepSummary& summary);

}  // namespace rehearse::sweep
