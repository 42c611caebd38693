// Coverage probes (core/probes.h) and BUGGIFY fault points (core/buggify.h, sim/buggify.h).
//
// 1. The built-in library reaches every probe: a handful of built-in scenarios, one or two seeds
//    each, run on two threads; the union of their probe counts must cover the whole probe list,
//    so a probe that nothing reaches (or a new probe without a scenario) fails here.
// 2. Each probe fires in a targeted setup: small scenarios (2,000 rows) or the simulated network
//    alone, each built to reach one path, and a control run that must not reach it.
// 3. BUGGIFY: off, nothing is switched on or drawn (that existing trace hashes are unchanged is
//    checked against the previous build, see docs/coverage.md); on, the sites fire, runs stay
//    deterministic, and storage-fenced scenarios still pass every invariant over seeds.
#include <algorithm>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/buggify.h"
#include "core/probes.h"
#include "sim/kernel.h"
#include "sim/network.h"
#include "sim/world.h"
#include "sweep/runner.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

using testing::builtin;
using testing::from_text;

std::string probe_names(const ProbeCounts& counts, bool reached) {
  std::string names;
  for (const ProbeInfo& info : all_probes()) {
    if (counts.reached(info.probe) == reached) names += std::string(names.empty() ? "" : ", ") + info.name;
  }
  return names;
}

// ---- 1. The built-in library reaches every probe ----

struct BuiltinRun {
  const char* scenario;
  std::vector<std::uint64_t> seeds;
};

// The cheapest built-ins that together reach every probe (measured; see docs/coverage.md for a
// sweep of the whole library). Each line says what it is here for.
const std::vector<BuiltinRun> kCoverageRuns = {
    {"gc-pause-fenced", {1}},            // lease expired while paused, stale token, lost and re-acquired
    {"lock-timeout", {1}},               // DDL timed out behind a transaction, transient retries
    {"lag-throttling", {1}},             // backfill throttled by lag
    {"rollback-without-down", {1}},      // validation mismatch re-backfilled, rollback
    {"unbatched-backfill", {1, 2}},      // row-lock waits (seed 2: the UPDATE reaches a row a write holds)
    {"redlock-clock-jump", {1}},         // clock jump expired a lease early, client check refused a write
    {"redis-failover-lost-lock", {1}},   // lock failover, partition cuts
    {"delayed-write-fenced", {1}},       // ambiguous outcome
    {"redis-lock-outage", {1}},          // acquire gave up
    {"gc-pause-random-faults", {1, 7}},  // engine crashed and restarted, messages held for a paused node
};

TEST(Probes, EveryProbeIsReachedBySomeBuiltinScenario) {
  std::set<std::string> builtins;
  for (const auto& [name, description] : list_builtin_scenarios()) builtins.insert(name);
  ProbeCounts total;
  for (const BuiltinRun& run : kCoverageRuns) {
    ASSERT_TRUE(builtins.count(run.scenario)) << run.scenario << " is not a built-in scenario any more";
    const Scenario scenario = builtin(run.scenario);
    for (const sweep::SeedOutcome& outcome : sweep::run_seeds(scenario, run.seeds, 2, nullptr)) total.add(outcome.probes);
  }
  EXPECT_EQ(probe_names(total, false), "") << "probes no built-in run reached (reached: " << probe_names(total, true) << ")";
}

TEST(Probes, NamesAreUniqueAndRoundTrip) {
  std::set<std::string> names;
  for (const ProbeInfo& info : all_probes()) {
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    ASSERT_TRUE(probe_named(info.name).has_value()) << info.name;
    EXPECT_EQ(*probe_named(info.name), info.probe);
    EXPECT_NE(std::string(info.description), "");
  }
  EXPECT_FALSE(probe_named("no-such-probe").has_value());
}

// ---- 2. Each probe fires in a targeted setup ----

