// Reading a `sweep --json` output back (sweep/merge_input.h).
#include "sweep/merge_input.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "core/buggify.h"
#include "core/probes.h"

namespace rehearse::sweep {

namespace {

constexpr int kMaxJsonDepth = 64;  // a sweep summary nests 3 levels

bool is_count(const nlohmann::json& object, const char* key) {
  return object.is_object() && object.contains(key) && object[key].is_number_unsigned();
}

// A count read into a signed 64-bit field (hits, fires): 2^63 and beyond would read as negative.
bool is_signed_count(const nlohmann::json& object, const char* key) {
  return is_count(object, key) &&
         object[key].get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
}

// The deepest nesting of arrays and objects in JSON text (strings skipped), counted without
// recursion: nlohmann::json parses iteratively but copies, compares and destroys recursively,
// and a million '[' overflowed the stack.
int json_depth(const std::string& text) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

bool is_seed_list(const nlohmann::json& json) {
  if (!json.is_array()) return false;
  for (const auto& seed : json) {
    if (!seed.is_number_unsigned()) return false;
  }
  return true;
}

// Fills `summary` from a parsed sweep object; returns the problem, or "" when it is valid.
std::string parse_summary(const nlohmann::json& json, SweepSummary& summary) {
  if (!json.is_object()) return "not a JSON object";
  if (!json.contains("scenario") || !json["scenario"].is_string()) return "\"scenario\" missing or not a string";
  if (!json.contains("seeds_run") || !json["seeds_run"].is_number_unsigned()) return "\"seeds_run\" missing or not a count";
  if (!json.contains("violating_seeds") || !is_seed_list(json["violating_seeds"])) {
    return "\"violating_seeds\" missing or not a list of seeds";
  }
  if (!json.contains("by_invariant") || !json["by_invariant"].is_object()) return "\"by_invariant\" missing or not an object";
  if (!json.contains("wall_ms") || !json["wall_ms"].is_number_unsigned() ||
      json["wall_ms"].get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return "\"wall_ms\" missing or not a count of milliseconds below 2^63";
  summary.scenario = json["scenario"].get<std::string>();
  summary.seeds_run = json["seeds_run"].get<std::uint64_t>();
  summary.violating_seeds = json["violating_seeds"].get<std::vector<std::uint64_t>>();
  summary.wall_ms = json["wall_ms"].get<std::int64_t>();
  for (const auto& [invariant, seeds] : json["by_invariant"].items()) {
    if (!is_seed_list(seeds)) return fmt::format("\"by_invariant\".\"{}\" is not a list of seeds", invariant);
    summary.by_invariant[invariant] = seeds.get<std::vector<std::uint64_t>>();
  }
  return parse_coverage(json, summary);
}

}  // namespace

// Reads `probes` (and `buggify`) back from a sweep object. Both are optional (a summary from
// a build without them merges as zero coverage); an unknown probe or site name is an error,
// since it comes from another build whose counts cannot be compared.
std::string parse_coverage(const nlohmann::json& json, SweepSummary& summary) {
  if (json.contains("probes")) {
    if (!json["probes"].is_object()) return "\"probes\" is not an object";
    for (const auto& [name, tally] : json["probes"].items()) {
      const std::optional<Probe> probe = probe_named(name);
      if (!probe) return fmt::format("\"probes\": unknown probe '{}' (from another build?)", name);
      if (!is_count(tally, "seeds") || !is_signed_count(tally, "hits"))
        return fmt::format("\"probes\".\"{}\" needs seeds and hits (counts, hits below 2^63)", name);
      summary.probes[static_cast<std::size_t>(*probe)] = {tally["seeds"].get<std::uint64_t>(), tally["hits"].get<std::int64_t>()};
    }
  }
  if (!json.contains("buggify")) return "";
  if (!json["buggify"].is_object()) return "\"buggify\" is not an object";
  summary.buggify = true;
  for (const auto& [name, tally] : json["buggify"].items()) {
    const auto& sites = all_fault_sites();
    const auto site = std::find_if(sites.begin(), sites.end(), [&wanted = name](const FaultSiteInfo& info) { return wanted == info.name; });
    if (site == sites.end()) return fmt::format("\"buggify\": unknown site '{}' (from another build?)", name);
    if (!is_count(tally, "enabled_seeds") || !is_count(tally, "fired_seeds") || !is_signed_count(tally, "fires")) {
      return fmt::format("\"buggify\".\"{}\" needs enabled_seeds, fired_seeds and fires (counts, fires below 2^63)", name);
    }
    summary.sites[static_cast<std::size_t>(site->site)] = {tally["enabled_seeds"].get<std::uint64_t>(),
                                                           tally["fired_seeds"].get<std::uint64_t>(),
                                                           tally["fires"].get<std::int64_t>()};
  }
  return "";
}

std::variant<MergeInput, std::string> parse_merge_input(const std::string& text, const std::string& file) {
  if (const int depth = json_depth(text); depth > kMaxJsonDepth) {
    return fmt::format("{}: JSON nested {} levels deep, above the limit of {} (a sweep summary nests 3)", file, depth,
                       kMaxJsonDepth);
  }
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded()) return file + ": not valid JSON (expected the output of `rehearse sweep --json`)";
  MergeInput input;
  input.file = file;
  const std::string problem = parse_summary(json, input.summary);
  if (!problem.empty()) return file + ": not a sweep summary: " + problem;
  if (json.contains("seeds")) input.seeds = json["seeds"];
  if (json.contains("shard")) input.shard = json["shard"];
  return input;
}

}  // namespace rehearse::sweep
