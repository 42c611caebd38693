// The live check of the statement model (core/statements.h) against PostgreSQL itself, run by
// LiveTest.StatementLocksMatchPgLocks (tests/live_test.cc): for every statement kind -- and for
// the exact SQL the engine runs for each of its DDL kinds -- it runs the statement inside BEGIN
// in a scratch schema of its own, reads pg_locks for the relations the kind involves (its table,
// the table a foreign key references, the index of a CREATE / DROP INDEX), and asserts that the
// strongest mode held on each (the one whose conflicts include every other mode held there:
// e.g. ADD FOREIGN KEY also takes ACCESS SHARE for its validating query) equals the model's, and
// that the relations the model names no lock on are not locked at all. It also checks the
// model's work: a rewrite gives the table a new file (pg_relation_filenode), a scan or index
// build counts a sequential scan in pg_stat_xact_user_tables, a catalog-only change neither.
//
// The CONCURRENTLY forms refuse a transaction block (checked); they run on a session of their
// own while an older REPEATABLE READ transaction reads the table, and the check observes them
// from a third session while they wait for it: the modes they hold, the virtual transaction id
// they wait on, and that an INSERT on another session is not blocked (lock_timeout 2 s).
// Included by tests/live_test.cc only.
#pragma once

#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/pg_locks.h"
#include "core/statements.h"
#include "real_backends/postgres.h"

namespace rehearse::testing {

struct LockCase {
  std::string label;  // what the failure message names
  StatementKind kind;
  std::string sql;
  std::map<RelationRole, std::string> relations;  // the relations checked, by role
};

class StatementLocksCheck {
 public:
  explicit StatementLocksCheck(std::string dsn)
      : dsn_(std::move(dsn)), schema_(fmt::format("rehearse_locks_{}", ::getpid())), connection_(dsn_) {}

  void run() {
    set_up_schema();
    std::set<StatementKind> covered;
    for (const LockCase& c : cases()) {
      covered.insert(c.kind);
      if (statement_model(c.kind).in_transaction) {
        check_in_transaction(c);
      } else {
        check_concurrently(c);
      }
    }
    for (StatementKind kind : statement_kinds()) {
      EXPECT_TRUE(covered.count(kind) > 0) << statement_model(kind).name << ": no live case checks this statement kind";
    }
    exec("DROP SCHEMA " + schema_ + " CASCADE");
  }

 private:
  void exec(const std::string& sql) { pqxx::nontransaction(connection_).exec(sql); }

  void set_up_schema() {
    exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    exec("CREATE SCHEMA " + schema_);
    exec("SET search_path TO " + schema_);
    exec("CREATE TABLE parent (id bigint PRIMARY KEY)");
    exec("INSERT INTO parent SELECT g FROM generate_series(1, 1000) g");
    exec("CREATE TABLE orders (id bigint PRIMARY KEY, amount int, note varchar(10), parent_id bigint, flag int, "
         "code int NOT NULL DEFAULT 0)");
    exec("INSERT INTO orders SELECT g, g, 'n', g, g, 0 FROM generate_series(1, 1000) g");
    exec("ALTER TABLE orders ADD CONSTRAINT orders_amount_check CHECK (amount >= 0) NOT VALID");
    exec("ALTER TABLE orders ADD CONSTRAINT orders_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id) NOT VALID");
    exec("ALTER TABLE orders ADD CONSTRAINT orders_flag_not_null CHECK (flag IS NOT NULL)");
    exec("CREATE INDEX orders_amount_idx ON orders (amount)");
    exec("CREATE UNIQUE INDEX orders_id_key ON orders (id)");
    exec("CREATE TABLE spare (id bigint)");
    exec("CREATE FUNCTION lock_check_noop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$");
    exec("CREATE TRIGGER orders_noop BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION lock_check_noop()");
    exec("ANALYZE orders");
  }