// A small world: one region (with `replicas`), a redis lock, `instances` engines, 2,000 rows
// in batches of 100, then `extra` YAML (faults, overrides). Its database is given a slow
// profile inline (150 us per updated row, as the simulator's former constants) so the backfill
// lasts about 3 s and a pause half a second in lands on a statement in flight. The keys added
// since (batch_overhead_us, the lag read's) keep what the simulator charged before them.
std::string small_scenario(const std::string& fencing, int instances, int replicas, const std::string& engine_extra,
                           const std::string& extra) {
  return "name: probe-target\n"
         "description: A targeted setup for one coverage probe.\n"
         "duration: 3m\n"
         "topology:\n"
         "  regions:\n"
         "    - {name: us-east-1, replicas: " + std::to_string(replicas) + "}\n"
         "lock: {backend: redis, ttl: 5s, renew_every: 1s, fencing: " + fencing + "}\n"
         "engine: {instances: " + std::to_string(instances) + ", batch_size: 100, start_jitter: 0s..1s" +
         engine_extra + "}\n"
         "table:\n"
         "  rows: 2000\n"
         "  columns:\n"
         "    amount: {type: numeric, gen: \"0..1000\", scale: 2}\n"
         "migration:\n"
         "  operations:\n"
         "    - add_column: {column: amount_cents, type: bigint, up: \"round(amount * 100)\"}\n"
         "costs: {statement_base_us: 300, ddl_us: 2000, update_per_row_us: 150, app_write_us: 300, app_read_us: 100, "
         "lookup_us: 200, batch_overhead_us: 0, lag_read_us: 200, lag_read_per_replica_us: 0, replica_apply_per_row_us: 200}\n" +
         extra;
}

RunResult run_small(const std::string& text, std::uint64_t seed = 1) {
  const Scenario scenario = from_text(text);
  return sim::simulate(scenario, seed);
}

const char* kPauseHolderInBackfill = "faults:\n  - {at: {phase: backfill, region: us-east-1, after: 500ms}, pause: holder, for: 12s}\n";

TEST(Probes, PausedHolderOfAFencedLock) {
  // Two engines, the holder paused past its TTL in backfill: its lease expires while paused,
  // the other engine resumes from the checkpoint and cursor, the paused one's late write is
  // rejected as stale and its renewal refused, and it then re-acquires to find the work done.
  // Seed 14: its pause lands while a batch is in flight (a seed whose pause falls between two
  // statements reaches the expiry, but no held reply or late write).
  const RunResult paused = run_small(small_scenario("storage", 2, 0, "", kPauseHolderInBackfill), 14);
  EXPECT_FALSE(paused.violated());
  for (Probe probe : {Probe::lease_expired_while_holder_paused, Probe::stale_token_rejected, Probe::resumed_from_checkpoint,
                      Probe::backfill_resumed_from_cursor, Probe::message_held_for_paused_node}) {
    EXPECT_TRUE(paused.probes.reached(probe)) << probe_info(probe).name << "; reached: " << probe_names(paused.probes, true);
  }
  const RunResult control = run_small(small_scenario("storage", 2, 0, "", ""));
  EXPECT_EQ(probe_names(control.probes, true).find("lease-expired"), std::string::npos) << probe_names(control.probes, true);
  EXPECT_FALSE(control.probes.reached(Probe::stale_token_rejected));
}

// Client timeouts (sim/app.cc, AppServer::watch): with the application cut from its primary
// for 30 s (the engine paused meanwhile, so the run outlasts the cut), every request sent into the cut fails exactly its client timeout after it was due,
// none waits longer, and the requests before the cut finish in time.
TEST(Probes, ARequestCutFromItsDatabaseFailsAtItsClientTimeout) {
  const Scenario scenario = from_text(small_scenario(
      "storage", 1, 0, "",
      "workload: {writes_per_s: 50, reads_per_s: 50}\n"
      "faults:\n  - {at: 2s, partition: [app:us-east-1], from: [db:us-east-1], for: 30s}\n"
      "  - {at: 1s, pause: engine-1, for: 40s}\n"));  // the migration waits: the run outlasts the cut
  sim::WorldOptions options;
  options.keep_request_latencies = true;
  sim::World world(scenario, 1, compile_plan(scenario).value(), options);
  world.run();
  std::int64_t failed = 0;
  std::int64_t before_cut = 0;
  for (const RequestLatency& request : world.observations().request_latencies) {
    EXPECT_LE(request.waited_us, kAppRequestTimeoutUs) << request.sent_us;
    if (request.failed) {
      ++failed;
      EXPECT_EQ(request.waited_us, kAppRequestTimeoutUs) << request.sent_us;
      EXPECT_GE(request.sent_us, 2 * kSec - kAppRequestTimeoutUs) << "sent long before the cut";
    } else if (request.sent_us < 2 * kSec) {
      ++before_cut;
    }
  }
  EXPECT_GT(failed, 1000);  // 30 s at 100 requests/s, less those sent in its last 10 s
  EXPECT_GT(before_cut, 100);
}

