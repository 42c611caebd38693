// Reading a live database's schema and value distributions into the model (real-migrations.md,
// "Commands": `rehearse import --from-db DSN`). The structure -- tables, columns, keys, indexes,
// constraints, enum types -- comes from the catalog (pg_class, pg_attribute, pg_attrdef,
// pg_constraint, pg_index, pg_enum), written out as the DDL `pg_dump --schema-only` would write
// and read back by core/schema_sql.h's read_schema_sql, so that a table read from the database
// equals the same table read from a dump. Sizes and value distributions come from pg_class and
// pg_stats (real_backends/table_shape.h, mapped by core/table_shape.h). Everything is read in
// read-only transactions from catalog views and functions: no row of a user's table is read,
// nothing is written, and the user's tables are never analyzed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/schema_sql.h"
#include "core/status.h"
#include "core/table_shape.h"

namespace rehearse::live {

struct DbSchema {
  // The tables (rows and each column's gen, nullable and scale from the statistics), their
  // enum types, and what read_schema_sql skipped. errors is always empty.
  SchemaSql schema;
  // The DDL the structure was read from (as `pg_dump --schema-only` would write it): the schema a
  // scenario's `schema:` file can hold.
  std::string ddl;
  // What was left out or guessed, one sentence each, for the caller to print: a column of a type
  // the simulator cannot hold (left out with the indexes and constraints naming it), a foreign
  // key to a table not read, a partitioned table, a table never analyzed (its rows estimated
  // from its size), columns pg_stats has no row for (the type's default draw, no NULLs).
  std::vector<std::string> warnings;
};

// Reads every ordinary table of `schemas` (each a schema's name as the catalog stores it) from
// the database at `dsn` (a libpq connection string or URI). Table names follow read_schema_sql:
// `public.x` is `x`, other schemas' tables stay qualified (`audit.events`).
// Status::unavailable (an environment error) when the server cannot be reached or a catalog
// query fails; Status::invalid when a schema does not exist. No message holds the DSN's password.
Result<DbSchema> read_schema_from_db(const std::string& dsn, const std::vector<std::string>& schemas = {"public"});

// The pure half, for tests: gives `table` (a table of read_schema_sql) the row count and, per
// column, the gen, nullable and scale that map_table_shape chooses from `shape` (the same
// table's catalog shape; a column the shape has no statistics for keeps the type's default draw
// and no NULLs). `rows_guess` is the row count when the shape has no estimate (never analyzed).
// Appends what it had to guess to *warnings.
void apply_statistics(TableSpec& table, const TableShape& shape, std::int64_t rows_guess, std::vector<std::string>* warnings);

}  // namespace rehearse::live
