// Table copies: DDL, row storage, expression evaluation over rows, images for the checkers.
#include "sim/table.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "core/assert.h"

namespace rehearse::sim {

namespace {

// `CAST("column" AS type)`: what an ALTER COLUMN TYPE without USING computes for every row.
Expr cast_expression(const DdlStatement& statement) {
  ExprParseError error;
  std::optional<Expr> cast = parse_expression(fmt::format("CAST(\"{}\" AS {})", statement.column, to_string(statement.type)), &error);
  REHEARSE_ASSERT(cast.has_value());
  return std::move(*cast);
}

}  // namespace

Table::Table(const TableSpec& spec) : name_(spec.name) {
  columns_.push_back(Column{"id", ColumnType::bigint, true, true});
  for (const auto& column : spec.columns) columns_.push_back(Column{column.name, column.type, true, false});
}

int Table::column_index(const std::string& name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].live && columns_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

void Table::apply(const DdlStatement& statement) {
  const int index = column_index(statement.column);
  switch (statement.kind) {
    case DdlStatement::Kind::add_column:
      if (index >= 0) return;
      columns_.push_back(Column{statement.column, statement.type, true, false});
      return;
    case DdlStatement::Kind::drop_column:
      if (index <= 0) return;  // absent, or `id`
      columns_[static_cast<std::size_t>(index)].live = false;
      return;
    case DdlStatement::Kind::rename_column:
      if (index <= 0 || column_index(statement.to) >= 0) return;
      columns_[static_cast<std::size_t>(index)].name = statement.to;
      return;
    case DdlStatement::Kind::set_not_null:
      if (index > 0) columns_[static_cast<std::size_t>(index)].not_null = true;
      return;
    case DdlStatement::Kind::create_index:
      if (!has_index(statement.column)) indexes_.push_back(statement.column);
      return;
    case DdlStatement::Kind::drop_index:
      std::erase(indexes_, statement.column);
      return;
    case DdlStatement::Kind::alter_column_type: {
      if (index <= 0) return;
      const Expr cast = cast_expression(statement);
      for (std::int64_t id = 1; id <= row_count(); ++id) set_cell(id, index, evaluate_on(cast, id));  // the rewrite
      columns_[static_cast<std::size_t>(index)].type = statement.type;
      return;
    }
  }
}

std::string Table::rewrite_error(const DdlStatement& statement) const {
  const int index = column_index(statement.column);
  if (statement.kind != DdlStatement::Kind::alter_column_type || index <= 0) return "";
  const Expr cast = cast_expression(statement);
  for (std::int64_t id = 1; id <= row_count(); ++id) {
    const EvalResult result = evaluate_checked(cast, id);
    if (!result.ok) return fmt::format("row {}: {}", id, result.error);
  }
  return "";
}

std::int64_t Table::insert(Row row) {
  rows_.push_back(std::move(row));
  return row_count();
}

Value Table::cell(std::int64_t id, int column) const {
  if (column == 0) return Value::integer(id);
  return rows_[index(id)][static_cast<std::size_t>(column - 1)];
}

void Table::set_cell(std::int64_t id, int column, Value value) {
  REHEARSE_ASSERT(column > 0);
  rows_[index(id)].set(static_cast<std::size_t>(column - 1), std::move(value));
}

std::vector<std::string> Table::live_column_names() const {
  std::vector<std::string> names;
  for (const auto& column : columns_) {
    if (column.live) names.push_back(column.name);
  }
  return names;
}

bool Table::has_index(const std::string& name) const {
  return std::find(indexes_.begin(), indexes_.end(), name) != indexes_.end();
}

EvalResult Table::evaluate_checked(const Expr& expr, std::int64_t id) const {
  static const std::map<std::string, Value> kNothingGiven;
  return evaluate_with(expr, id, kNothingGiven);
}

EvalResult Table::evaluate_with(const Expr& expr, std::int64_t id, const std::map<std::string, Value>& given) const {
  const Row& row = rows_[index(id)];
  const Value id_value = Value::integer(id);
  return evaluate(expr, [this, &row, &id_value, &given](const std::string& name) -> const Value* {
    if (auto it = given.find(name); it != given.end()) return &it->second;
    const int column = column_index(name);
    if (column < 0) return nullptr;
    return column == 0 ? &id_value : &row[static_cast<std::size_t>(column - 1)];
  });
}

Value Table::evaluate_on(const Expr& expr, std::int64_t id) const {
  EvalResult result = evaluate_checked(expr, id);
  return result.ok ? std::move(result.value) : Value();
}

TableCatalog Table::catalog() const {
  TableCatalog catalog;
  catalog.known = true;
  for (const Column& column : columns_) {
    if (column.live) catalog.columns.push_back(CatalogColumn{column.name, to_string(column.type), column.not_null});
  }
  catalog.indexes = indexes_;
  return catalog;
}

TableImage Table::image() const {
  TableImage image;
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (!columns_[i].live) continue;
    image.columns.push_back(columns_[i].name);
    image.slots.push_back(i == 0 ? TableImage::kRowPosition : static_cast<int>(i) - 1);
  }
  image.rows = rows_;
  return image;
}

}  // namespace rehearse::sim
