// Merging sweep summaries (sweep/merge.h).
#include "sweep/merge.h"

#include <limits>
#include <set>

#include <fmt/format.h>

namespace rehearse::sweep {

namespace {

bool is_shard(const nlohmann::json& shard) {
  return shard.is_object() && shard.contains("index") && shard["index"].is_number_unsigned() && shard.contains("count") &&
         shard["count"].is_number_unsigned();
}

// Adds `value` to `*total`; false (and *overflowed names the field) when the sum does not fit.
template <class T> bool add_checked(T* total, T value, const char* field, std::string* overflowed) {
  if (!__builtin_add_overflow(*total, value, total)) return true;
  if (overflowed->empty()) *overflowed = field;
  return false;
}

}  // namespace

std::string merge_problem(const std::vector<MergeInput>& inputs) {
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].summary.scenario != inputs.front().summary.scenario) {
      return fmt::format("{}: scenario '{}' does not match '{}' of {}", inputs[i].file, inputs[i].summary.scenario,
                         inputs.front().summary.scenario, inputs.front().file);
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (!inputs[i].seeds.is_null() && inputs[i].seeds == inputs[j].seeds && inputs[i].shard == inputs[j].shard) {
        return fmt::format("{}: covers the same seeds as {} (merging both would count them twice)", inputs[i].file,
                           inputs[j].file);
      }
    }
  }
  return "";
}

std::string describe_coverage(const std::vector<MergeInput>& inputs, nlohmann::json& merged) {
  const nlohmann::json& seeds = inputs.front().seeds;
  for (const MergeInput& input : inputs) {
    if (input.seeds != seeds || !is_shard(input.shard)) return "";
    if (input.shard["count"] != inputs.front().shard["count"]) return "";
  }
  if (!seeds.is_null()) merged["seeds"] = seeds;
  const auto count = inputs.front().shard["count"].get<std::uint64_t>();
  std::set<std::uint64_t> indices;
  for (const MergeInput& input : inputs) indices.insert(input.shard["index"].get<std::uint64_t>());
  merged["shards"] = {{"count", count}, {"merged", indices}};
  if (indices.size() < count) {
    return fmt::format("warning: merged {} of {} shards; the summary covers only those", indices.size(), count);
  }
  return "";
}

std::variant<SweepSummary, std::string> merge_summaries(const std::vector<MergeInput>& inputs) {
  SweepSummary merged;
  merged.scenario = inputs.front().summary.scenario;
  std::set<std::uint64_t> violating;
  std::map<std::string, std::set<std::uint64_t>> by_invariant;
  std::string overflowed;
  for (const MergeInput& input : inputs) {
    add_checked(&merged.seeds_run, input.summary.seeds_run, "seeds_run", &overflowed);
    add_checked(&merged.wall_ms, input.summary.wall_ms, "wall_ms", &overflowed);
    violating.insert(input.summary.violating_seeds.begin(), input.summary.violating_seeds.end());
    for (const auto& [invariant, seeds] : input.summary.by_invariant) by_invariant[invariant].insert(seeds.begin(), seeds.end());
    // Shards cover disjoint seeds, so per-probe seed counts add up like hits do.
    for (std::size_t i = 0; i < kProbeCount; ++i) {
      add_checked(&merged.probes[i].seeds, input.summary.probes[i].seeds, "probes.seeds", &overflowed);
      add_checked(&merged.probes[i].hits, input.summary.probes[i].hits, "probes.hits", &overflowed);
    }
    merged.buggify = merged.buggify || input.summary.buggify;
    for (std::size_t i = 0; i < kFaultSiteCount; ++i) {
      add_checked(&merged.sites[i].enabled_seeds, input.summary.sites[i].enabled_seeds, "buggify.enabled_seeds", &overflowed);
      add_checked(&merged.sites[i].fired_seeds, input.summary.sites[i].fired_seeds, "buggify.fired_seeds", &overflowed);
      add_checked(&merged.sites[i].fires, input.summary.sites[i].fires, "buggify.fires", &overflowed);
    }
  }
  if (!overflowed.empty()) {
    return fmt::format("the merged \"{}\" does not fit a 64-bit count (the inputs' values sum past {}); "
                       "these are not the summaries of real sweeps",
                       overflowed, overflowed.find("seeds") != std::string::npos
                                       ? std::numeric_limits<std::uint64_t>::max()
                                       : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
  }
  merged.violating_seeds.assign(violating.begin(), violating.end());
  for (const auto& [invariant, seeds] : by_invariant) merged.by_invariant[invariant].assign(seeds.begin(), seeds.end());
  return merged;
}

}  // namespace rehearse::sweep
