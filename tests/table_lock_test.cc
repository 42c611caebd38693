// The simulated table lock queue (sim/table_lock.h) reproduces PostgreSQL's behaviour for the
// three cases of issue 13: an ACCESS EXCLUSIVE request waiting behind a reader blocks later
// readers; SHARE (plain CREATE INDEX) blocks writers but not readers; CREATE INDEX CONCURRENTLY
// waits for older transactions without blocking writes. Each behaviour is a function that
// answers whether a lock built with given rules shows it, and each test shows the correct lock
// passing and a deliberately broken one (no queue rule, the old two-mode table, no older-
// transaction waits) failing. Then the same through the simulated database (sim/database.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "sim/database.h"
#include "sim/kernel.h"
#include "tests/test_support.h"
#include "sim/table_lock.h"

namespace rehearse::sim {
namespace {

using M = LockMode;

// The table before this issue: shared and exclusive only, every DDL exclusive, CREATE INDEX
// CONCURRENTLY and SHARE as compatible with writers as a read.
bool two_modes(LockMode requested, LockMode held) {
  return requested == M::access_exclusive || held == M::access_exclusive;
}

// Every DDL mode conflicts with every other mode but ACCESS SHARE (writers wait for CREATE INDEX
// CONCURRENTLY, as if it took SHARE).
bool ddl_blocks_writers(LockMode requested, LockMode held) {
  auto ddl = [](LockMode mode) { return mode != M::access_share && mode != M::row_share && mode != M::row_exclusive; };
  if (requested == M::access_share || held == M::access_share) return requested == M::access_exclusive || held == M::access_exclusive;
  return ddl(requested) || ddl(held);
}

// A scripted sequence of requests on one lock, with the order they were granted in.
struct Script {
  explicit Script(TableLock::Rules rules) : lock(rules) {}
  std::uint64_t ask(const std::string& who, LockMode mode) {
    return lock.request(mode, [this, who] { granted.push_back(who); });
  }
  TableLock lock;
  std::vector<std::string> granted;
};

using Names = std::vector<std::string>;

// ALTER TABLE (ACCESS EXCLUSIVE) asks while a reader holds the table: it waits, and a reader
// arriving after it waits behind it; the ALTER runs when the first reader ends, the later reader
// after the ALTER.
bool access_exclusive_waits_behind_reader_and_blocks_later_readers(TableLock::Rules rules) {
  Script s(rules);
  const std::uint64_t reader = s.ask("reader", M::access_share);
  const std::uint64_t alter = s.ask("alter", M::access_exclusive);
  s.ask("later reader", M::access_share);
  if (s.granted != Names{"reader"}) return false;
  s.lock.release(reader);
  if (s.granted != Names{"reader", "alter"}) return false;
  s.lock.release(alter);
  return s.granted == Names{"reader", "alter", "later reader"};
}

// CREATE INDEX (SHARE) holds the table: readers pass, a writer waits, and a reader arriving
// after the waiting writer still passes (it conflicts with neither); the writer runs once the
// index is built.
bool share_blocks_writers_not_readers(TableLock::Rules rules) {
  Script s(rules);
  const std::uint64_t index = s.ask("create index", M::share);
  s.ask("reader", M::access_share);
  s.ask("writer", M::row_exclusive);
  s.ask("later reader", M::access_share);
  if (s.granted != Names{"create index", "reader", "later reader"}) return false;
  s.lock.release(index);
  return s.granted == Names{"create index", "reader", "later reader", "writer"};
}

// CREATE INDEX CONCURRENTLY (SHARE UPDATE EXCLUSIVE) is granted beside an old reader and a
// writer, then waits for both (its older transactions), while a write arriving meanwhile is
// granted at once and is not waited for.
bool concurrently_waits_for_older_transactions_without_blocking_writes(TableLock::Rules rules) {
  Script s(rules);
  const std::uint64_t old_reader = s.ask("old reader", M::access_share);
  const std::uint64_t writer = s.ask("writer", M::row_exclusive);
  const std::uint64_t index = s.ask("create index concurrently", M::share_update_exclusive);
  if (s.granted != Names{"old reader", "writer", "create index concurrently"}) return false;
  bool waited_out = false;
  s.lock.wait_for_holders(index, {}, [&waited_out] { waited_out = true; });
  if (waited_out) return false;  // it must wait for the two older transactions
  const std::uint64_t later_writer = s.ask("later writer", M::row_exclusive);
  if (s.granted.back() != "later writer") return false;  // writes are not blocked
  s.lock.release(writer);
  s.lock.release(later_writer);
  if (waited_out) return false;  // the old reader still runs
  s.lock.release(old_reader);
  return waited_out;
}

TEST(TableLock, AccessExclusiveWaitsBehindAReaderAndBlocksLaterReaders) {
  EXPECT_TRUE(access_exclusive_waits_behind_reader_and_blocks_later_readers({}));
  TableLock::Rules no_queue_rule;
  no_queue_rule.waiters_block_later_requests = false;
  EXPECT_FALSE(access_exclusive_waits_behind_reader_and_blocks_later_readers(no_queue_rule));
}

TEST(TableLock, ShareBlocksWritersButNotReaders) {
  EXPECT_TRUE(share_blocks_writers_not_readers({}));
  TableLock::Rules old_table;
  old_table.conflicts = &two_modes;
  EXPECT_FALSE(share_blocks_writers_not_readers(old_table));
  TableLock::Rules share_blocks_readers;
  share_blocks_readers.conflicts = [](LockMode requested, LockMode held) {
    const bool share_and_read = (requested == M::share && held == M::access_share) || (requested == M::access_share && held == M::share);
    return share_and_read || conflicts(requested, held);
  };
  EXPECT_FALSE(share_blocks_writers_not_readers(share_blocks_readers));
}

TEST(TableLock, ConcurrentlyWaitsForOlderTransactionsWithoutBlockingWrites) {
  EXPECT_TRUE(concurrently_waits_for_older_transactions_without_blocking_writes({}));
  TableLock::Rules no_waits;
  no_waits.older_transaction_waits = false;
  EXPECT_FALSE(concurrently_waits_for_older_transactions_without_blocking_writes(no_waits));
  TableLock::Rules blocks_writers;
  blocks_writers.conflicts = &ddl_blocks_writers;
  EXPECT_FALSE(concurrently_waits_for_older_transactions_without_blocking_writes(blocks_writers));
}

// lock_timeout: a waiting ALTER withdrawn lets the readers queued behind it through at once.
TEST(TableLock, CancelledAccessExclusiveUnblocksTheReadersBehindIt) {
  Script s({});
  s.ask("reader", M::access_share);
  const std::uint64_t alter = s.ask("alter", M::access_exclusive);
  s.ask("later reader", M::access_share);
  EXPECT_TRUE(s.lock.waiting(alter));
  EXPECT_TRUE(s.lock.cancel(alter));
  EXPECT_EQ(s.granted, (Names{"reader", "later reader"}));
  EXPECT_FALSE(s.lock.cancel(alter));  // no longer waiting
}

// A later request passes earlier waiters it conflicts with neither (PostgreSQL's wakeup walks the
// whole queue): a reader behind a writer that waits for CREATE INDEX.
TEST(TableLock, WakeupGrantsEveryCompatibleWaiterInArrivalOrder) {
  Script s({});
  const std::uint64_t alter = s.ask("alter", M::access_exclusive);
  s.ask("writer", M::row_exclusive);
  s.ask("index", M::share);
  s.ask("reader", M::access_share);
  EXPECT_EQ(s.granted, (Names{"alter"}));
  s.lock.release(alter);
  // The writer first; SHARE conflicts with it and waits; the reader conflicts with neither.
  EXPECT_EQ(s.granted, (Names{"alter", "writer", "reader"}));
}

// The first phase of CREATE INDEX CONCURRENTLY waits only for transactions that could write.
TEST(TableLock, WaitForHoldersFiltersByMode) {
  Script s({});
  const std::uint64_t reader = s.ask("reader", M::access_share);
  const std::uint64_t writer = s.ask("writer", M::row_exclusive);
  const std::uint64_t index = s.ask("index", M::share_update_exclusive);
  bool writers_done = false;
  s.lock.wait_for_holders(index, [](LockMode held) { return conflicts(M::share, held); }, [&] { writers_done = true; });
  EXPECT_FALSE(writers_done);
  s.lock.release(writer);
  EXPECT_TRUE(writers_done);
  bool cancelled = false;
  const std::uint64_t wait = s.lock.wait_for_holders(index, {}, [&] { cancelled = true; });
  EXPECT_TRUE(s.lock.cancel_wait(wait));
  s.lock.release(reader);
  EXPECT_FALSE(cancelled);
}

// The same behaviours through the simulated database: DDL from the statement model, the
// application's reads and writes, a long transaction (the long_transaction fault).
class DatabaseLockTest : public ::testing::Test {
 protected:
  DatabaseLockTest() {
    const TableSpec spec = testing::orders_with_amount(1000);
    database = std::make_unique<SimDatabase>(kernel, node, "eu", generate_table(spec, 7), 0, DurationRange{100, 100},
                                             [](Event) {}, 7);
  }

