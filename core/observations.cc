// Table images: reading columns through their storage slots, and building images row by row.
#include "core/observations.h"

#include "core/assert.h"

namespace rehearse {

const char* to_string(Cause cause) { return cause == Cause::fault ? "fault" : "migration"; }

Value TableImage::at(std::size_t row, int column) const {
  if (column < 0 || static_cast<std::size_t>(column) >= slots.size()) return Value();
  const int slot = slots[static_cast<std::size_t>(column)];
  if (slot == kRowPosition) return Value::integer(static_cast<std::int64_t>(row) + 1);
  return rows[row][static_cast<std::size_t>(slot)];
}

std::vector<Value> TableImage::values(std::size_t row) const {
  std::vector<Value> values(columns.size());
  const Row& stored = rows[row];
  for (std::size_t column = 0; column < columns.size(); ++column) {
    const int slot = column < slots.size() ? slots[column] : kRowPosition - 1;
    if (slot == kRowPosition) {
      values[column] = Value::integer(static_cast<std::int64_t>(row) + 1);
    } else if (slot >= 0) {
      values[column] = stored[static_cast<std::size_t>(slot)];
    }
  }
  return values;
}

void TableImage::add_row(const std::vector<Value>& values, Writer writer) {
  if (slots.empty()) {
    for (std::size_t column = 0; column < columns.size(); ++column) slots.push_back(static_cast<int>(column));
  }
  REHEARSE_ASSERT(values.size() == columns.size());
  std::vector<Value> stored(slots.size());
  for (std::size_t column = 0; column < slots.size(); ++column) {
    REHEARSE_ASSERT(slots[column] != kRowPosition);
    if (static_cast<std::size_t>(slots[column]) >= stored.size()) stored.resize(static_cast<std::size_t>(slots[column]) + 1);
    stored[static_cast<std::size_t>(slots[column])] = values[column];
  }
  rows.emplace_back(stored, writer);
}

void TableImage::set(std::size_t row, int column, Value value) {
  const int slot = slots[static_cast<std::size_t>(column)];
  REHEARSE_ASSERT(slot != kRowPosition);
  rows[row].set(static_cast<std::size_t>(slot), std::move(value));
}

bool same_contents(const TableImage& a, const TableImage& b) {
  if (a.columns != b.columns || a.row_count() != b.row_count()) return false;
  for (std::size_t row = 0; row < a.row_count(); ++row) {
    if (a.rows[row].same_version(b.rows[row]) && a.slots == b.slots) continue;
    for (std::size_t column = 0; column < a.columns.size(); ++column) {
      if (!(a.at(row, static_cast<int>(column)) == b.at(row, static_cast<int>(column)))) return false;
    }
  }
  return true;
}

}  // namespace rehearse
