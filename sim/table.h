// One copy of the migrated table (a primary's or a replica's): its columns, its rows and who
// wrote each row last. Schema changes and row writes are applied to it in commit order; a
// replica receives the same changes later through replication.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/observations.h"
#include "core/ports.h"
#include "core/value.h"

namespace rehearse::sim {

// A key of several columns hashed one value at a time (the unique and foreign key checks, the
// generator's unique keys): `hash` so far, then `value`.
inline std::uint64_t key_hash_step(std::uint64_t hash, const Value& value) { return hash * 1099511628211ULL ^ value.hash(); }

class Table {
 public:
  struct Column {
    std::string name;
    ColumnType type = ColumnType::text;
    bool live = true;      // false once dropped
    bool not_null = false;
    std::string default_sql;  // the DEFAULT as written; empty = none
    // An INSERT that leaves the column out gets its DEFAULT (a SQL file's, or a compiled plan's
    // ADD COLUMN ... DEFAULT: pgroll's `default`), as PostgreSQL fills it before any trigger.
    bool default_on_insert = false;
  };

  Table() = default;
  explicit Table(const TableSpec& spec);
  // The empty table a CREATE TABLE makes: `id` and the statement's columns (NOT NULL and DEFAULT
  // as declared). For the database that holds many tables. REQUIRES: a create_table statement.
  static Table created(const DdlStatement& create_table);

  // The table's name in its database ("orders").
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  // DDL. Idempotent as the engine's statements are (IF [NOT] EXISTS semantics). Dropping a
  // column leaves its values in the rows, unreadable, as PostgreSQL does until a rewrite, and
  // drops the constraints on it. Constraints, unique indexes, defaults, comments and the replica
  // identity are recorded for the catalog. create_table, drop_table, rename_table and opaque SQL
  // change nothing here: tables are the database's (created() builds one).
  void apply(const DdlStatement& statement);
  // Why PostgreSQL would fail `statement` on the rows present, as its error for the whole
  // statement ("" when it would not): an ALTER COLUMN TYPE whose cast fails on a row; a CHECK
  // added without NOT VALID, or VALIDATEd, that a row violates (FALSE; NULL passes); a unique
  // index, or UNIQUE USING INDEX, over duplicated values; USING INDEX of an index that is not
  // there or not unique. A foreign key needs the referenced table: foreign_key_error.
  std::string rewrite_error(const DdlStatement& statement) const;
  // For an ADD FOREIGN KEY without NOT VALID, or the VALIDATE of one (on this table, the
  // referencing one): the first row whose non-NULL key has no match in `referenced`, as
  // PostgreSQL's error ("" when every row matches, or for any other statement).
  std::string foreign_key_error(const DdlStatement& statement, const Table& referenced) const;
  // Appends `row` with the next id; returns the id. Its slots are the columns after `id`.
  std::int64_t insert(Row row);

  int column_index(const std::string& name) const;  // live columns only; -1 when absent
  // Changes whenever apply() does (columns added, dropped, renamed, retyped, ...): what was
  // bound to the layout (column indexes by name) is bound again.
  std::uint64_t layout_version() const { return layout_version_; }
  bool has_row(std::int64_t id) const { return id >= 1 && id <= row_count(); }
  std::int64_t row_count() const { return static_cast<std::int64_t>(rows_.size()); }
  // Column `column` (an index from column_index) of row `id`; column 0 is the id itself.
  Value cell(std::int64_t id, int column) const;
  void set_cell(std::int64_t id, int column, Value value);
  Writer writer(std::int64_t id) const { return version(id).writer(); }
  void set_writer(std::int64_t id, Writer writer) { rows_[index(id)].set_writer(writer); }
  // The row's current version, shared (replication hands the primary's version to a replica).
  const Row& version(std::int64_t id) const { return rows_[index(id)]; }
  void set_version(std::int64_t id, Row row) { rows_[index(id)] = std::move(row); }
  const std::vector<Column>& columns() const { return columns_; }
  std::vector<std::string> live_column_names() const;
  bool has_index(const std::string& name) const;
  // A SQL file's statement as PostgreSQL meets the table (core/sql_migration.h): the error of a
  // statement without IF [NOT] EXISTS whose object is already there (or is not), of a NOT NULL
  // column added without a default to rows, of SET NOT NULL over a NULL; "" when it runs.
  std::string as_written_error(const DdlStatement& statement) const;
  // An interrupted CREATE INDEX CONCURRENTLY leaves its index INVALID: in the catalog, unused.
  void mark_index_invalid(const std::string& index);
  // A new row `id` of an INSERT: every default_on_insert column it left NULL gets its DEFAULT.
  void fill_defaults(std::int64_t id);
  bool index_valid(const std::string& index) const;
  // The constraint named `name`; nullptr when there is none.
  const ConstraintSpec* constraint(const std::string& name) const;
  const std::vector<ConstraintSpec>& constraints() const { return constraints_; }
  const std::string& replica_identity() const { return replica_identity_; }
  // The comment on `column` ("" = the table's); "" when none.
  std::string comment(const std::string& column) const;

