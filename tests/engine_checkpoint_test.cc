// The engine over a stored checkpoint whose state text is no region state (written by hand, or
// by another tool): it notes the text and halts without touching the region, in either
// rollout, instead of aborting (region by region) or migrating it as if pending (all at once).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/engine.h"
#include "core/plan.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

class StepClock final : public Clock {
 public:
  TimeUs now() override { return now_us_; }
  void sleep_for(TimeUs duration_us) override { now_us_ += duration_us; }

 private:
  TimeUs now_us_ = 0;
};

class FixedRandom final : public Random {
 public:
  std::uint64_t next_u64() override { return 4; }
};

class NoTasks final : public Tasks {
 public:
  void spawn(const std::string& name, std::function<void()> task) override {
    (void)name;
    (void)task;  // the keepalive is not needed: the fake lease never expires
  }
};

class AlwaysGrantedLock final : public LockClient {
 public:
  Result<Lease> try_acquire(TimeUs ttl_us) override { return Lease{7, 0, ttl_us}; }
  Status renew(const Lease& lease, TimeUs ttl_us) override {
    (void)lease;
    (void)ttl_us;
    return Status::ok();
  }
  Status release(const Lease& lease) override {
    (void)lease;
    return Status::ok();
  }
};

// Counts every write the engine makes (there must be none).
struct Writes {
  int count = 0;
};

class CountingFlags final : public FlagStore {
 public:
  explicit CountingFlags(Writes& writes) : writes_(writes) {}
  Status set_flag(const std::string& region, const std::string& flag, bool on, const Fence& fence) override {
    (void)region, (void)flag, (void)on, (void)fence;
    ++writes_.count;
    return Status::ok();
  }
  Result<bool> get_flag(const std::string& region, const std::string& flag) override {
    (void)region, (void)flag;
    return false;
  }

 private:
  Writes& writes_;
};

class Events final : public Recorder {
 public:
  void record(Event event) override { events.push_back(std::move(event)); }
  std::vector<Event> events;
};

// A region database whose checkpoint (of this plan) holds `state`; every write is counted.
class StoredStateDatabase final : public RegionDatabase {
 public:
  StoredStateDatabase(std::string region, CheckpointKey key, std::string state, Writes& writes)
      : region_(std::move(region)), key_(std::move(key)), state_(std::move(state)), writes_(writes) {}
  const std::string& region() const override { return region_; }
  Status execute_ddl(const DdlStatement& statement, const DdlLimits& limits, const Fence& fence) override {
    (void)statement, (void)limits, (void)fence;
    ++writes_.count;
    return Status::ok();
  }
  Result<std::int64_t> backfill(const BackfillBatch& batch, const Checkpoint& then, const Fence& fence) override {
    (void)batch, (void)then, (void)fence;
    ++writes_.count;
    return std::int64_t{0};
  }
  Result<RangeChecksum> checksum(const BackfillBatch& range, BackfillSource source) override {
    (void)range, (void)source;
    return RangeChecksum{};
  }
  Result<KeyRange> key_range(const std::string& table) override {
    (void)table;
    return KeyRange{1, 0};
  }
  Result<std::vector<std::string>> columns(const std::string& table) override {
    (void)table;
    return std::vector<std::string>{};
  }
  Result<Checkpoint> read_checkpoint(const CheckpointKey& key) override {
    Checkpoint checkpoint;
    checkpoint.exists = true;
    checkpoint.key = key;
    checkpoint.state = state_;
    checkpoint.token = 3;
    EXPECT_EQ(key, key_);
    return checkpoint;
  }
  Status write_checkpoint(const Checkpoint& checkpoint, const Fence& fence) override {
    (void)checkpoint, (void)fence;
    ++writes_.count;
    return Status::ok();
  }
  Result<TimeUs> replication_lag() override { return TimeUs{0}; }

 private:
  std::string region_;
  CheckpointKey key_;
  std::string state_;
  Writes& writes_;
};

std::string scenario_text(const std::string& rollout) {
  return R"yaml(name: stored-state
description: engine over a stored checkpoint state.
duration: 10m
topology:
  regions:
    - {name: us-east-1}
lock: {backend: redis, ttl: 10s, renew_every: 3s, fencing: storage}
engine: {instances: 1, rollout: )yaml" + rollout + R"yaml(, acquire_retries: 0}
table:
  rows: 100
  columns:
    amount: {type: numeric, gen: "0..100000", scale: 2}
migration:
  name: cents
  operations:
    - add_column: {column: amount_cents, type: bigint, up: "round(amount * 100)"}
faults: []
)yaml";
}

struct EngineRun {
  EngineExit exit;
  int writes;
  std::vector<Event> events;
};

EngineRun run_over_stored_state(const std::string& rollout, const std::string& state) {
  const Scenario scenario = testing::from_text(scenario_text(rollout));
  MigrationPlan plan = compile_plan(scenario).value();
  Writes writes;
  StoredStateDatabase database("us-east-1", checkpoint_key(plan), state, writes);
  StepClock clock;
  FixedRandom random;
  NoTasks tasks;
  AlwaysGrantedLock lock;
  CountingFlags flags(writes);
  Events recorder;
  Engine engine(scenario.lock, scenario.engine, std::move(plan), {"us-east-1"},
                EnginePorts{clock, random, tasks, lock, flags, recorder,
                            [&database](const std::string&) -> RegionDatabase& { return database; }});
  const EngineExit exit = engine.run();
  return EngineRun{exit, writes.count, std::move(recorder.events)};
}

bool noted(const EngineRun& run, const std::string& text) {
  for (const Event& event : run.events) {
    if (event.kind == EventKind::message && event.detail.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(EngineStoredState, UnknownStateHaltsWithoutTouchingTheRegion) {
  // The same stored text in both rollouts: halted, the text named, not one write made.
  for (const char* rollout : {"region-by-region", "all-at-once"}) {
    const EngineRun run = run_over_stored_state(rollout, "halfway");
    EXPECT_EQ(run.exit, EngineExit::halted) << rollout;
    EXPECT_EQ(run.writes, 0) << rollout;
    EXPECT_TRUE(noted(run, "the checkpoint's state \"halfway\" is no region state")) << rollout;
  }
}

TEST(EngineStoredState, KnownStateResumesFromIt) {
  // The control: a stored "contracted" is done (no write); a stored "reads_switched" resumes
  // at validation under the new token, so the engine writes (and never notes an unknown state).
  for (const char* rollout : {"region-by-region", "all-at-once"}) {
    const EngineRun done = run_over_stored_state(rollout, "contracted");
    EXPECT_EQ(done.exit, EngineExit::completed) << rollout;
    EXPECT_EQ(done.writes, 0) << rollout;
    const EngineRun resumed = run_over_stored_state(rollout, "reads_switched");
    EXPECT_EQ(resumed.exit, EngineExit::completed) << rollout;
    EXPECT_GT(resumed.writes, 0) << rollout;
    EXPECT_FALSE(noted(resumed, "is no region state")) << rollout;
  }
}

}  // namespace
}  // namespace rehearse
