// Where the simulated database charges each cost of its profile (docs/calibration.md, "what it
// costs in the simulator"): each test gives a profile whose values are all different, drives
// one SimDatabase on a bare kernel and checks the simulated time a statement took to the
// microsecond, so a cost charged in the wrong place, twice, or not at all fails it.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/database.h"
#include "sim/kernel.h"
#include "tests/test_support.h"

namespace rehearse::sim {
namespace {

using testing::parsed;

constexpr std::int64_t kRows = 1000;
constexpr TimeUs kShippingUs = 700;  // the scenario's replication_lag (one value: nothing drawn)
// The table lock is granted on the next tick (1 us, never inside the lock's bookkeeping):
// every statement that takes it answers 1 us after its own cost.
constexpr TimeUs kGrantUs = 1;

CostProfile distinct_profile() {
  CostProfile costs;
  costs.statement_base_us = 11;
  costs.ddl_us = 13;
  costs.update_per_row_us = {{100, 3}, {10000, 5}};
  costs.insert_per_row_us = 2;
  costs.scan_per_row_us = 0.5;
  costs.index_build_per_row_us = 1.5;
  costs.table_rewrite_per_row_us = 4;
  costs.trigger_per_row_us = 1.25;
  costs.trigger_bypass_per_row_us = 0.75;
  costs.row_lock_hold_us = 37;
  costs.catalog_reload_us = 41;
  costs.trigger_first_call_us = 43;
  costs.trigger_create_us = 47;
  costs.trigger_ddl_us = 7;  // of trigger_create_us: the function's 40 first, without the table's lock
  costs.app_write_us = 29;
  costs.app_read_us = 17;
  costs.app_idle_wake_us = 0;  // a shared host's wake (only OnASharedHostAnIdleSessionsWake... sets it)
  costs.lookup_us = 19;
  costs.batch_overhead_us = 23;
  // One value at every percentile: every draw waits 53 us.
  costs.busy_host_wait_p50_us = costs.busy_host_wait_p90_us = costs.busy_host_wait_p99_us = costs.busy_host_wait_max_us = 53;
  costs.replica_apply_per_row_us = 7;
  costs.replica_base_delay_us = 31;
  return costs;
}

class DatabaseCostsTest : public ::testing::Test {
 protected:
  DatabaseCostsTest() {
    const TableSpec spec = testing::orders_with_amount(kRows);
    database = std::make_unique<SimDatabase>(kernel, node, "eu", generate_table(spec, 7), 1,
                                             DurationRange{kShippingUs, kShippingUs}, [](Event) {}, 7);
    database->set_costs(distinct_profile());
  }

  // ADD COLUMN amount_cents bigint (expand).
  static DdlStatement add_amount_cents() {
    DdlStatement add;
    add.kind = DdlStatement::Kind::add_column;
    add.table = "orders";
    add.column = "amount_cents";
    add.type = ColumnType::bigint;
    return add;
  }

  // Installs the dual-write trigger of `amount_cents = amount * 100`.
  void install_trigger() {
    EXPECT_EQ(run_ddl(add_amount_cents()), kGrantUs + 13);
    database->set_derived({DerivedColumn{"amount_cents", "amount_cents", "", parsed("amount * 100"), Expr{}}});
    EXPECT_EQ(set_dual_write(true), 19 + kGrantUs + 47);  // lookup_us, the function, the lock, the trigger (trigger_create_us in all)
    warm_sessions();
    // The engine's session too: its first batch through the trigger compiles the function (a
    // batch past the last row, touching none).
    EXPECT_EQ(backfill(kRows + 1, kRows + 1), kGrantUs + 23 + 43 + 11);
  }

  // Every application session's first write after the DDL (through the new trigger), so that
  // later writes cost only themselves.
  void warm_sessions() {
    for (int session = 0; session < kAppConnections; ++session) app_write(5);
  }