  // The rows a SQL file's UPDATE or DELETE takes (sim/table.cc).
  struct DmlRows {
    std::vector<std::int64_t> rows;
    bool known = true;  // false: its WHERE is outside the expression subset, `rows` is its id range
  };
  DmlRows dml_rows(const DdlStatement& statement) const;
  // Evaluates `expr` over row `id` (columns by name); NULL when evaluation fails.
  Value evaluate_on(const Expr& expr, std::int64_t id) const;
  // The same, with the error when evaluation fails (division by zero, a bad cast, ...).
  EvalResult evaluate_checked(const Expr& expr, std::int64_t id) const;
  // Evaluates `expr` over row `id` with some columns given (`given` wins over the stored row).
  EvalResult evaluate_with(const Expr& expr, std::int64_t id, const ColumnValues& given) const;
  // The same bound once (bind_with): each of `expr`'s columns as the position of a given value
  // (>= 0), or as -2 - its column index in the layout (-1: absent from both).
  std::vector<int> bind_with(const Expr& expr, const ColumnValues& given) const;
  EvalResult evaluate_with_bound(const Expr& expr, const std::vector<int>& bound, std::int64_t id,
                                 const ColumnValues& given) const;
  // A scan's form: `expr`'s columns (Expr::columns(), in order) as column indexes of the current
  // layout (-1 when absent), bound once; evaluate_bound then reads each row by index, with the
  // same result as evaluate_checked. Valid until the next DDL.
  std::vector<int> bind(const Expr& expr) const;
  EvalResult evaluate_bound(const Expr& expr, const std::vector<int>& bound, std::int64_t id) const;
  // The table as the checkers see it: live columns only, rows shared with this table.
  TableImage image() const;
  // The table's own schema: live columns with their types and NOT NULL, and its indexes.
  TableCatalog catalog() const;

 private:
  static std::size_t index(std::int64_t id) { return static_cast<std::size_t>(id - 1); }

  std::string name_;
  std::string primary_key_name_;  // its PRIMARY KEY constraint's ("" once dropped)
  std::vector<Column> columns_;  // index 0 is `id`, implicit: row slot = column index - 1
  std::uint64_t layout_version_ = 0;
  std::vector<Row> rows_;
  std::vector<std::string> indexes_;
  void apply_constraint(const DdlStatement& statement);
  void apply_dml(const DdlStatement& statement);
  ColumnTypes live_column_types() const;
  void rename_in_constraints(const std::string& from, const std::string& to);
  std::string check_error(const ConstraintSpec& check, const std::string& table) const;
  std::string duplicate_error(const std::string& index, const std::vector<std::string>& columns, const std::string& predicate) const;

  // pgroll's kinds (issue 13): what the catalog records beyond columns and index names.
  std::vector<ConstraintSpec> constraints_;
  std::map<std::string, std::vector<std::string>> unique_indexes_;  // name -> columns
  std::map<std::string, std::string> comments_;                      // column ("" = table) -> text
  std::string replica_identity_ = "default";
  std::vector<std::string> invalid_indexes_;  // left INVALID by an interrupted CREATE INDEX CONCURRENTLY
};

}  // namespace rehearse::sim
