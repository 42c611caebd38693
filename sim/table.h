// One copy of the migrated table (a primary's or a replica's): its columns, its rows and who
// wrote each row last. Schema changes and row writes are applied to it in commit order; a
// replica receives the same changes later through replication.
#pragma once

#include <cstdint>
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

  // DDL. Idempotent as the engine's statements are (IF [NOT] EXISTS semantics).
  void apply(const DdlStatement& statement);
  // Appends a row with the next id; returns the id. `values` are in column order (id ignored).
  std::int64_t insert(std::vector<Value> values, Writer writer);

  int column_index(const std::string& name) const;  // live columns only; -1 when absent
  bool has_row(std::int64_t id) const { return id >= 1 && id <= row_count(); }
  std::int64_t row_count() const { return static_cast<std::int64_t>(rows_.size()); }
  std::vector<Value>& row(std::int64_t id) { return rows_[static_cast<std::size_t>(id - 1)]; }
  const std::vector<Value>& row(std::int64_t id) const { return rows_[static_cast<std::size_t>(id - 1)]; }
  Writer& writer(std::int64_t id) { return writers_[static_cast<std::size_t>(id - 1)]; }
  const std::vector<Column>& columns() const { return columns_; }
  std::vector<std::string> live_column_names() const;
  bool has_index(const std::string& name) const;

  // Evaluates `expr` over row `id` (columns by name); NULL when evaluation fails.
  Value evaluate_on(const Expr& expr, std::int64_t id) const;
  // The same, with the error when evaluation fails (division by zero, a bad cast, ...).
  EvalResult evaluate_checked(const Expr& expr, std::int64_t id) const;
  // The table as the checkers see it: live columns only.
  TableImage image() const;

 private:
  std::vector<Column> columns_;  // index 0 is `id`
  std::vector<std::vector<Value>> rows_;
  std::vector<Writer> writers_;
  std::vector<std::string> indexes_;
};

}  // namespace rehearse::sim