  // One case per statement kind, then the engine's own SQL for each of its DDL kinds
  // (statement_sql of core/statements.h, as the PostgreSQL backend runs it).
  std::vector<LockCase> cases() {
    using K = StatementKind;
    const std::map<RelationRole, std::string> orders{{RelationRole::table, "orders"}};
    const std::map<RelationRole, std::string> fk{{RelationRole::table, "orders"}, {RelationRole::referenced_table, "parent"}};
    auto alter = [](const std::string& action) { return "ALTER TABLE orders " + action; };
    std::vector<LockCase> all = {
        {"add nullable column", K::add_column_nullable, alter("ADD COLUMN c1 int"), orders},
        {"add column with a constant default", K::add_column_constant_default, alter("ADD COLUMN c2 int DEFAULT 7"), orders},
        {"add column with a volatile default", K::add_column_volatile_default, alter("ADD COLUMN c3 float8 DEFAULT random()"), orders},
        {"drop column", K::drop_column, alter("DROP COLUMN note"), orders},
        {"type change that rewrites", K::alter_column_type_rewrite, alter("ALTER COLUMN amount TYPE bigint"), orders},
        {"binary-coercible type change", K::alter_column_type_binary_coercible, alter("ALTER COLUMN note TYPE varchar(20)"), orders},
        {"set not null", K::set_not_null, alter("ALTER COLUMN amount SET NOT NULL"), orders},
        {"set not null with a valid check", K::set_not_null_with_valid_check, alter("ALTER COLUMN flag SET NOT NULL"), orders},
        {"drop not null", K::drop_not_null, alter("ALTER COLUMN code DROP NOT NULL"), orders},
        {"set default", K::set_default, alter("ALTER COLUMN amount SET DEFAULT 0"), orders},
        {"drop default", K::drop_default, alter("ALTER COLUMN code DROP DEFAULT"), orders},
        {"add check", K::add_check, alter("ADD CONSTRAINT orders_amount_min CHECK (amount > -1)"), orders},
        {"add check not valid", K::add_check_not_valid, alter("ADD CONSTRAINT orders_amount_min CHECK (amount > -1) NOT VALID"), orders},
        {"add foreign key", K::add_foreign_key, alter("ADD CONSTRAINT orders_parent_fk2 FOREIGN KEY (parent_id) REFERENCES parent (id)"), fk},
        {"add foreign key not valid", K::add_foreign_key_not_valid,
         alter("ADD CONSTRAINT orders_parent_fk2 FOREIGN KEY (parent_id) REFERENCES parent (id) NOT VALID"), fk},
        {"validate check", K::validate_check, alter("VALIDATE CONSTRAINT orders_amount_check"), orders},
        {"validate foreign key", K::validate_foreign_key, alter("VALIDATE CONSTRAINT orders_parent_fk"), fk},
        {"create index", K::create_index, "CREATE INDEX orders_note_idx ON orders (note)",
         {{RelationRole::table, "orders"}, {RelationRole::index, "orders_note_idx"}}},
        {"drop index", K::drop_index, "DROP INDEX orders_amount_idx",
         {{RelationRole::table, "orders"}, {RelationRole::index, "orders_amount_idx"}}},
        {"rename column", K::rename_column, alter("RENAME COLUMN note TO memo"), orders},
        {"rename table", K::rename_table, alter("RENAME TO orders_renamed"), orders},
        {"rename constraint", K::rename_constraint, alter("RENAME CONSTRAINT orders_amount_check TO orders_amount_ok"), orders},
        {"create table", K::create_table, "CREATE TABLE fresh (id bigint)", {{RelationRole::table, "fresh"}}},
        {"drop table", K::drop_table, "DROP TABLE spare", {{RelationRole::table, "spare"}}},
        {"catalog only (a SQL file's CREATE TYPE)", K::catalog_only, "CREATE TYPE lock_check_mood AS ENUM ('a', 'b')", orders},
        {"create function", K::create_function, "CREATE FUNCTION lock_check_one() RETURNS int LANGUAGE sql AS 'SELECT 1'", orders},
        {"create trigger", K::create_trigger,
         "CREATE TRIGGER orders_noop2 BEFORE INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION lock_check_noop()", orders},
        {"drop trigger", K::drop_trigger, "DROP TRIGGER orders_noop ON orders", orders},
        {"update (a backfill batch)", K::update, "UPDATE orders SET amount = amount + 1 WHERE id BETWEEN 1 AND 100", orders},
        {"select", K::select, "SELECT count(*) FROM orders WHERE id = 5", orders},
        {"insert", K::insert, "INSERT INTO orders (id, amount, note, parent_id, flag) VALUES (5001, 1, 'x', 1, 1)", orders},
        {"delete", K::delete_rows, "DELETE FROM orders WHERE id BETWEEN 1 AND 10", orders},
        {"truncate", K::truncate, "TRUNCATE orders", orders},
        {"row level security", K::row_security, alter("ENABLE ROW LEVEL SECURITY"), orders},
        {"create policy", K::policy, "CREATE POLICY orders_mine ON orders USING (amount > 0)", orders},
        {"disable triggers", K::trigger_state, alter("DISABLE TRIGGER ALL"), orders},
        {"alter constraint", K::alter_constraint, alter("ALTER CONSTRAINT orders_parent_fk DEFERRABLE INITIALLY DEFERRED"), fk},
        {"set replica identity", K::set_replica_identity, alter("REPLICA IDENTITY FULL"), orders},
        {"comment on table", K::comment_on_table, "COMMENT ON TABLE orders IS 'checked'", orders},
        {"comment on column", K::comment_on_column, "COMMENT ON COLUMN orders.amount IS 'checked'", orders},
        {"add unique constraint using index", K::add_constraint_using_index,
         alter("ADD CONSTRAINT orders_id_key UNIQUE USING INDEX orders_id_key"), orders},
        {"drop constraint", K::drop_constraint, alter("DROP CONSTRAINT orders_amount_check"), orders},
        // Opaque SQL is assumed to take ACCESS EXCLUSIVE; a LOCK TABLE takes exactly that.
        {"opaque sql (as a LOCK TABLE)", K::opaque_sql, "LOCK TABLE orders", orders},
    };
    for (LockCase& engine : engine_cases()) all.push_back(std::move(engine));
    // Last: the CONCURRENTLY forms leave their changes behind (they commit).
    all.push_back({"create index concurrently", K::create_index_concurrently, "CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note)",
                   {{RelationRole::table, "orders"}, {RelationRole::index, "orders_note_idx"}}});
    all.push_back({"drop index concurrently", K::drop_index_concurrently, "DROP INDEX CONCURRENTLY orders_note_idx",
                   {{RelationRole::table, "orders"}, {RelationRole::index, "orders_note_idx"}}});
    return all;
  }

