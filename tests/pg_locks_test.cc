// PostgreSQL's table lock modes (core/pg_locks.h) and the statement model (core/statements.h):
// the conflict table against pairs the documentation's Table 13.2 states, its symmetry, the
// names pg_locks prints, and that every statement kind has a complete model whose cost keys
// exist in the profile. What PostgreSQL itself does is LiveTest.StatementLocksMatchPgLocks.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "core/costs.h"
#include "core/pg_locks.h"
#include "core/statements.h"

namespace rehearse {
namespace {

using M = LockMode;

TEST(PgLocks, ConflictTableIsSymmetric) {
  for (LockMode a : kLockModes) {
    for (LockMode b : kLockModes) EXPECT_EQ(conflicts(a, b), conflicts(b, a)) << sql_name(a) << " / " << sql_name(b);
  }
}

// Each row of Table 13.2, as the number of modes it conflicts with and pairs named in the text.
TEST(PgLocks, ConflictTableIsTheDocumentationsTable) {
  auto count = [](LockMode requested) {
    int n = 0;
    for (LockMode held : kLockModes) n += conflicts(requested, held) ? 1 : 0;
    return n;
  };
  EXPECT_EQ(count(M::access_share), 1);
  EXPECT_EQ(count(M::row_share), 2);
  EXPECT_EQ(count(M::row_exclusive), 4);
  EXPECT_EQ(count(M::share_update_exclusive), 5);
  EXPECT_EQ(count(M::share), 5);
  EXPECT_EQ(count(M::share_row_exclusive), 6);
  EXPECT_EQ(count(M::exclusive), 7);
  EXPECT_EQ(count(M::access_exclusive), 8);
  // Readers wait only for ACCESS EXCLUSIVE.
  EXPECT_TRUE(conflicts(M::access_share, M::access_exclusive));
  EXPECT_FALSE(conflicts(M::access_share, M::exclusive));
  // CREATE INDEX (SHARE) blocks writers (ROW EXCLUSIVE) but not readers, nor another CREATE INDEX.
  EXPECT_TRUE(conflicts(M::share, M::row_exclusive));
  EXPECT_FALSE(conflicts(M::share, M::access_share));
  EXPECT_FALSE(conflicts(M::share, M::share));
  // CREATE INDEX CONCURRENTLY (SHARE UPDATE EXCLUSIVE) lets writers through, not itself.
  EXPECT_FALSE(conflicts(M::share_update_exclusive, M::row_exclusive));
  EXPECT_TRUE(conflicts(M::share_update_exclusive, M::share_update_exclusive));
  EXPECT_TRUE(conflicts(M::share_update_exclusive, M::share));
  // Writers do not block writers; SHARE ROW EXCLUSIVE conflicts with itself; EXCLUSIVE lets
  // only readers through.
  EXPECT_FALSE(conflicts(M::row_exclusive, M::row_exclusive));
  EXPECT_TRUE(conflicts(M::share_row_exclusive, M::share_row_exclusive));
  EXPECT_TRUE(conflicts(M::exclusive, M::row_share));
  EXPECT_FALSE(conflicts(M::exclusive, M::access_share));
  EXPECT_FALSE(conflicts(M::row_share, M::share_row_exclusive));
}

TEST(PgLocks, SubsumesMeansEveryConflictOfTheWeakerModeIsOneOfTheStronger) {
  EXPECT_TRUE(subsumes(M::share_row_exclusive, M::access_share));
  EXPECT_TRUE(subsumes(M::share_update_exclusive, M::row_share));
  EXPECT_TRUE(subsumes(M::access_exclusive, M::share));
  // ROW EXCLUSIVE and SHARE each conflict with something the other does not.
  EXPECT_FALSE(subsumes(M::share, M::row_exclusive));
  EXPECT_FALSE(subsumes(M::row_exclusive, M::share));
  for (LockMode mode : kLockModes) EXPECT_TRUE(subsumes(mode, mode));
}

TEST(PgLocks, NamesAsPgLocksPrintsThem) {
  EXPECT_STREQ(pg_locks_name(M::access_share), "AccessShareLock");
  EXPECT_STREQ(pg_locks_name(M::share_update_exclusive), "ShareUpdateExclusiveLock");
  EXPECT_STREQ(pg_locks_name(M::access_exclusive), "AccessExclusiveLock");
  EXPECT_STREQ(sql_name(M::share_row_exclusive), "SHARE ROW EXCLUSIVE");
  for (LockMode mode : kLockModes) EXPECT_EQ(lock_mode_from_pg_locks(pg_locks_name(mode)), mode);
  EXPECT_FALSE(lock_mode_from_pg_locks("ExclusiveLocks").has_value());
  EXPECT_FALSE(lock_mode_from_pg_locks("SIReadLock").has_value());  // a predicate lock, not a table lock mode
}

TEST(StatementModel, EveryKindHasACompleteModelWithKeysOfTheProfile) {
  const std::vector<std::string>& keys = cost_profile_keys();
  auto is_key = [&keys](const char* key) { return std::find(keys.begin(), keys.end(), std::string(key)) != keys.end(); };
  std::set<std::string> names;
  for (StatementKind kind : statement_kinds()) {
    const StatementModel& model = statement_model(kind);
    EXPECT_EQ(model.kind, kind);
    EXPECT_TRUE(names.insert(model.name).second) << model.name << " named twice";
    EXPECT_TRUE(is_key(model.cost_key)) << model.name << ": " << model.cost_key;
    const bool priced_per_row = model.work != TableWork::catalog_only;
    if (priced_per_row && model.kind != StatementKind::select) {
      EXPECT_TRUE(is_key(model.per_row_cost_key)) << model.name;
    }
    if (!priced_per_row) {
      EXPECT_STREQ(model.per_row_cost_key, "") << model.name;
    }
    std::set<RelationRole> roles;
    for (const RelationLock& lock : model.locks) EXPECT_TRUE(roles.insert(lock.role).second) << model.name << ": a role twice";
    // Only the CONCURRENTLY forms refuse a transaction, and they are the ones that wait.
    EXPECT_EQ(model.in_transaction, !model.waits_for_older_transactions) << model.name;
  }
  EXPECT_EQ(statement_kinds().size(), static_cast<std::size_t>(StatementKind::catalog_only) + 1);
}

TEST(StatementModel, ModesOfTheStatementsTheSpecNames) {
  auto mode = [](StatementKind kind, RelationRole role = RelationRole::table) { return lock_on(statement_model(kind), role); };
  EXPECT_EQ(mode(StatementKind::create_index), M::share);
  EXPECT_EQ(mode(StatementKind::create_index, RelationRole::index), M::access_exclusive);
  EXPECT_EQ(mode(StatementKind::create_index_concurrently), M::share_update_exclusive);
  EXPECT_TRUE(statement_model(StatementKind::create_index_concurrently).waits_for_older_transactions);
  EXPECT_FALSE(statement_model(StatementKind::create_index_concurrently).in_transaction);
  EXPECT_EQ(mode(StatementKind::add_foreign_key), M::share_row_exclusive);
  EXPECT_EQ(mode(StatementKind::add_foreign_key, RelationRole::referenced_table), M::share_row_exclusive);
  EXPECT_EQ(mode(StatementKind::validate_check), M::share_update_exclusive);
  EXPECT_EQ(mode(StatementKind::validate_foreign_key, RelationRole::referenced_table), M::row_share);
  EXPECT_EQ(mode(StatementKind::alter_column_type_rewrite), M::access_exclusive);
  EXPECT_EQ(statement_model(StatementKind::alter_column_type_rewrite).work, TableWork::rewrite);
  EXPECT_EQ(statement_model(StatementKind::alter_column_type_binary_coercible).work, TableWork::catalog_only);
  EXPECT_EQ(statement_model(StatementKind::add_column_volatile_default).work, TableWork::rewrite);
  EXPECT_EQ(statement_model(StatementKind::set_not_null).work, TableWork::scan);
  EXPECT_EQ(statement_model(StatementKind::set_not_null_with_valid_check).work, TableWork::catalog_only);
  EXPECT_EQ(mode(StatementKind::select), M::access_share);
  EXPECT_EQ(mode(StatementKind::update), M::row_exclusive);
  EXPECT_EQ(mode(StatementKind::insert), M::row_exclusive);
  EXPECT_FALSE(mode(StatementKind::create_function).has_value());
  EXPECT_FALSE(mode(StatementKind::create_index_concurrently, RelationRole::index).has_value());
}

// The engine's DDL kinds map to the model the way the PostgreSQL backend runs them.
TEST(StatementModel, EngineDdlIsTheModelsKindAndSql) {
  DdlStatement index;
  index.kind = DdlStatement::Kind::create_index;
  index.table = "orders";
  index.column = "orders_amount_idx";
  index.columns = {"amount", "id"};
  auto plain = [](const std::string& name) { return name; };
  EXPECT_EQ(statement_kind(index), StatementKind::create_index_concurrently);
  EXPECT_EQ(statement_sql(index, plain), "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_amount_idx ON orders (amount, id)");
  DdlStatement drop = index;
  drop.kind = DdlStatement::Kind::drop_index;
  EXPECT_EQ(statement_kind(drop), StatementKind::drop_index_concurrently);
  EXPECT_EQ(statement_sql(drop, plain), "DROP INDEX CONCURRENTLY IF EXISTS orders_amount_idx");
  DdlStatement add;
  add.kind = DdlStatement::Kind::add_column;
  add.table = "orders";
  add.column = "amount_cents";
  add.type = ColumnType::bigint;
  EXPECT_EQ(statement_kind(add), StatementKind::add_column_nullable);
  EXPECT_EQ(statement_sql(add, [](const std::string& name) { return "\"" + name + "\""; }),
            "ALTER TABLE \"orders\" ADD COLUMN IF NOT EXISTS \"amount_cents\" bigint");
  DdlStatement type = add;
  type.kind = DdlStatement::Kind::alter_column_type;
  EXPECT_EQ(statement_kind(type), StatementKind::alter_column_type_rewrite);
  EXPECT_EQ(statement_sql(type, plain), "ALTER TABLE orders ALTER COLUMN amount_cents TYPE bigint USING amount_cents::bigint");
}

// The model's cost of a statement: its fixed key plus its per-row key for each row of its work.
TEST(StatementModel, CostIsTheFixedKeyPlusThePerRowKey) {
  CostProfile costs;
  costs.ddl_us = 13;
  costs.scan_per_row_us = 0.5;
  costs.index_build_per_row_us = 1.5;
  costs.table_rewrite_per_row_us = 4;
  costs.statement_base_us = 11;
  costs.update_per_row_us = {{100, 3}, {10000, 5}};
  EXPECT_EQ(statement_cost_us(costs, StatementKind::add_column_nullable, 1000), 13);
  EXPECT_EQ(statement_cost_us(costs, StatementKind::set_not_null, 1000), 13 + 500);
  EXPECT_EQ(statement_cost_us(costs, StatementKind::create_index_concurrently, 1000), 13 + 1500);
  EXPECT_EQ(statement_cost_us(costs, StatementKind::alter_column_type_rewrite, 1000), 13 + 4000);
  EXPECT_EQ(statement_cost_us(costs, StatementKind::update, 100), 11 + 300);
  EXPECT_EQ(statement_cost_us(costs, StatementKind::update, 10000), 11 + 50000);
}

}  // namespace
}  // namespace rehearse
