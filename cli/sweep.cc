// `rehearse sweep`: one scenario over many seeds, on several threads if asked, optionally one
// shard of the seed list (the seed runner and the summary are sweep/'s); prints the violating
// seeds grouped by invariant (text or the JSON object of cli.md) and can write JUnit XML.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <limits>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands_internal.h"

namespace rehearse::cli {

namespace {

constexpr std::uint64_t kDefaultSeedCount = 100;
constexpr std::uint64_t kMaxSeeds = 10'000'000;

struct SeedSelection {
  std::uint64_t first = 1;
  std::uint64_t last = kDefaultSeedCount;
  int shard_index = 0;  // 1-based; 0 = the whole list
  int shard_count = 0;
  std::vector<std::uint64_t> seeds;
};

bool parse_seed_range(const std::string& text, SeedSelection& selection) {
  const std::size_t dots = text.find("..");
  if (dots == std::string::npos) return false;
  const auto first = parse_decimal(std::string_view(text).substr(0, dots));
  const auto last = parse_decimal(std::string_view(text).substr(dots + 2));
  if (!first || !last || *first > *last) return false;
  selection.first = *first;
  selection.last = *last;
  return true;
}

bool parse_shard(const std::string& text, SeedSelection& selection) {
  const std::size_t slash = text.find('/');
  if (slash == std::string::npos) return false;
  const auto index = parse_decimal(std::string_view(text).substr(0, slash));
  const auto count = parse_decimal(std::string_view(text).substr(slash + 1));
  if (!index || !count || *index < 1 || *index > *count || *count > 1'000'000) return false;
  selection.shard_index = static_cast<int>(*index);
  selection.shard_count = static_cast<int>(*count);
  return true;
}

// The seeds of --seeds / --count / --shard; prints the problem and returns nullopt on bad input.
std::optional<SeedSelection> select_seeds(const SweepOptions& options) {
  SeedSelection selection;
  if (!options.seeds.empty() && !parse_seed_range(options.seeds, selection)) {
    std::cerr << "rehearse: --seeds: expected A..B of seeds 0..18446744073709551615 with A <= B, got '" << options.seeds << "'\n";
    return std::nullopt;
  }
  if (options.count) {
    if (*options.count == 0) {
      std::cerr << "rehearse: --count: must be at least 1\n";
      return std::nullopt;
    }
    selection.last = *options.count;
  }
  if (!options.shard.empty() && !parse_shard(options.shard, selection)) {
    std::cerr << "rehearse: --shard: expected K/N with 1 <= K <= N, got '" << options.shard << "'\n";
    return std::nullopt;
  }
  if (selection.last - selection.first >= kMaxSeeds) {
    std::cerr << fmt::format("rehearse: at most {} seeds per sweep (use --shard to split larger sweeps)\n", kMaxSeeds);
    return std::nullopt;
  }
  for (std::uint64_t seed = selection.first, index = 0;; ++seed, ++index) {
    if (selection.shard_count == 0 || index % selection.shard_count == static_cast<std::uint64_t>(selection.shard_index - 1)) {
      selection.seeds.push_back(seed);
    }
    if (seed == selection.last) break;
  }
  return selection;
}

std::string selection_text(const SeedSelection& selection) {
  std::string text = fmt::format("seeds {}..{}", selection.first, selection.last);
  if (selection.shard_count > 0) text = fmt::format("shard {}/{} of {}", selection.shard_index, selection.shard_count, text);
  return text;
}

nlohmann::json sweep_json(const SweepSummary& summary, const SeedSelection& selection) {
  nlohmann::json json = summary_json(summary);
  json["seeds"] = {{"first", selection.first}, {"last", selection.last}};
  if (selection.shard_count > 0) json["shard"] = {{"index", selection.shard_index}, {"count", selection.shard_count}};
  return json;
}

// The detail of the first `invariant` violation of `seed`. REQUIRES: outcomes sorted by seed.
std::string violation_detail(const std::vector<SeedOutcome>& outcomes, std::uint64_t seed, const std::string& invariant) {
  const auto found = std::lower_bound(outcomes.begin(), outcomes.end(), seed,
                                      [](const SeedOutcome& outcome, std::uint64_t wanted) { return outcome.seed < wanted; });
  if (found == outcomes.end() || found->seed != seed) return "";
  for (const Violation& violation : found->violations) {
    if (violation.invariant == invariant) return violation.detail;
  }
  return "";
}

void print_sweep_text(std::ostream& out, const SweepSummary& summary, const SeedSelection& selection,
                      const std::vector<SeedOutcome>& outcomes, const std::string& scenario_argument) {
  out << fmt::format("sweep {} ({}{}): {} seeds run, {} violating, {} ms wall\n", summary.scenario,
                     selection_text(selection), summary.buggify ? ", buggify on" : "", summary.seeds_run,
                     summary.violating_seeds.size(), summary.wall_ms);
  if (summary.violating_seeds.empty()) out << "no invariant violated\n";
  for (const auto& [invariant, seeds] : summary.by_invariant) {
    out << fmt::format("{} ({} seed{}):\n", invariant, seeds.size(), seeds.size() == 1 ? "" : "s");
    for (const std::uint64_t seed : seeds) {
      const std::string detail = violation_detail(outcomes, seed, invariant);
      out << fmt::format("  {}    # {}\n", reproduce_command(scenario_argument, seed), detail);
    }
  }
  print_coverage_text(out, summary);
}

}  // namespace

void print_coverage_text(std::ostream& out, const SweepSummary& summary) {
  std::size_t reached = 0;
  for (const auto& tally : summary.probes) reached += tally.seeds > 0 ? 1 : 0;
  out << fmt::format("coverage probes ({} of {} reached; seeds reaching it / hits):\n", reached, kProbeCount);
  for (const ProbeInfo& info : all_probes()) {
    const SweepSummary::ProbeTally& tally = summary.probes[static_cast<std::size_t>(info.probe)];
    const std::string hits = tally.seeds == 0 ? fmt::format("{:<8} NOT REACHED", tally.hits) : std::to_string(tally.hits);
    out << fmt::format("  {:<40} {:>6} / {}\n", info.name, tally.seeds, hits);
  }
  if (!summary.buggify) return;
  out << "buggify sites (seeds switching it on / seeds firing it / fires):\n";
  for (const FaultSiteInfo& info : all_fault_sites()) {
    const SweepSummary::SiteTally& tally = summary.sites[static_cast<std::size_t>(info.site)];
    out << fmt::format("  {:<40} {:>6} / {:<6} / {}\n", info.name, tally.enabled_seeds, tally.fired_seeds, tally.fires);
  }
}

CLI::App* add_sweep_command(CLI::App& app, SweepOptions& options) {
  CLI::App* command = app.add_subcommand("sweep", "Many seeds of one scenario: prints the violating seeds grouped by invariant");
  command->add_option("scenario", options.scenario, "Scenario file, or the name of a built-in scenario")->required();
  CLI::Option* seeds = command->add_option("--seeds", options.seeds, "Seeds A..B, inclusive");
  CLI::Option* count =
      command->add_option("--count", options.count, "Seeds 1..N (default: 100)")->check(unsigned_count(kMaxSeeds));
  seeds->excludes(count);
  command->add_option("--jobs", options.jobs, "Run seeds on J threads (results are the same as a serial sweep)")
      ->check(CLI::Range(1, 1024));
  command->add_option("--shard", options.shard, "Keep only shard K of N (1-based): seeds whose index mod N is K-1");
  command->add_flag("--json", options.json, "Print the sweep summary as one JSON object (cli.md)");
  command->add_option("--junit", options.junit, "Also write JUnit XML to FILE, one test case per seed");
  command->add_flag("--buggify", options.buggify,
                    "Turn BUGGIFY fault points on for every seed (an extension; see docs/coverage.md)");
  return command;
}

int command_sweep(const SweepOptions& options) {
  std::optional<SeedSelection> selection = select_seeds(options);
  if (!selection) return kExitBadInput;
  std::optional<Scenario> scenario = load_or_report(options.scenario);
  if (!scenario) return kExitBadInput;
  if (options.buggify) scenario->buggify = true;
  // The replay command must turn BUGGIFY on too, or it would not reproduce the seed.
  const std::string argument = options.buggify ? options.scenario + " --buggify" : options.scenario;
  std::ofstream junit;
  if (!options.junit.empty()) {
    junit.open(options.junit);
    if (!junit) {
      std::cerr << "rehearse: cannot write the JUnit report to " << options.junit << "\n";
      return kExitEnvironment;
    }
  }
  const auto started = std::chrono::steady_clock::now();
  ProgressLine progress(scenario->name);
  const std::vector<SeedOutcome> outcomes = run_seeds(*scenario, selection->seeds, options.jobs, &progress);
  const SweepSummary summary = summarize(scenario->name, outcomes, elapsed_ms(started));
  if (options.json) {
    std::cout << sweep_json(summary, *selection).dump(2) << "\n";
  } else {
    print_sweep_text(std::cout, summary, *selection, outcomes, argument);
  }
  if (!options.junit.empty()) {
    junit << junit_xml(summary, outcomes, argument);
    junit.close();
    if (!junit) {
      std::cerr << "rehearse: cannot write the JUnit report to " << options.junit << "\n";
      return kExitEnvironment;
    }
  }
  return summary.violating_seeds.empty() ? kExitPass : kExitViolation;
}

}  // namespace rehearse::cli