  // Every DdlStatement kind the compiled plans (and the simulator) run, as the backend writes it.
  std::vector<LockCase> engine_cases() {
    std::vector<LockCase> all;
    auto add = [&](DdlStatement::Kind kind, const std::string& column, auto&& fill) {
      DdlStatement statement;
      statement.kind = kind;
      statement.table = "orders";
      statement.column = column;
      fill(statement);
      std::map<RelationRole, std::string> relations{{RelationRole::table, "orders"}};
      if (kind == DdlStatement::Kind::create_index || kind == DdlStatement::Kind::drop_index) {
        relations[RelationRole::index] = column;
      }
      const std::string sql = statement_sql(statement, [this](const std::string& name) { return connection_.quote_name(name); });
      all.push_back({"engine: " + sql, statement_kind(statement), sql, relations});
    };
    auto nothing = [](DdlStatement&) {};
    add(DdlStatement::Kind::add_column, "amount_cents", [](DdlStatement& s) { s.type = ColumnType::bigint; });
    add(DdlStatement::Kind::drop_column, "note", nothing);
    add(DdlStatement::Kind::rename_column, "note", [](DdlStatement& s) { s.to = "memo"; });
    add(DdlStatement::Kind::set_not_null, "amount", nothing);
    add(DdlStatement::Kind::alter_column_type, "amount", [](DdlStatement& s) { s.type = ColumnType::bigint; });
    add(DdlStatement::Kind::create_index, "orders_engine_idx", [](DdlStatement& s) { s.columns = {"amount"}; });
    add(DdlStatement::Kind::drop_index, "orders_engine_idx", nothing);
    // pgroll's operations (core/plan.cc), the safe forms the plans emit.
    add(DdlStatement::Kind::add_column, "tier", [](DdlStatement& s) {
      s.type = ColumnType::integer;
      s.default_sql = "0";
    });
    add(DdlStatement::Kind::add_check, "", [](DdlStatement& s) {
      s.constraint = "orders_flag_positive";
      s.check = "flag > 0";
    });
    add(DdlStatement::Kind::validate_constraint, "", [](DdlStatement& s) { s.constraint = "orders_amount_check"; });
    add(DdlStatement::Kind::set_not_null, "flag", [](DdlStatement& s) { s.with_valid_check = true; });
    add(DdlStatement::Kind::drop_not_null, "code", nothing);
    add(DdlStatement::Kind::set_default, "amount", [](DdlStatement& s) { s.default_sql = "0"; });
    add(DdlStatement::Kind::drop_default, "code", nothing);
    add(DdlStatement::Kind::drop_constraint, "", [](DdlStatement& s) { s.constraint = "orders_flag_not_null"; });
    add(DdlStatement::Kind::rename_constraint, "", [](DdlStatement& s) {
      s.constraint = "orders_amount_check";
      s.to = "orders_amount_ok";
    });
    add(DdlStatement::Kind::add_unique_using_index, "", [](DdlStatement& s) {
      s.constraint = "orders_id_key";
      s.index = "orders_id_key";
    });
    add(DdlStatement::Kind::set_replica_identity, "", [](DdlStatement& s) { s.identity = "full"; });
    add(DdlStatement::Kind::comment, "amount", [](DdlStatement& s) { s.comment = "checked"; });
    add(DdlStatement::Kind::rename_table, "", [](DdlStatement& s) { s.to = "orders_renamed"; });
    return all;
  }