TEST(Probes, SingleEngineLosesAndReacquiresItsLease) {
  // One engine paused past its TTL: nobody takes over, so on resume its renewal is refused and
  // the same process acquires the lock again.
  const RunResult result = run_small(small_scenario("storage", 1, 0, "", kPauseHolderInBackfill));
  EXPECT_TRUE(result.probes.reached(Probe::renewal_refused)) << probe_names(result.probes, true);
  EXPECT_TRUE(result.probes.reached(Probe::lock_lost_and_reacquired)) << probe_names(result.probes, true);
}

TEST(Probes, ClientFencingRefusesAWriteAfterExpiry) {
  const RunResult result = run_small(small_scenario("client", 1, 0, "", kPauseHolderInBackfill));
  EXPECT_TRUE(result.probes.reached(Probe::client_check_refused_write)) << probe_names(result.probes, true);
  const RunResult storage = run_small(small_scenario("storage", 1, 0, "", kPauseHolderInBackfill));
  EXPECT_FALSE(storage.probes.reached(Probe::client_check_refused_write));
}

TEST(Probes, DdlTimesOutBehindALongTransaction) {
  const std::string blocked = small_scenario("storage", 1, 0, ", lock_timeout: 1s",
                                             "faults:\n  - {at: 0s, long_transaction: db:us-east-1, for: 8s}\n");
  const RunResult result = run_small(blocked);
  EXPECT_TRUE(result.probes.reached(Probe::ddl_timed_out_behind_transaction)) << probe_names(result.probes, true);
  EXPECT_TRUE(result.probes.reached(Probe::transient_failure_retried));
  EXPECT_EQ(result.outcome, "completed");
  const RunResult control = run_small(small_scenario("storage", 1, 0, ", lock_timeout: 1s", ""));
  EXPECT_FALSE(control.probes.reached(Probe::ddl_timed_out_behind_transaction));
}

TEST(Probes, BackfillThrottledByReplicationLag) {
  const std::string lagging = small_scenario(
      "storage", 1, 1, ", max_replication_lag: 1s",
      "faults:\n  - {at: {phase: backfill, region: us-east-1}, replication_lag: us-east-1, extra: 4s, for: 10s}\n");
  const RunResult result = run_small(lagging);
  EXPECT_TRUE(result.probes.reached(Probe::backfill_throttled_by_lag)) << probe_names(result.probes, true);
  const RunResult unthrottled = run_small(std::regex_replace(lagging, std::regex("max_replication_lag: 1s"), "max_replication_lag: 0s"));
  EXPECT_FALSE(unthrottled.probes.reached(Probe::backfill_throttled_by_lag));
}

TEST(Probes, EngineCrashedAndRestarted) {
  const RunResult result = run_small(small_scenario(
      "storage", 1, 0, "", "faults:\n  - {at: {phase: backfill, region: us-east-1, after: 1s}, crash: engine-1, restart_after: 2s}\n"));
  EXPECT_TRUE(result.probes.reached(Probe::engine_restarted_after_crash)) << probe_names(result.probes, true);
  EXPECT_TRUE(result.probes.reached(Probe::resumed_from_checkpoint)) << probe_names(result.probes, true);
  EXPECT_EQ(result.outcome, "completed");
}

TEST(Probes, LockFailoverAndPartitionCuts) {
  const std::string text = std::regex_replace(
      small_scenario("storage", 1, 0, "",
                     "faults:\n  - {at: {phase: backfill, region: us-east-1}, partition: [engine-1], from: [lock], for: 2s}\n"
                     "  - {at: {phase: validate, region: us-east-1}, failover: lock}\n"),
      std::regex("fencing: storage"), "fencing: storage, replica: true");
  const RunResult result = run_small(text);
  EXPECT_TRUE(result.probes.reached(Probe::lock_failover)) << probe_names(result.probes, true);
  EXPECT_TRUE(result.probes.reached(Probe::message_cut_by_partition)) << probe_names(result.probes, true);
}

TEST(Probes, AcquireGivesUpWhenTheLockIsDown) {
  const RunResult result = run_small(small_scenario("storage", 1, 0, ", acquire_timeout: 5s",
                                                    "faults:\n  - {at: 0s, crash: lock-1}\n"));
  EXPECT_TRUE(result.probes.reached(Probe::acquire_gave_up)) << probe_names(result.probes, true);
}

