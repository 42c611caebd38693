// apply_table_shape (scenarios/table_shape.h): the scenario's table from a real table's shape,
// under the loader's rules for names and limits.
#include "scenarios/table_shape.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "scenarios/limits.h"
#include "scenarios/loader.h"

namespace rehearse {

Status apply_table_shape(Scenario& scenario, const TableShape& shape) {
  Result<TableMapping> mapped = map_table_shape(shape);
  if (!mapped.is_ok()) return mapped.status();
  const TableMapping& mapping = mapped.value();
  const std::string table = to_sql(shape.name);
  std::vector<std::string> problems;
  if (mapping.key != "id") {
    problems.push_back(
        mapping.key.empty()
            ? fmt::format("{} has no single bigint or integer primary key; the scenario's table has `id bigint "
                          "primary key`",
                          table)
            : fmt::format("{}'s primary key is \"{}\"; the scenario's table has `id bigint primary key`", table, mapping.key));
  }
  for (const MappedColumn& column : mapping.columns) {
    if (!is_scenario_identifier(column.column.name)) {
      problems.push_back(
          fmt::format("column \"{}\" of {} is not a scenario column name (a-z, 0-9 and '_', not starting "
                      "with a digit)",
                      column.column.name, table));
    }
  }
  for (const ColumnSpec& had : scenario.table.columns) {
    const auto found = std::find_if(mapping.columns.begin(), mapping.columns.end(),
                                    [&](const MappedColumn& column) { return column.column.name == had.name; });
    if (found == mapping.columns.end()) {
      problems.push_back(fmt::format("the scenario's column {} is not in {}", had.name, table));
    } else if (found->column.type != had.type) {
      problems.push_back(fmt::format("the scenario's column {} is {}, but in {} it is {} ({})", had.name, to_string(had.type),
                                     table, to_string(found->column.type), found->shape->type));
    }
  }
  if (mapping.columns.size() > kMaxColumns) {
    problems.push_back(fmt::format("{} has {} columns, above the limit of {}", table, mapping.columns.size(), kMaxColumns));
  }
  if (mapping.rows && *mapping.rows > kMaxRows) {
    problems.push_back(
        fmt::format("{} has about {} rows, above the simulated table's limit of {}", table, *mapping.rows, kMaxRows));
  }
  if (!problems.empty()) return Status::invalid(fmt::format("{}", fmt::join(problems, "; ")));
  TableSpec shaped = scenario.table;
  shaped.columns.clear();
  for (const MappedColumn& column : mapping.columns) {
    // A column without statistics keeps what the scenario said of it (the mapping has only the
    // type's default draw to offer).
    const auto had = std::find_if(scenario.table.columns.begin(), scenario.table.columns.end(),
                                  [&](const ColumnSpec& spec) { return spec.name == column.column.name; });
    shaped.columns.push_back(!column.shape->stats && had != scenario.table.columns.end() ? *had : column.column);
  }
  if (mapping.rows) shaped.rows = *mapping.rows;
  Scenario estimated = scenario;
  estimated.table = shaped;
  const MemoryEstimate estimate = estimate_memory(estimated);
  if (memory_limit() != 0 && estimate.total() > memory_limit()) {
    return Status::invalid(fmt::format("with the shape of {} a run is estimated to need {} of memory ({}), above the limit of {}",
                                       table, format_bytes(estimate.total()), estimate.explain(), format_bytes(memory_limit())));
  }
  scenario.table = std::move(shaped);
  return Status::ok();
}

}  // namespace rehearse