  // The relation's oid (nullopt: none of that name in the schema now).
  static std::optional<std::string> oid_of(pqxx::transaction_base& tx, const std::string& schema, const std::string& name) {
    const pqxx::row row = tx.exec1(fmt::format("SELECT to_regclass({})::oid", tx.quote(schema + "." + name)));
    if (row[0].is_null()) return std::nullopt;
    return std::string(row[0].c_str());
  }

  // The granted relation modes `pid` holds on `oid`.
  static std::vector<LockMode> modes_held(pqxx::transaction_base& tx, const std::string& pid, const std::string& oid) {
    std::vector<LockMode> modes;
    const pqxx::result rows = tx.exec(fmt::format(
        "SELECT mode FROM pg_locks WHERE locktype = 'relation' AND granted AND pid = {} AND relation = {} ORDER BY mode", pid, oid));
    for (const auto& row : rows) {
      const std::optional<LockMode> mode = lock_mode_from_pg_locks(row[0].c_str());
      EXPECT_TRUE(mode.has_value()) << "pg_locks mode " << row[0].c_str();
      if (mode) modes.push_back(*mode);
    }
    return modes;
  }

  // The mode among `held` that subsumes every other one; nullopt when none is held. A set no
  // single mode subsumes fails the test (the model's one mode per relation could not be right).
  static std::optional<LockMode> strongest(const std::vector<LockMode>& held, const std::string& what) {
    for (LockMode candidate : held) {
      bool all = true;
      for (LockMode other : held) all = all && subsumes(candidate, other);
      if (all) return candidate;
    }
    if (!held.empty()) {
      std::string names;
      for (LockMode mode : held) names += std::string(pg_locks_name(mode)) + " ";
      ADD_FAILURE() << what << ": no mode held subsumes the others: " << names;
    }
    return std::nullopt;
  }