TEST(Probes, RollbackAndValidationMismatchOnTheirBuiltins) {
  // Validation re-backfills a range that a replica-sourced backfill got wrong, then gives up
  // and rolls back (the built-in's whole point; it is small enough to run here).
  const RunResult result = sim::simulate(builtin("rollback-without-down"), 1);
  EXPECT_TRUE(result.probes.reached(Probe::validation_mismatch_rebackfilled)) << probe_names(result.probes, true);
  EXPECT_TRUE(result.probes.reached(Probe::rollback_executed)) << probe_names(result.probes, true);
}

TEST(Probes, AppWritesWaitOnTheRowsOfAnUnbatchedBackfill) {
  // The one UPDATE of the whole table holds every row for about 1.5 s: application updates
  // queue on its row locks (at the measured costs a batch of a few hundred rows is over in
  // milliseconds, too soon for a write to meet it reliably).
  const RunResult result = sim::simulate(builtin("unbatched-backfill"), 1);
  EXPECT_TRUE(result.probes.reached(Probe::app_write_waited_for_backfill_rows)) << probe_names(result.probes, true);
}

TEST(Probes, AmbiguousOutcomeWhenTheReplyIsLost) {
  // The server applies the request; a partition then cuts its reply: the caller times out
  // without knowing, which the network counts once. A request that never arrives is not
  // ambiguous.
  sim::Kernel kernel(3);
  sim::Node& client = kernel.add_node("client", "eu");
  sim::Node& server = kernel.add_node("server", "eu");
  sim::Network network(kernel, 3, {1 * kMs, 1 * kMs}, {40 * kMs, 40 * kMs});
  int applied = 0;
  std::vector<bool> replied;
  kernel.spawn(client, "caller", [&] {
    auto reply = network.call<int>(client, server, 100 * kMs, [&] {
      ++applied;
      return sim::Reply<int>{1, 10 * kMs};  // busy 10 ms: the partition lands before the reply
    });
    replied.push_back(reply.has_value());
    auto lost = network.call<int>(client, server, 100 * kMs, [&] {
      ++applied;
      return sim::Reply<int>{2, 0};
    });
    replied.push_back(lost.has_value());
  });
  kernel.at(5 * kMs, [&] { network.add_partition({&client}, {&server}, false); });
  kernel.run_until(1 * kSec);
  kernel.shutdown();
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(replied, (std::vector<bool>{false, false}));
  EXPECT_EQ(kernel.probes().count(Probe::ambiguous_outcome), 1);
  EXPECT_GE(kernel.probes().count(Probe::message_cut_by_partition), 2);
}

TEST(Probes, CountsAreDeterministic) {
  // The same seed gives the same probe counts and the same trace hash.
  const std::string text = small_scenario("storage", 2, 0, "", kPauseHolderInBackfill);
  const RunResult a = run_small(text, 4);
  const RunResult b = run_small(text, 4);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  for (const ProbeInfo& info : all_probes()) EXPECT_EQ(a.probes.count(info.probe), b.probes.count(info.probe)) << info.name;
  EXPECT_TRUE(a.probes.reached(Probe::stale_token_rejected));
}

// ---- 3. BUGGIFY ----

TEST(Buggify, OffByDefaultAndDrawsNothing) {
  const Scenario scenario = builtin("gc-pause-fenced");
  EXPECT_FALSE(scenario.buggify);
  const RunResult result = sim::simulate(scenario, 1);
  EXPECT_FALSE(result.buggify.on);
  for (const FaultSiteInfo& info : all_fault_sites()) {
    EXPECT_FALSE(result.buggify.is_enabled(info.site)) << info.name;
    EXPECT_EQ(result.buggify.fires(info.site), 0) << info.name;
  }
  sim::Buggify off(7);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(off.fires(FaultSite::ddl_lock_timeout));
}

