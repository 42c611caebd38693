// Reads a table's shape (core/table_shape.h) from a PostgreSQL catalog: its columns from
// pg_attribute / pg_attrdef / pg_index, its size from pg_class, its indexes and constraints
// (pg_index, pg_constraint: keys, checks, foreign keys), and per column the pg_stats row. Reads catalog views only: no row of the table, no lock beyond the catalog's own.
// For `rehearse calibrate --table` (real_backends/calibrate.h), `conform` and, later, importing
// a schema (one call per table).
#pragma once

#include <string>

#include "core/status.h"
#include "core/table_shape.h"
#include "real_backends/postgres.h"

namespace rehearse::live {

struct ReadShapeOptions {
  // ANALYZE the table first. Only for tables rehearse made itself (scratch and test tables):
  // on a user's table it would take a SHARE UPDATE EXCLUSIVE lock and read rows.
  bool analyze = false;
};

// The shape of `name`, read in one read-only transaction with TimeZone UTC. Status::invalid
// when there is no such table (or it is not an ordinary table: a view, a partitioned table).
// Throws pqxx errors when the server fails.
Result<TableShape> read_table_shape(pqxx::connection& connection, const QualifiedName& name,
                                    const ReadShapeOptions& options = {});

// `table` in the connection's current schema (the first of its search_path that exists), as the
// live runner names its tables unqualified. For `conform`:
//   read_table_shape(connection, in_current_schema(connection, scenario.table.name)), then
//   apply_table_shape(scenario, shape) (scenarios/table_shape.h).
// Throws pqxx errors; a search_path naming no existing schema gives the schema "".
QualifiedName in_current_schema(pqxx::connection& connection, const std::string& table);

// The SQL expression that draws one value of a mapped column for INSERT ... SELECT over
// generate_series (postgres.h's generator_sql), padded to the column's average width when its
// gen does not say the text (the language has no width), cast to the column's SQL type.
std::string shaped_value_sql(pqxx::connection& connection, const MappedColumn& column);

}  // namespace rehearse::live