  static std::string mode_text(const std::optional<LockMode>& mode) { return mode ? pg_locks_name(*mode) : "no lock"; }

  void expect_relations_match(pqxx::transaction_base& tx, const LockCase& c, const std::string& pid,
                              const std::map<RelationRole, std::string>& oids) {
    const StatementModel& model = statement_model(c.kind);
    for (const auto& [role, name] : c.relations) {
      auto oid = oids.find(role);
      ASSERT_TRUE(oid != oids.end()) << c.label << ": no relation " << name << " to check";
      const std::optional<LockMode> held = strongest(modes_held(tx, pid, oid->second), c.label + " on " + name);
      EXPECT_EQ(mode_text(held), mode_text(lock_on(model, role)))
          << c.label << " (" << c.sql << "): the " << to_string(role) << " " << name << " -- pg_locks vs the model";
    }
  }

  std::map<RelationRole, std::string> resolve(pqxx::transaction_base& tx, const LockCase& c,
                                              std::map<RelationRole, std::string> known = {}) {
    for (const auto& [role, name] : c.relations) {
      if (known.count(role) > 0) continue;
      if (std::optional<std::string> oid = oid_of(tx, schema_, name)) known[role] = *oid;
    }
    return known;
  }

  static std::string scalar(pqxx::transaction_base& tx, const std::string& sql) {
    const pqxx::row row = tx.exec1(sql);
    return row[0].is_null() ? "NULL" : row[0].c_str();
  }

  // The table's file and its sequential scans in this transaction so far.
  static std::pair<std::string, std::string> table_state(pqxx::transaction_base& tx, const std::string& oid) {
    return {scalar(tx, fmt::format("SELECT pg_relation_filenode({})", oid)),
            scalar(tx, fmt::format("SELECT coalesce((SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relid = {}), 0)", oid))};
  }

  void expect_work(const LockCase& c, const std::pair<std::string, std::string>& before,
                   const std::pair<std::string, std::string>& after) {
    const TableWork work = statement_model(c.kind).work;
    if (work == TableWork::rows_read || work == TableWork::rows_written) return;
    if (c.kind == StatementKind::create_table || c.kind == StatementKind::drop_table) return;  // no table before / after
    const bool rewritten = before.first != after.first;
    const bool scanned = std::stoll(after.second) > std::stoll(before.second);
    if (c.kind == StatementKind::truncate) {
      // A new, empty file, no row copied (priced as catalog work). pg_stat_xact_user_tables
      // counts a sequential scan for it all the same (one on a bare table, measured on 15.x):
      // not a scan of rows, so not checked.
      EXPECT_TRUE(rewritten) << c.label << ": filenode " << before.first << " -> " << after.first;
      return;
    }
    EXPECT_EQ(rewritten, work == TableWork::rewrite) << c.label << ": filenode " << before.first << " -> " << after.first;
    EXPECT_EQ(scanned, work != TableWork::catalog_only) << c.label << ": sequential scans " << before.second << " -> " << after.second;
  }