TEST(Buggify, SitesSwitchOnPerRunFromTheirOwnStreams) {
  // Each site decides once per run, from `buggify:<site>`: the same seed switches on the same
  // sites, and about a quarter of (seed, site) pairs are on.
  int on = 0;
  const int seeds = 200;
  for (std::uint64_t seed = 1; seed <= static_cast<std::uint64_t>(seeds); ++seed) {
    sim::Buggify a(seed);
    sim::Buggify b(seed);
    a.enable();
    b.enable();
    EXPECT_EQ(a.counts().enabled, b.counts().enabled) << seed;
    for (bool enabled : a.counts().enabled) on += enabled ? 1 : 0;
  }
  const double share = static_cast<double>(on) / (seeds * static_cast<double>(kFaultSiteCount));
  EXPECT_GT(share, 0.18);
  EXPECT_LT(share, 0.32);
  sim::Buggify all(5);
  all.enable(1.0);
  int fired = 0;
  for (int i = 0; i < 200; ++i) fired += all.fires(FaultSite::ddl_lock_timeout) ? 1 : 0;
  EXPECT_EQ(all.counts().fires(FaultSite::ddl_lock_timeout), fired);
  EXPECT_GT(fired, 20);  // fire probability 0.25
  EXPECT_LT(fired, 80);
}

// A storage-fenced scenario with buggify on: every site is switched on (the test's world
// option), so each of them fires somewhere over the seeds. Frequent renewals, paced batches and
// two DDL statements give every site enough chances.
TEST(Buggify, EverySiteFiresAndFencingStillHolds) {
  std::string text = small_scenario("storage", 2, 1, ", batch_pause: 200ms", kPauseHolderInBackfill);
  text = std::regex_replace(text, std::regex("renew_every: 1s"), "renew_every: 250ms");
  text = std::regex_replace(text, std::regex("(    - add_column: \\{column: amount_cents.*\n)"), "$1    - add_column: {column: note, type: text}\n");
  Scenario scenario = from_text(text);
  ASSERT_EQ(scenario.migration.operations.size(), 2u);
  scenario.buggify = true;
  sim::WorldOptions all_sites;
  all_sites.buggify_site_probability = 1.0;
  FaultSiteCounts total;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    const RunResult result = sim::simulate(scenario, seed, all_sites);
    EXPECT_FALSE(result.violated()) << "seed " << seed << ": " << result.violations.front().invariant << ": "
                                    << result.violations.front().detail;
    EXPECT_TRUE(result.buggify.on);
    for (std::size_t i = 0; i < kFaultSiteCount; ++i) total.fired[i] += result.buggify.fired[i];
  }
  for (const FaultSiteInfo& info : all_fault_sites()) EXPECT_GT(total.fires(info.site), 0) << info.name << " never fired";
}

TEST(Buggify, IsDeterministicPerSeed) {
  Scenario scenario = builtin("gc-pause-fenced");
  scenario.buggify = true;
  sim::WorldOptions all_sites;
  all_sites.buggify_site_probability = 1.0;
  const RunResult a = sim::simulate(scenario, 2, all_sites);
  const RunResult b = sim::simulate(scenario, 2, all_sites);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.buggify.fired, b.buggify.fired);
  const RunResult off = sim::simulate(builtin("gc-pause-fenced"), 2);
  EXPECT_NE(a.trace_hash, off.trace_hash);  // the sites did change the run
}

// The property: with storage fencing, BUGGIFY's legal misbehaviour never breaks an invariant.
// It can fail: a site that broke fencing (say, a checkpoint write that skipped the fence)
// would show up here as mutual-exclusion. Seeds run on two threads.
TEST(Buggify, FencedBuiltinsStillPassOverSeeds) {
  std::int64_t fires = 0;
  for (const char* name : {"gc-pause-fenced", "partitioned-holder-fenced", "lagging-replica-validated"}) {
    Scenario scenario = builtin(name);
    ASSERT_EQ(scenario.expect.verdict, Verdict::pass) << name;
    scenario.buggify = true;
    const std::vector<std::uint64_t> seeds = {1, 2, 3, 4, 5, 6};
    for (const sweep::SeedOutcome& outcome : sweep::run_seeds(scenario, seeds, 2, nullptr)) {
      EXPECT_FALSE(outcome.violated()) << name << " --seed " << outcome.seed << " --buggify: "
                                       << outcome.violations.front().invariant << ": " << outcome.violations.front().detail;
      for (std::int64_t fired : outcome.buggify.fired) fires += fired;
    }
  }
  EXPECT_GT(fires, 0);  // the property ran with sites that fired, not vacuously
}

TEST(Buggify, LoaderReadsTheKey) {
  const std::string base = small_scenario("storage", 1, 0, "", "");
  EXPECT_TRUE(from_text(base + "buggify: true\n").buggify);
  EXPECT_FALSE(from_text(base).buggify);
  const LoadResult bad = load_scenario_text(base + "buggify: often\n", "bad.yaml");
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace rehearse
