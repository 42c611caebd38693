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

class Table {
 public:
  struct Column {
    std::string name;
    ColumnType type = ColumnType::text;
    bool live = true;      // false once dropped
    bool not_null = false;
  };

  Table() = default;
  explicit Table(const TableSpec& spec);

  // The table's name in its database ("orders").
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  // DDL. Idempotent as the engine's statements are (IF [NOT] EXISTS semantics). Dropping a
  // column leaves its values in the rows, unreadable, as PostgreSQL does until a rewrite.
  void apply(const DdlStatement& statement);
  // For an ALTER COLUMN TYPE: the first row whose value does not cast to the new type, as
  // PostgreSQL's error for the whole statement ("" when every row casts, or for any other DDL).
  std::string rewrite_error(const DdlStatement& statement) const;
  // Appends `row` with the next id; returns the id. Its slots are the columns after `id`.
  std::int64_t insert(Row row);

  int column_index(const std::string& name) const;  // live columns only; -1 when absent
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

  // Evaluates `expr` over row `id` (columns by name); NULL when evaluation fails.
  Value evaluate_on(const Expr& expr, std::int64_t id) const;
  // The same, with the error when evaluation fails (division by zero, a bad cast, ...).
  EvalResult evaluate_checked(const Expr& expr, std::int64_t id) const;
  // Evaluates `expr` over row `id` with some columns given (`given` wins over the stored row).
  EvalResult evaluate_with(const Expr& expr, std::int64_t id, const std::map<std::string, Value>& given) const;
  // The table as the checkers see it: live columns only, rows shared with this table.
  TableImage image() const;
  // The table's own schema: live columns with their types and NOT NULL, and its indexes.
  TableCatalog catalog() const;

 private:
  static std::size_t index(std::int64_t id) { return static_cast<std::size_t>(id - 1); }

  std::string name_;
  std::vector<Column> columns_;  // index 0 is `id`, implicit: row slot = column index - 1
  std::vector<Row> rows_;
  std::vector<std::string> indexes_;
};

}  // namespace rehearse::sim