  void check_in_transaction(const LockCase& c) {
    SCOPED_TRACE(c.label);
    try {
      pqxx::work tx(connection_);
      tx.exec("SET LOCAL search_path TO " + schema_);
      const std::string pid = scalar(tx, "SELECT pg_backend_pid()");
      std::map<RelationRole, std::string> oids = resolve(tx, c);
      const bool table_before = oids.count(RelationRole::table) > 0;
      std::pair<std::string, std::string> before;
      if (table_before) before = table_state(tx, oids.at(RelationRole::table));
      tx.exec(c.sql);
      oids = resolve(tx, c, oids);  // and the relations the statement created
      expect_relations_match(tx, c, pid, oids);
      if (table_before) expect_work(c, before, table_state(tx, oids.at(RelationRole::table)));
      tx.abort();
    } catch (const std::exception& error) {
      ADD_FAILURE() << c.label << " (" << c.sql << "): " << error.what();
    }
  }

  // pqxx::sql_error's SQLSTATE of running `sql` inside BEGIN; "" when it ran.
  std::string sqlstate_in_transaction(const std::string& sql) {
    try {
      pqxx::work tx(connection_);
      tx.exec("SET LOCAL search_path TO " + schema_);
      tx.exec(sql);
      tx.abort();
    } catch (const pqxx::sql_error& error) {
      return error.sqlstate();
    }
    return "";
  }

  void check_concurrently(const LockCase& c) {
    SCOPED_TRACE(c.label);
    EXPECT_EQ(sqlstate_in_transaction(c.sql), "25001") << c.label << ": the model says it cannot run inside a transaction block";
    // The older transaction: a REPEATABLE READ snapshot that has read the table.
    pqxx::connection older(dsn_);
    pqxx::transaction<pqxx::repeatable_read> older_session(older);
    older_session.exec("SELECT count(*) FROM " + schema_ + ".orders");
    pqxx::connection runner(dsn_);
    std::string runner_pid;
    {
      pqxx::nontransaction session(runner);
      session.exec("SET search_path TO " + schema_);
      session.exec("SET statement_timeout = '60s'");
      runner_pid = session.exec1("SELECT pg_backend_pid()")[0].c_str();
    }
    std::string runner_error = "did not finish";
    std::thread statement([&] {
      try {
        pqxx::nontransaction(runner).exec(c.sql);
        runner_error.clear();
      } catch (const std::exception& error) {
        runner_error = error.what();
      }
    });
    try {
      observe_while_waiting(c, runner_pid);
    } catch (const std::exception& error) {
      ADD_FAILURE() << c.label << ": observing it: " << error.what();
    }
    try {
      older_session.commit();
    } catch (const std::exception& error) {
      ADD_FAILURE() << c.label << ": ending the older transaction: " << error.what();
      older.disconnect();  // its session ends, and with it the wait
    }
    statement.join();
    EXPECT_EQ(runner_error, "") << c.label;
  }

  // From a third session: wait (10 s at most) until the statement waits on a virtual
  // transaction id, then compare the modes it holds with the model, and check that a write on
  // the table is not blocked.
  void observe_while_waiting(const LockCase& c, const std::string& pid) {
    pqxx::connection observer(dsn_);
    bool waiting = false;
    for (int attempt = 0; attempt < 200 && !waiting; ++attempt) {
      pqxx::read_transaction tx(observer);
      waiting = scalar(tx, "SELECT count(*) FROM pg_locks WHERE locktype = 'virtualxid' AND NOT granted AND pid = " + pid) != "0";
      if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(waiting, statement_model(c.kind).waits_for_older_transactions) << c.label << ": waits for the older transaction";
    {
      pqxx::read_transaction tx(observer);
      expect_relations_match(tx, c, pid, resolve(tx, c));
    }
    try {
      pqxx::work write(observer);
      write.exec("SET LOCAL lock_timeout = '2s'");
      write.exec("INSERT INTO " + schema_ + ".orders (id, amount, note, parent_id, flag) VALUES (9001, 1, 'w', 1, 1)");
      write.abort();
    } catch (const std::exception& error) {
      ADD_FAILURE() << c.label << ": a write waited while it waited for the older transaction: " << error.what();
    }
  }

  std::string dsn_;
  std::string schema_;
  pqxx::connection connection_;
};

}  // namespace rehearse::testing
