// The lock-backend scenario pairs of the built-in library (docs/lock-backends.md): each
// mistake shows its violation on at least one seed, and its fixed twin passes on every seed.
// Seeds 1..10 by default; REHEARSE_LOCK_SEEDS=50 widens the sweep (the default run stays fast
// enough for the sanitizer build). Each scenario's own `expect:` must agree with the table.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

struct LockPair {
  const char* mistake;
  const char* twin;
  const char* invariant;  // what the mistake must show
};

const std::vector<LockPair>& lock_pairs() {
  static const std::vector<LockPair> pairs = {
      {"partitioned-holder-no-fencing", "partitioned-holder-fenced", "mutual-exclusion"},
      {"delayed-write-client-fencing", "delayed-write-fenced", "mutual-exclusion"},
      {"redlock-clock-jump", "redlock-clock-jump-fenced", "mutual-exclusion"},
      {"redlock-restart-no-persistence", "redlock-delayed-restart", "mutual-exclusion"},
      {"redis-failover-lost-lock", "etcd-failover-keeps-lock", "mutual-exclusion"},
      {"etcd-partitioned-holder", "etcd-partitioned-holder-fenced", "mutual-exclusion"},
      {"zookeeper-session-expiry", "zookeeper-session-expiry-fenced", "mutual-exclusion"},
      {"ttl-shorter-than-batch", "ttl-shorter-than-batch-fenced", "mutual-exclusion"},
      {"client-fencing-pause", "client-fencing-pause-fenced", "mutual-exclusion"},
      {"long-transaction-ttl", "long-transaction-ttl-lock-timeout", "mutual-exclusion"},
      {"app-database-lock-outage", "redis-lock-outage", "liveness"},
      {"app-database-lock-failover", "zookeeper-lock-failover", "mutual-exclusion"},
      {"thundering-herd-no-jitter", "thundering-herd-long-backoff", "liveness"},
  };
  return pairs;
}

std::uint64_t seeds_to_sweep() {
  const char* text = std::getenv("REHEARSE_LOCK_SEEDS");
  const long seeds = text == nullptr ? 10 : std::strtol(text, nullptr, 10);
  return seeds > 0 ? static_cast<std::uint64_t>(seeds) : 10;
}

bool reports(const RunResult& result, const std::string& invariant) {
  return std::any_of(result.violations.begin(), result.violations.end(),
                     [&invariant](const Violation& violation) { return violation.invariant == invariant; });
}

class LockScenarioPairs : public ::testing::TestWithParam<LockPair> {};

TEST_P(LockScenarioPairs, MistakeShowsItsViolationAndTheTwinPasses) {
  // For seeds 1..N: the fixed twin never violates anything, and the mistake reports its
  // invariant on at least one seed (its expect: says within 20 seeds; N defaults to 10).
  const LockPair& pair = GetParam();
  const Scenario mistake = testing::builtin(pair.mistake);
  const Scenario twin = testing::builtin(pair.twin);
  ASSERT_EQ(mistake.expect.verdict, Verdict::violation) << pair.mistake;
  ASSERT_NE(std::find(mistake.expect.invariants.begin(), mistake.expect.invariants.end(), pair.invariant),
            mistake.expect.invariants.end())
      << pair.mistake;
  ASSERT_EQ(twin.expect.verdict, Verdict::pass) << pair.twin;
  const std::uint64_t seeds = seeds_to_sweep();
  std::vector<std::uint64_t> violating;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    const RunResult fixed = sim::simulate(twin, seed);
    EXPECT_FALSE(fixed.violated()) << pair.twin << " seed " << seed << ": "
                                   << (fixed.violated() ? fixed.violations.front().detail : "");
    if (reports(sim::simulate(mistake, seed), pair.invariant)) violating.push_back(seed);
  }
  EXPECT_FALSE(violating.empty()) << pair.mistake << " showed no " << pair.invariant << " in seeds 1.." << seeds;
}