  // Starts `statement`; `answered_us` becomes the time of its answer.
  void start_ddl(DdlStatement::Kind kind, const std::string& column, std::shared_ptr<TimeUs> answered_us) {
    DdlStatement statement;
    statement.kind = kind;
    statement.table = "orders";
    statement.column = column;
    statement.type = ColumnType::bigint;
    if (kind == DdlStatement::Kind::create_index) statement.columns = {"amount"};
    database->ddl(statement, DdlLimits{}, Fence{}, "test", [this, answered_us](Status status) {
      EXPECT_TRUE(status.is_ok()) << status.to_string();
      *answered_us = kernel.now();
    });
  }
  void start_read(std::shared_ptr<TimeUs> answered_us) {
    database->app_read(0, [this, answered_us](AppReadResult) { *answered_us = kernel.now(); });
  }
  void start_write(std::shared_ptr<TimeUs> answered_us) {
    AppWrite write;
    write.row_id = 5;
    write.logical["amount"] = Value::integer(7);
    database->app_write(write, [this, answered_us](AppWriteResult) { *answered_us = kernel.now(); });
  }
  static std::shared_ptr<TimeUs> pending() { return std::make_shared<TimeUs>(-1); }

  static constexpr TimeUs kLongUs = 2 * kSec;  // the long transaction
  Kernel kernel{7};
  Node& node = kernel.add_node("db:eu", "eu");
  std::unique_ptr<SimDatabase> database;
};

TEST_F(DatabaseLockTest, AlterBehindALongTransactionBlocksLaterReads) {
  database->hold_table_lock(kLongUs);
  auto alter = pending();
  auto read = pending();
  start_ddl(DdlStatement::Kind::add_column, "amount_cents", alter);
  kernel.run_until(10 * kMs);
  start_read(read);
  kernel.run_until(kLongUs + kSec);
  EXPECT_GT(*alter, kLongUs);  // waited for the long transaction
  EXPECT_GT(*read, *alter);    // and the read waited for the ALTER
}

TEST_F(DatabaseLockTest, CreateIndexConcurrentlyWaitsForTheLongTransactionWithoutBlockingWrites) {
  database->hold_table_lock(kLongUs);
  auto index = pending();
  auto write = pending();
  auto read = pending();
  start_ddl(DdlStatement::Kind::create_index, "orders_amount_idx", index);
  kernel.run_until(10 * kMs);
  start_write(write);
  start_read(read);
  kernel.run_until(kLongUs + kSec);
  EXPECT_GT(*index, kLongUs);  // waited for the older transaction
  EXPECT_GE(*write, 10 * kMs);
  EXPECT_LT(*write, 20 * kMs);  // not blocked by the index build
  EXPECT_LT(*read, 20 * kMs);
  const TableCatalog catalog = database->table().catalog();
  EXPECT_NE(std::find(catalog.indexes.begin(), catalog.indexes.end(), "orders_amount_idx"), catalog.indexes.end());
}

// lock_timeout ends CREATE INDEX CONCURRENTLY's wait for an older transaction as it ends a wait in
// the queue (PostgreSQL waits on a lock there too): it answers a timeout, builds nothing, and
// gives its SHARE UPDATE EXCLUSIVE back, so a later ALTER runs once the long transaction ends.
TEST_F(DatabaseLockTest, LockTimeoutEndsTheWaitForOlderTransactions) {
  database->hold_table_lock(kLongUs);
  DdlStatement index;
  index.kind = DdlStatement::Kind::create_index;
  index.table = "orders";
  index.column = "orders_amount_idx";
  index.columns = {"amount"};
  DdlLimits limits;
  limits.lock_timeout_us = 100 * kMs;
  TimeUs timed_out_us = -1;
  database->ddl(index, limits, Fence{}, "test", [&](Status status) {
    EXPECT_TRUE(status.is_timeout()) << status.to_string();
    timed_out_us = kernel.now();
  });
  kernel.run_until(kSec);
  EXPECT_GE(timed_out_us, 100 * kMs);
  EXPECT_LT(timed_out_us, 110 * kMs);
  auto alter = pending();
  start_ddl(DdlStatement::Kind::add_column, "amount_cents", alter);
  kernel.run_until(kLongUs + kSec);
  EXPECT_GT(*alter, kLongUs);
  const TableCatalog catalog = database->table().catalog();
  EXPECT_EQ(std::find(catalog.indexes.begin(), catalog.indexes.end(), "orders_amount_idx"), catalog.indexes.end());
}

}  // namespace
}  // namespace rehearse::sim