  // Runs the kernel until `done` or 10 simulated seconds passed.
  void run_until_done(const bool& done) {
    for (int step = 0; step < 10'000 && !done; ++step) kernel.run_until(kernel.now() + kMs / 10);
    ASSERT_TRUE(done);
  }

  // Two application writes (rows 5 and 6) sent at the same instant: how long each took.
  std::pair<TimeUs, TimeUs> two_writes_side_by_side() {
    const TimeUs start = kernel.now();
    TimeUs first = -1;
    TimeUs second = -1;
    AppWrite write;
    write.row_id = 5;
    write.logical["amount"] = Value::integer(5);
    database->app_write(write, [&](AppWriteResult) { first = kernel.now() - start; });
    write.row_id = 6;
    database->app_write(write, [&](AppWriteResult) { second = kernel.now() - start; });
    kernel.run_until(kernel.now() + kMs);
    return {first, second};
  }

  // How long an application write took at the database (no network: the database's own time).
  TimeUs app_write(std::int64_t row_id) {
    const TimeUs start = kernel.now();
    TimeUs took = -1;
    bool done = false;
    AppWrite write;
    write.row_id = row_id;
    write.logical["amount"] = Value::integer(5);
    database->app_write(write, [&](AppWriteResult result) {
      EXPECT_TRUE(result.status.is_ok());
      took = kernel.now() - start;
      done = true;
    });
    run_until_done(done);
    return took;
  }

  // How long a backfill batch of ids low..high took, filling amount_cents.
  TimeUs backfill(std::int64_t low, std::int64_t high) {
    const TimeUs start = kernel.now();
    TimeUs took = -1;
    bool done = false;
    database->backfill(batch(low, high), Checkpoint{}, Fence{}, "test", [&](Result<std::int64_t> rows) {
      EXPECT_TRUE(rows.is_ok()) << rows.status().to_string();
      took = kernel.now() - start;
      done = true;
    });
    run_until_done(done);
    return took;
  }

  static BackfillBatch batch(std::int64_t low, std::int64_t high) {
    BackfillBatch batch;
    batch.low_id = low;
    batch.high_id = high;
    batch.fills.push_back(ColumnFill{"amount_cents", parsed("CAST((amount * 100) AS bigint)")});
    return batch;
  }

  // How long the dual_write step took from its request (nothing holding the table) to its answer.
  TimeUs set_dual_write(bool on) {
    const TimeUs start = kernel.now();
    TimeUs took = -1;
    bool done = false;
    database->set_dual_write(on, Fence{}, "test", [&](Status answer) {
      EXPECT_TRUE(answer.is_ok()) << answer.to_string();
      took = kernel.now() - start;
      done = true;
    });
    run_until_done(done);
    return took;
  }

  // How long a DDL took from its request (no wait: nothing holds the table) to its answer.
  TimeUs run_ddl(const DdlStatement& statement, Status* status = nullptr) {
    const TimeUs start = kernel.now();
    TimeUs took = -1;
    bool done = false;
    database->ddl(statement, DdlLimits{}, Fence{}, "test", [&](Status answer) {
      if (status != nullptr) *status = answer;
      took = kernel.now() - start;
      done = true;
    });
    run_until_done(done);
    return took;
  }

  Kernel kernel{7};
  Node& node = kernel.add_node("db:eu", "eu");
  std::unique_ptr<SimDatabase> database;
};

TEST_F(DatabaseCostsTest, AnUpdateCostsAppWriteAndAnInsertItsInsertedRow) {
  EXPECT_EQ(app_write(5), kGrantUs + 29);
  // app_write_us - update_per_row_us_at(1) + insert_per_row_us = 29 - 3 + 2.
  EXPECT_EQ(app_write(0), kGrantUs + 28);
  EXPECT_EQ(database->table().row_count(), kRows + 1);
}

TEST_F(DatabaseCostsTest, AnInsertNeverCostsLessThanAStatement) {
  CostProfile costs = distinct_profile();
  costs.app_write_us = 12;  // 12 - 3 + 2 = 11 = statement_base_us; one less would be below it
  costs.insert_per_row_us = 1;
  EXPECT_DOUBLE_EQ(costs.app_insert_us(), 11);
}

// The engine's session compiles the trigger's function on its first batch through it
// (trigger_first_call_us, once), and again after the server restarts (a new session).
TEST_F(DatabaseCostsTest, TheEnginesFirstBatchThroughANewTriggerCompilesItsFunction) {
  EXPECT_EQ(run_ddl(add_amount_cents()), kGrantUs + 13);
  database->set_derived({DerivedColumn{"amount_cents", "amount_cents", "", parsed("amount * 100"), Expr{}}});
  EXPECT_EQ(backfill(1, 100), kGrantUs + 23 + 11 + 300);  // no trigger: nothing to compile
  EXPECT_EQ(set_dual_write(true), 19 + kGrantUs + 47);
  EXPECT_EQ(backfill(101, 200), kGrantUs + 23 + 43 + 11 + 375);  // the first call, then 100 * (3 + 0.75)
  EXPECT_EQ(backfill(201, 300), kGrantUs + 23 + 11 + 375);
  node.on_crash = [this] { database->on_crash(); };  // as the world wires it
  kernel.crash(node);
  kernel.restart(node);
  EXPECT_EQ(backfill(301, 400), kGrantUs + 23 + 43 + 11 + 375);  // a new session compiles it again
}

// An application's write pays the trigger computing its column; a backfill batch's rows pay it
// standing aside (the engine writes the new column itself).
TEST_F(DatabaseCostsTest, TheDualWriteTriggerCostsEveryRowWrittenWhileItIsInstalled) {
  EXPECT_EQ(backfill(1, 200), kGrantUs + 23 + 11 + 200 * 3);  // no trigger yet (and no column: nothing filled)
  install_trigger();
  EXPECT_EQ(app_write(5), kGrantUs + 29 + 1);            // 29 + 1.25, rounded
  EXPECT_EQ(app_write(0), kGrantUs + 28 + 1);
  EXPECT_EQ(backfill(1, 200), kGrantUs + 23 + 11 + 750);  // batch_overhead_us, then 200 * (3 + 0.75)
  EXPECT_EQ(database->table().cell(7, database->table().column_index("amount_cents")).to_string(),
            database->table().evaluate_on(parsed("amount * 100"), 7).to_string());
  EXPECT_EQ(set_dual_write(false), 19 + kGrantUs + 13);  // rolled back
  for (int session = 0; session < kAppConnections; ++session) {
    EXPECT_EQ(app_write(5), kGrantUs + 29 + 41) << session;  // the trigger dropped: each session reloads the table
  }
  EXPECT_EQ(app_write(5), kGrantUs + 29);
}

// The dual_write step creates the function first (trigger_create_us - trigger_ddl_us), taking no
// lock on the table: a write sent meanwhile passes, without the trigger. Its CREATE OR REPLACE
// TRIGGER then takes SHARE ROW EXCLUSIVE and holds it to the commit (trigger_ddl_us): a write in
// flight delays it, a write sent meanwhile waits for the commit and then pays the new trigger's
// first call; a read passes.
TEST_F(DatabaseCostsTest, TheDualWriteStepQueuesForTheTableLockAndHoldsItToItsCommit) {
  EXPECT_EQ(run_ddl(add_amount_cents()), kGrantUs + 13);
  database->set_derived({DerivedColumn{"amount_cents", "amount_cents", "", parsed("amount * 100"), Expr{}}});
  warm_sessions();  // the ADD COLUMN's reloads done
  const TimeUs start = kernel.now();
  TimeUs first_write = -1;
  TimeUs during_function = -1;
  TimeUs step = -1;
  TimeUs queued_write = -1;
  TimeUs read = -1;
  auto write = [this](TimeUs& finished) {
    AppWrite w;
    w.row_id = 5;
    w.logical["amount"] = Value::integer(5);
    database->app_write(w, [this, &finished](AppWriteResult result) {
      EXPECT_TRUE(result.status.is_ok());
      finished = kernel.now();
    });
  };
  write(first_write);  // holds ROW EXCLUSIVE from start + 1 to start + 30
  database->set_dual_write(true, Fence{}, "test", [&](Status answer) {
    EXPECT_TRUE(answer.is_ok());
    step = kernel.now();
  });
  kernel.run_until(start + 50);  // the function is being created (start + 19 to start + 59)
  write(during_function);        // holds ROW EXCLUSIVE from start + 51 to start + 80
  kernel.run_until(start + 65);  // the trigger's DDL has asked for the lock at start + 59
  write(queued_write);           // queued behind the step's request
  database->app_read(0, [&](AppReadResult result) {
    EXPECT_TRUE(result.status.is_ok());
    read = kernel.now();
  });
  kernel.run_until(start + 1000);
  EXPECT_EQ(first_write, start + kGrantUs + 29);
  EXPECT_EQ(during_function, start + 50 + kGrantUs + 29);  // no lock to wait for, no trigger yet
  EXPECT_EQ(step, during_function + kGrantUs + 7);  // granted when that write is done, then trigger_ddl_us
  EXPECT_EQ(queued_write, step + kGrantUs + 29 + 1 + 43);  // after the commit, through the new trigger
  EXPECT_EQ(read, start + 65 + kGrantUs + 17 + 41);  // ACCESS SHARE passes SHARE ROW EXCLUSIVE (a reload: the ADD COLUMN)
  // The rollback's DROP TRIGGER takes ACCESS EXCLUSIVE: a read waits for its commit.
  const TimeUs rollback = kernel.now();
  step = read = -1;
  database->set_dual_write(false, Fence{}, "test", [&](Status answer) {
    EXPECT_TRUE(answer.is_ok());
    step = kernel.now();
  });
  kernel.run_until(rollback + 25);
  database->app_read(0, [&](AppReadResult result) {
    EXPECT_TRUE(result.status.is_ok());
    read = kernel.now();
  });
  kernel.run_until(rollback + 1000);
  EXPECT_EQ(step, rollback + 19 + kGrantUs + 13);
  EXPECT_EQ(read, step + kGrantUs + 17 + 41);  // and reloads the table the DROP changed
}

TEST_F(DatabaseCostsTest, AWriterQueuedOnABatchsRowIsGrantedRowLockHoldAfterItsCommit) {
  install_trigger();
  const TimeUs start = kernel.now();
  TimeUs batch_done = -1;
  TimeUs write_done = -1;
  database->backfill(batch(1, 100), Checkpoint{}, Fence{}, "test", [&](Result<std::int64_t>) { batch_done = kernel.now(); });
  kernel.run_until(kernel.now() + 43);  // after 1 + 23 of the transaction's other statements, the UPDATE
                                        // took row 1 at 35, row 2 at 38.75, row 3 at 42.5
  AppWrite write;
  write.row_id = 2;
  write.logical["amount"] = Value::integer(5);
  database->app_write(write, [&](AppWriteResult) { write_done = kernel.now(); });
  kernel.run_until(kernel.now() + kSec);
  EXPECT_EQ(batch_done - start, kGrantUs + 23 + 11 + 375);  // batch_overhead_us, then 100 * (3 + 0.75)
  EXPECT_EQ(write_done - batch_done, 37 + 30);         // row_lock_hold_us, then the write with its trigger
}

// The live application sends its client timeout as statement_timeout (sim::WorldOptions::
// app_connections): a write still waiting for its row lock at that deadline is cancelled, not
// applied when the lock comes; without a deadline it is applied late.
TEST_F(DatabaseCostsTest, AWriteStillWaitingAtItsStatementDeadlineIsCancelled) {
  install_trigger();
  const std::size_t amount = database->table().column_index("amount");
  for (const bool with_deadline : {true, false}) {
    const std::int64_t row = with_deadline ? 2 : 3;
    database->backfill(batch(1, 100), Checkpoint{}, Fence{}, "test", [](Result<std::int64_t>) {});
    kernel.run_until(kernel.now() + 63);  // the UPDATE holds rows 1..8 by now, and commits at ~kGrantUs + 409
    AppWrite write;
    write.row_id = row;
    write.logical["amount"] = Value::integer(1000);  // outside the generated 1..100
    auto waits = std::make_shared<MigrationWaits>();
    if (with_deadline) waits->deadline_us = kernel.now() + 100;  // before the batch commits
    std::optional<AppWriteResult> answer;
    database->app_write(write, [&](AppWriteResult result) { answer = std::move(result); }, waits);
    kernel.run_until(kernel.now() + kSec);
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(answer->status.is_ok(), !with_deadline) << answer->status.to_string();
    if (with_deadline) {
      EXPECT_NE(database->table().cell(row, amount).to_string(), "1000");
    } else {
      EXPECT_EQ(database->table().cell(row, amount).to_string(), "1000");
    }
  }
}

TEST_F(DatabaseCostsTest, AWriterOfARowTheBatchHasNotReachedYetDoesNotWaitForIt) {
  install_trigger();
  const TimeUs start = kernel.now();
  TimeUs write_done = -1;
  database->backfill(batch(1, 100), Checkpoint{}, Fence{}, "test", [](Result<std::int64_t>) {});
  kernel.run_until(kernel.now() + 43);  // the UPDATE has reached row 3; row 90 is 87 rows ahead
  AppWrite write;
  write.row_id = 90;
  write.logical["amount"] = Value::integer(5);
  database->app_write(write, [&](AppWriteResult) { write_done = kernel.now(); });
  kernel.run_until(kernel.now() + kSec);
  EXPECT_EQ(write_done - start, 43 + kGrantUs + 30);  // at once: the write with its trigger
}

// PostgreSQL's UPDATE that meets a row another transaction holds waits for that transaction:
// a batch whose walk reaches a row an application write locked before it stands there until the
// write commits, and every later row comes that much later.
TEST_F(DatabaseCostsTest, ABatchThatReachesARowAnApplicationWriteHoldsWaitsForItsCommit) {
  install_trigger();
  CostProfile slow_writes = distinct_profile();
  slow_writes.app_write_us = 200;  // each write holds its row 201 us (with the trigger's 1.25)
  database->set_costs(slow_writes);
  const auto write_row = [this](std::int64_t row, TimeUs* done) {
    AppWrite write;
    write.row_id = row;
    write.logical["amount"] = Value::integer(5);
    database->app_write(write, [this, done](AppWriteResult) { *done = kernel.now(); });
  };
  // The walk takes row 1 at 35 and row 20 at 35 + 19 * 3.75 = 106; it ends at 410.
  {
    const TimeUs start = kernel.now();
    TimeUs batch_done = -1;
    TimeUs write_done = -1;
    database->backfill(batch(1, 100), Checkpoint{}, Fence{}, "test", [&](Result<std::int64_t>) { batch_done = kernel.now(); });
    kernel.run_until(start + 43);
    write_row(20, &write_done);  // holds row 20 from 44 to 245: the walk stands at it from 106
    kernel.run_until(kernel.now() + kSec);
    EXPECT_EQ(write_done - start, 44 + 201);
    EXPECT_EQ(batch_done - start, kGrantUs + 23 + 11 + 375 + (245 - 106));
  }
  // A write that still holds its row when the walk is over: the batch commits after it, plus
  // the walk from that row on (row 95 is taken at 35 + 94 * 3.75 = 388, 22 us before the end).
  {
    const TimeUs start = kernel.now();
    TimeUs batch_done = -1;
    TimeUs write_done = -1;
    database->backfill(batch(101, 200), Checkpoint{}, Fence{}, "test", [&](Result<std::int64_t>) { batch_done = kernel.now(); });
    kernel.run_until(start + 300);
    write_row(195, &write_done);  // holds row 195 from 301 to 502
    kernel.run_until(kernel.now() + kSec);
    EXPECT_EQ(write_done - start, 301 + 201);
    EXPECT_EQ(batch_done - start, 502 + (410 - 388));
  }
  EXPECT_EQ(kernel.probes().count(Probe::backfill_waited_for_app_rows), 2);
  // A write that commits before the walk reaches its row, or one of a row outside the batch,
  // costs the batch nothing.
  const TimeUs start = kernel.now();
  TimeUs batch_done = -1;
  TimeUs first = -1;
  TimeUs second = -1;
  database->backfill(batch(201, 300), Checkpoint{}, Fence{}, "test", [&](Result<std::int64_t>) { batch_done = kernel.now(); });
  write_row(290, &first);
  write_row(900, &second);
  kernel.run_until(kernel.now() + kSec);
  EXPECT_EQ(batch_done - start, kGrantUs + 23 + 11 + 375);
  EXPECT_EQ(kernel.probes().count(Probe::backfill_waited_for_app_rows), 2);
}

// The batch's transaction besides its UPDATE (the fence, the columns read, the checkpoint,
// COMMIT: batch_overhead_us) lengthens every batch, before its rows are locked: a write of the
// batch's first row sent during it does not wait; one sent after the UPDATE took the row waits
// for the commit.
TEST_F(DatabaseCostsTest, ABatchsTransactionOverheadComesBeforeItsRowLocks) {
  install_trigger();
  EXPECT_EQ(backfill(1, 100), kGrantUs + 23 + 11 + 375);
  for (const TimeUs sent_after : {TimeUs{20}, TimeUs{40}}) {
    const TimeUs start = kernel.now();
    TimeUs write_done = -1;
    database->backfill(batch(101, 200), Checkpoint{}, Fence{}, "test", [](Result<std::int64_t>) {});
    kernel.run_until(start + sent_after);  // row 101 is taken at 1 + 23 + 11 = 35
    AppWrite write;
    write.row_id = 101;
    write.logical["amount"] = Value::integer(5);
    database->app_write(write, [&](AppWriteResult) { write_done = kernel.now(); });
    kernel.run_until(kernel.now() + kSec);
    if (sent_after == 20) {
      EXPECT_EQ(write_done - start, 20 + kGrantUs + 30) << "sent during the overhead: no row lock yet";
    } else {
      EXPECT_EQ(write_done - start, kGrantUs + 23 + 11 + 375 + 37 + 30) << "sent after the UPDATE took the row";
    }
  }
}

TEST_F(DatabaseCostsTest, EachApplicationSessionReloadsTheTableOnceAfterADdl) {
  EXPECT_EQ(run_ddl(add_amount_cents()), kGrantUs + 13);
  for (int session = 0; session < kAppConnections; ++session) EXPECT_EQ(app_write(5), kGrantUs + 29 + 41) << session;
  EXPECT_EQ(app_write(5), kGrantUs + 29);
  // The trigger: each session's first write through it loads and compiles it (in place of the reload).
  database->set_derived({DerivedColumn{"amount_cents", "amount_cents", "", parsed("amount * 100"), Expr{}}});
  set_dual_write(true);
  for (int session = 0; session < kAppConnections; ++session) EXPECT_EQ(app_write(5), kGrantUs + 29 + 1 + 43) << session;
  EXPECT_EQ(app_write(5), kGrantUs + 29 + 1);
}

TEST_F(DatabaseCostsTest, AReplicaReplaysAfterTheBaseDelayPlusTheShippingDelay) {
  const TimeUs start = kernel.now();
  app_write(5);
  const TimeUs committed = start + kGrantUs + 29;
  // Replayed at commit + replica_base_delay_us + replication_lag + one row's apply: 31 + 700 + 7.
  kernel.run_until(committed + 31 + kShippingUs + 7 - 1);
  EXPECT_EQ(database->replica_lag(1), 31 + kShippingUs + 7 - 1);
  kernel.run_until(committed + 31 + kShippingUs + 7);
  EXPECT_EQ(database->replica_lag(1), 0);
}

// A replay costs no event (SimDatabase::replayed): it is applied where its event would have run.
// At its microsecond, an event that took its place in the order before the change shipped
// still finds it pending; one that took it after finds it replayed.
TEST_F(DatabaseCostsTest, AReplayIsAppliedWhereItsEventWouldHaveRun) {
  const TimeUs committed = kernel.now() + kGrantUs + 29;
  const TimeUs replays = committed + 31 + kShippingUs + 7;
  std::vector<std::string> seen;
  const auto look = [&](const char* who) {
    const TableImage image = database->replica_image(1);
    ASSERT_EQ(image.at(4, image.column_index("id")), Value::integer(5));
    seen.push_back(fmt::format("{} {}: lag {}, row 5 {}", who, kernel.now() - replays, database->replica_lag(1),
                               image.writer(4) == Writer::initial ? "as loaded" : "written"));
  };
  kernel.at(replays, [&] { look("before"); });
  app_write(5);  // committed and shipped
  kernel.at(replays, [&] { look("after"); });
  kernel.at(replays - 1, [&] { look("earlier"); });
  kernel.run_until(replays + 10);
  EXPECT_EQ(seen, (std::vector<std::string>{"earlier -1: lag 737, row 5 as loaded", "before 0: lag 738, row 5 as loaded",
                                            "after 0: lag 0, row 5 written"}));
}

// Asynchronous commit (conform's flush delay): the WAL ships at the WAL writer's rounds, shared
// by every commit and in commit order, 200..400 ms apart here: the writes of 1.4 s replay in a
// handful of groups. Built with an independent draw per commit, they replayed one by one,
// each behind the slowest before it (about 30 separate replays here).
TEST_F(DatabaseCostsTest, AsynchronousCommitsShipTogetherAtTheWalWritersRounds) {
  database->set_commit_flush(DurationRange{0, 400 * kMs});
  int replays = 0;
  TimeUs before = 0;
  for (int step = 0; step < 1400; ++step) {
    if (step % 7 == 0) app_write(5);
    kernel.run_until(kernel.now() + kMs);
    const TimeUs lag = database->replica_lag(1);
    if (lag < before) ++replays;  // the oldest pending write replayed
    before = lag;
    EXPECT_LE(lag, 400 * kMs + 31 + kShippingUs + 7 + kMs) << "at most one round's wait, at " << step << " ms";
  }
  EXPECT_GE(replays, 3);
  EXPECT_LE(replays, 8) << "1.4 s of writes replay at the rounds, 200..400 ms apart";
  kernel.run_until(kernel.now() + kSec);
  EXPECT_EQ(database->replica_lag(1), 0);
  EXPECT_EQ(database->replication_lag(), 0);
}

// A partition holds the WAL until the heal: it ships then, not the flush wait after it.
TEST_F(DatabaseCostsTest, WalHeldByAPartitionShipsAtTheHealNotAFlushWaitLater) {
  database->set_commit_flush(DurationRange{0, 400 * kMs});
  database->cut_replica(1, kernel.now() + 2 * kSec);
  const TimeUs heal = kernel.now() + 2 * kSec;
  for (int write = 0; write < 20; ++write) {
    app_write(5);
    kernel.run_until(kernel.now() + 50 * kMs);
  }
  EXPECT_GT(database->replication_lag(), 500 * kMs) << "shipped and held behind the cut";
  // Everything written before the heal replays by the heal plus the replica's own delay.
  kernel.run_until(heal + 31 + kShippingUs + 20 * 7);
  EXPECT_EQ(database->replica_lag(1), 0);
}

TEST_F(DatabaseCostsTest, SetNotNullScansAndCreateIndexBuildsUnderTheirLocks) {
  DdlStatement not_null;
  not_null.kind = DdlStatement::Kind::set_not_null;
  not_null.column = "amount";
  EXPECT_EQ(run_ddl(not_null), kGrantUs + 13 + 500);  // 1000 rows * 0.5
  DdlStatement index;
  index.kind = DdlStatement::Kind::create_index;
  index.column = "orders_amount_idx";
  index.columns = {"amount"};
  EXPECT_EQ(run_ddl(index), kGrantUs + 13 + 1500);    // 1000 rows * 1.5
  DdlStatement rename;
  rename.kind = DdlStatement::Kind::rename_column;
  rename.column = "amount";
  rename.to = "total";
  EXPECT_EQ(run_ddl(rename), kGrantUs + 13);          // catalog only
}

TEST_F(DatabaseCostsTest, ARewritingTypeChangeHoldsTheTableForEveryRowAndCastsThem) {
  DdlStatement alter;
  alter.kind = DdlStatement::Kind::alter_column_type;
  alter.column = "amount";
  alter.type = ColumnType::text;
  const Value before = database->table().cell(3, 1);
  // An application write queued behind it waits for the whole rewrite.
  const TimeUs start = kernel.now();
  TimeUs write_done = -1;
  database->ddl(alter, DdlLimits{}, Fence{}, "test", [](Status status) { EXPECT_TRUE(status.is_ok()); });
  AppWrite write;
  write.row_id = 9;
  write.logical["amount"] = Value::integer(5);
  database->app_write(write, [&](AppWriteResult) { write_done = kernel.now(); });
  kernel.run_until(kernel.now() + kSec);
  EXPECT_GE(write_done - start, 13 + 4000 + 29 + 41);  // ddl_us + 1000 rows * 4, then the write and its reload
  EXPECT_LE(write_done - start, 13 + 4000 + 29 + 41 + 2 * kGrantUs);
  EXPECT_EQ(database->table().columns()[1].type, ColumnType::text);
  EXPECT_EQ(database->table().cell(3, 1), Value::text(before.to_string()));
  EXPECT_EQ(database->replica_catalog(1).columns[1].type, "text");  // replayed on the replica

  alter.type = ColumnType::boolean;  // '42' is not a boolean: the whole statement fails
  Status status;
  run_ddl(alter, &status);
  EXPECT_FALSE(status.is_ok());
  EXPECT_NE(status.to_string().find("row "), std::string::npos) << status.to_string();
  EXPECT_EQ(database->table().columns()[1].type, ColumnType::text);
}

TEST_F(DatabaseCostsTest, OnAHostOfOneCoreABatchHalvesTheSpeedOfAWriteBesideIt) {
  CpuHost host(kernel, 1);
  database->set_cpu_host(&host);
  database->backfill(batch(101, 200), Checkpoint{}, Fence{}, "test", [](Result<std::int64_t>) {});  // 11 + 100 * 3 us of work
  kernel.run_until(kernel.now() + 10);
  // It waits busy_host_wait for the processor, then does its 29 us of work at half speed.
  EXPECT_EQ(app_write(5), kGrantUs + 53 + 2 * 29);
  kernel.run_until(kernel.now() + kMs);    // the batch is done
  EXPECT_EQ(app_write(6), kGrantUs + 29);  // alone again: no wait
}

// A request to a session idle since its last one waits app_idle_wake_us for the server and the
// client to wake: on a shared host that is latency, not work, so requests side by side share only
// the rest of their cost.
TEST_F(DatabaseCostsTest, OnASharedHostAnIdleSessionsWakeIsLatencyNotWork) {
  CostProfile costs = distinct_profile();
  costs.app_idle_wake_us = 20;  // of app_write_us 29: 9 us of work
  database->set_costs(costs);
  EXPECT_EQ(app_write(5), kGrantUs + 29) << "without a host the whole cost is the duration";
  CpuHost host(kernel, 1);
  database->set_cpu_host(&host);
  EXPECT_EQ(app_write(5), kGrantUs + 20 + 9) << "alone on the host: the same";
  const auto [first, second] = two_writes_side_by_side();
  EXPECT_EQ(first, kGrantUs + 20 + 2 * 9) << "both wake side by side, then share one core for their 9 us each";
  EXPECT_EQ(second, kGrantUs + 20 + 2 * 9);
  database->backfill(batch(101, 200), Checkpoint{}, Fence{}, "test", [](Result<std::int64_t>) {});
  kernel.run_until(kernel.now() + 10);
  EXPECT_EQ(app_write(7), kGrantUs + 53 + 20 + 2 * 9) << "beside a batch: the host's wait, the wake, half the core";
}

TEST_F(DatabaseCostsTest, OnlyAMigrationStatementMakesTheApplicationWaitForTheHost) {
  CpuHost host(kernel, 2);
  database->set_cpu_host(&host);
  const auto [first, second] = two_writes_side_by_side();
  EXPECT_EQ(first, kGrantUs + 29);  // beside another application write: no wait
  EXPECT_EQ(second, kGrantUs + 29);
  database->backfill(batch(101, 200), Checkpoint{}, Fence{}, "test", [](Result<std::int64_t>) {});
  kernel.run_until(kernel.now() + 10);
  EXPECT_EQ(app_write(7), kGrantUs + 53 + 29);  // two cores: full speed, after the wait
}

}  // namespace
}  // namespace rehearse::sim