INSTANTIATE_TEST_SUITE_P(Lock, LockScenarioPairs, ::testing::ValuesIn(lock_pairs()),
                         [](const ::testing::TestParamInfo<LockPair>& param) {
                           std::string name = param.param.mistake;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(LockScenarioLibrary, EveryLockScenarioIsListedWithItsSentence) {
  // `rehearse list` shows every scenario of the pairs with the first sentence of its description.
  const auto listed = list_builtin_scenarios();
  for (const LockPair& pair : lock_pairs()) {
    for (const char* name : {pair.mistake, pair.twin}) {
      auto found = std::find_if(listed.begin(), listed.end(), [name](const auto& entry) { return entry.first == name; });
      ASSERT_NE(found, listed.end()) << name;
      EXPECT_FALSE(found->second.empty()) << name;
      EXPECT_EQ(found->second.back(), '.') << name << ": " << found->second;
    }
  }
}

// A swarm of random pauses, partitions, clock jumps, crashes and delays against `lock`, with
// storage fencing (the sweep of docs/lock-backends.md, there over seeds 1..300).
std::string random_fault_scenario(const std::string& lock, const std::string& targets) {
  return R"yaml(name: lock-sweep
description: Random faults against the lock with storage fencing.
duration: 10m
topology:
  regions:
    - {name: us-east-1, replicas: 0}
    - {name: eu-west-1, replicas: 0}
  clocks: {max_skew: 50ms, max_drift_ppm: 100}
lock: )yaml" + lock + R"yaml(
engine:
  instances: 3
  start_jitter: 0s..5s
  batch_size: 200
  batch_pause: 200ms
  max_replication_lag: 0s
  acquire_timeout: 5m
  backoff: {base: 100ms, max: 2s, jitter: full}
table:
  name: orders
  rows: 4000
  columns:
    amount: {type: numeric, gen: "0..100000", scale: 2}
    legacy_flag: {type: boolean}
migration:
  name: amount_to_cents
  operations:
    - add_column: {column: amount_cents, type: bigint, up: "round(amount * 100)"}
    - drop_column: {column: legacy_flag}
random_faults:
  rate: 1/10s
  kinds: [pause, partition, clock_jump, crash, delay]
  targets: )yaml" + targets + R"yaml(
  max_duration: 20s
  quiet_after: 3m
)yaml";
}

TEST(LockRandomFaults, StorageFencingKeepsMutualExclusionOnEveryBackend) {
  // Seeds 1..N of a random fault swarm against each backend whose token cannot go back: no
  // mutual-exclusion violation. (Stores that can lose their counter are the finding of
  // docs/lock-backends.md and have their own scenarios.)
  const std::vector<std::pair<std::string, std::string>> backends = {
      {"{backend: redis, ttl: 10s, renew_every: 3s, fencing: storage}", "[engine-*, lock-*, db:*]"},
      {"{backend: redlock, nodes: 3, ttl: 10s, renew_every: 3s, fencing: storage}", "[engine-*, lock-*, db:*]"},
      {"{backend: etcd, nodes: 3, ttl: 10s, renew_every: 3s, fencing: storage}", "[engine-*, lock-*, db:*]"},
      {"{backend: zookeeper, nodes: 3, ttl: 10s, renew_every: 3s, fencing: storage}", "[engine-*, lock-*, db:*]"},
      {"{backend: app-database, ttl: 10s, renew_every: 3s, fencing: storage}", "[engine-*, db:*]"},
  };
  const std::uint64_t seeds = seeds_to_sweep();
  for (const auto& [lock, targets] : backends) {
    const Scenario scenario = testing::from_text(random_fault_scenario(lock, targets));
    for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
      const RunResult result = sim::simulate(scenario, seed);
      EXPECT_FALSE(reports(result, "mutual-exclusion")) << lock << " seed " << seed;
    }
  }
}

}  // namespace
}  // namespace rehearse
