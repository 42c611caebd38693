// Table copies: DDL, row storage, expression evaluation over rows, images for the checkers.
#include "sim/table.h"

#include <algorithm>

#include "core/assert.h"

namespace rehearse::sim {

Table::Table(const TableSpec& spec) {
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
      for (auto& row : rows_) row.emplace_back();
      return;
    case DdlStatement::Kind::drop_column:
      if (index <= 0) return;  // absent, or `id`
      columns_[static_cast<std::size_t>(index)].live = false;
      for (auto& row : rows_) row[static_cast<std::size_t>(index)] = Value();  // storage reclaimed
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
  }
}

std::int64_t Table::insert(std::vector<Value> values, Writer writer) {
  REHEARSE_ASSERT(values.size() == columns_.size());
  const std::int64_t id = row_count() + 1;
  values[0] = Value::integer(id);
  rows_.push_back(std::move(values));
  writers_.push_back(writer);
  return id;
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
  const auto& values = row(id);
  return evaluate(expr, [this, &values](const std::string& name) -> const Value* {
    const int index = column_index(name);
    return index < 0 ? nullptr : &values[static_cast<std::size_t>(index)];
  });
}

Value Table::evaluate_on(const Expr& expr, std::int64_t id) const {
  EvalResult result = evaluate_checked(expr, id);
  return result.ok ? std::move(result.value) : Value();
}

TableImage Table::image() const {
  TableImage image;
  std::vector<std::size_t> live;
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (!columns_[i].live) continue;
    live.push_back(i);
    image.columns.push_back(columns_[i].name);
  }
  image.rows.reserve(rows_.size());
  for (const auto& row : rows_) {
    std::vector<Value> values;
    values.reserve(live.size());
    for (std::size_t i : live) values.push_back(row[i]);
    image.rows.push_back(std::move(values));
  }
  image.last_writer = writers_;
  return image;
}

}  // namespace rehearse::sim
