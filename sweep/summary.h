// The summary of many seeds of one scenario: the `sweep --json` object of cli.md with its
// coverage extensions (docs/coverage.md), built from a run's seed outcomes (sweep/runner.h) or
// read back and merged from several (sweep/merge.h).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/buggify.h"
#include "core/probes.h"
#include "sweep/runner.h"

namespace rehearse::sweep {

// The `sweep --json` object of cli.md.
struct SweepSummary {
  std::string scenario;
  std::uint64_t seeds_run = 0;
  std::vector<std::uint64_t> violating_seeds;                     // ascending
  std::map<std::string, std::vector<std::uint64_t>> by_invariant;  // ascending seeds
  std::int64_t wall_ms = 0;
  // Extensions (docs/cli.md, docs/coverage.md): per coverage probe, the seeds that reached it
  // and its hits; per BUGGIFY site, the seeds that switched it on, that fired it, and its fires.
  struct ProbeTally {
    std::uint64_t seeds = 0;
    std::int64_t hits = 0;
  };
  struct SiteTally {
    std::uint64_t enabled_seeds = 0;
    std::uint64_t fired_seeds = 0;
    std::int64_t fires = 0;
  };
  std::array<ProbeTally, kProbeCount> probes{};
  bool buggify = false;  // some seed ran with BUGGIFY on: `buggify` is reported
  std::array<SiteTally, kFaultSiteCount> sites{};
};

SweepSummary summarize(const std::string& scenario, const std::vector<SeedOutcome>& outcomes, std::int64_t wall_ms);
nlohmann::json summary_json(const SweepSummary& summary);
// The coverage parts of a sweep summary: the `probes` and `buggify` objects. Reading them back
// is parse_coverage (sweep/merge_input.h).
nlohmann::json probes_json(const SweepSummary& summary);
nlohmann::json buggify_json(const SweepSummary& summary);

}  // namespace rehearse::sweep
