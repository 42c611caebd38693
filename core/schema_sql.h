// Reading a schema from PostgreSQL SQL (real-migrations.md, "Schema: many tables"): the CREATE
// TABLE / CREATE INDEX / ALTER TABLE ... ADD CONSTRAINT / CREATE TYPE ... AS ENUM statements of a
// file such as `pg_dump --schema-only` writes, parsed by PostgreSQL's own parser (libpg_query, the
// PostgreSQL 15 grammar) into the tables of core/model.h. The scenario loader calls it for
// `schema:` (scenarios/loader.cc); the type mapping is also what `tables:` columns use.
//
// What a statement that shapes no table (SET, COMMENT, GRANT, CREATE FUNCTION, ...) does is not
// simulated: it is read, skipped and counted per kind, so that `plan` can say what was left out.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/model.h"

namespace rehearse {

// How the simulator holds a column of a PostgreSQL type: the nearest ColumnType, the numeric
// scale, the `gen` drawn when the scenario gives none, and what the simulation drops of the type
// ("" when nothing).
struct SimulatedType {
  ColumnType type = ColumnType::text;
  int scale = 0;
  std::string sql_type;  // PostgreSQL's spelling, as format_type() prints it ("character varying(20)")
  std::string default_gen;
  std::string approximation;
};

// The simulated type of a type name as written in SQL or in a scenario (`varchar(20)`,
// `timestamptz`, `double precision`, `character varying(20)`, a name of `enums`); nullopt with
// *why set when the simulator cannot draw or compare values of it (arrays, interval, inet, ...).
std::optional<SimulatedType> simulated_type(const std::string& type_name, const std::vector<EnumTypeSpec>& enums,
                                            std::string* why);

struct SchemaSqlError {
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in characters; 0 = the statement as a whole
  std::string message;
};

// A statement kind read and not simulated, and how many statements of it the file holds.
struct SkippedStatements {
  std::string kind;  // "SET", "COMMENT", "ALTER TABLE ... OWNER TO", ...
  int count = 0;
};

struct SchemaSql {
  std::vector<TableSpec> tables;  // in file order; rows unset (the scenario sizes them)
  std::vector<EnumTypeSpec> enum_types;
  std::vector<SkippedStatements> skipped;  // in order of first appearance
  std::vector<SchemaSqlError> errors;      // empty when the schema was read whole
};

// Reads `text` (the contents of `file`, named in TableSpec::file). A file PostgreSQL's parser
// rejects gives one error at the parser's position; otherwise every problem found is reported
// (a type that cannot be simulated, a table, column or referenced table that does not exist).
// Names: `public.x` is `x`, other schemas stay qualified (`audit.events`); quoted identifiers keep
// their case and spaces. A column named `id` is the simulated table's implicit key (core/model.h)
// and is not listed among the columns.
// `lenient`: what names a table or column that does not exist, or a column of a type that cannot
// be simulated, is left out and listed in `skipped` instead of being an error (rehearse import
// reads a chain of real migrations so; a parse error stays an error).
SchemaSql read_schema_sql(const std::string& text, const std::string& file, bool lenient = false);

// The schema as SQL that read_schema_sql reads back to the same tables: CREATE TYPE ... AS ENUM,
// CREATE TABLE (the implicit `id bigint`, the columns as PostgreSQL prints their types, NOT NULL,
// DEFAULT, the primary key), the constraints (NOT VALID when not validated) and the indexes. A
// constraint or index naming what the schema does not have is left out. Identifiers quoted.
std::string schema_sql_text(const SchemaSql& schema);

// The name of `table`'s PRIMARY KEY constraint: its own, or `<table>_pkey`.
std::string primary_key_name(const TableSpec& table);

}  // namespace rehearse
