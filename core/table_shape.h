// A table's shape as a database's catalog describes it -- its columns, its size and its value
// distributions (pg_class, pg_attribute, pg_index, pg_stats; never its rows) -- and the mapping of
// that shape onto the scenario's table model (core/model.h) and its generator language
// (core/gen.h). The catalog is read by real_backends/table_shape.h; everything here is pure, so
// the mapping is tested with hand-made shapes.
//
// One TableShape describes one table: `rehearse calibrate --table` reads one, `conform` gives
// the simulated scenario the live table's shape, and importing a whole schema
// (real-migrations.md, `--from-db`) reads one per table and maps each.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "core/status.h"

namespace rehearse {

// A schema-qualified table name as the catalog stores it (case and spaces kept, no quotes).
struct QualifiedName {
  std::string schema;
  std::string table;
  bool operator==(const QualifiedName&) const = default;
};

// Parses SCHEMA.TABLE as PostgreSQL reads it: a part in double quotes is taken as written ("" is
// one quote); an unquoted part is folded to lower case and may hold letters, digits, '_' and '$'.
// Both parts are required. On failure returns nullopt and says why in *why.
std::optional<QualifiedName> parse_qualified_name(std::string_view text, std::string* why);
// The spelling in messages and for --table (parse_qualified_name reads it back): each part quoted
// unless it is a plain lower-case identifier (public."Order Items"). A reserved word is left
// unquoted (public.order): statements quote each part with the connection's quote_name instead.
std::string to_sql(const QualifiedName& name);
// One part of such a name: as written when it is a plain lower-case identifier, else in double
// quotes ("" for a quote), as format_type() and to_sql spell it.
std::string sql_name_part(const std::string& part);

// One column's row of pg_stats (inherited = false), values in their text output form.
struct ColumnStats {
  double null_frac = 0;                         // share of NULLs
  int avg_width = 0;                            // average stored width in bytes of the non-null values
  double n_distinct = 0;                        // > 0: distinct values; < 0: minus distinct values per row; 0: unknown
  std::vector<std::string> most_common_values;  // most common first
  std::vector<double> most_common_freqs;        // same length as most_common_values
  std::vector<std::string> histogram_bounds;    // ascending, common values excluded
  std::optional<double> correlation;            // physical order vs value order, -1..1
};

struct ColumnShape {
  std::string name;
  std::string type;  // format_type(): "numeric(12,2)", "character varying(40)", "timestamp with time zone"
  bool not_null = false;
  std::string default_sql;           // pg_get_expr of the default, "" when none
  char identity = '\0';              // pg_attribute.attidentity: 'a' always, 'd' by default, '\0' none
  bool generated = false;            // a stored generated column
  bool primary_key = false;          // part of the primary key
  std::optional<ColumnStats> stats;  // nullopt: pg_stats has no row (never analyzed, or no privilege)
};

struct IndexShape {
  std::string name;
  std::vector<std::string> columns;  // key columns or expressions, in order
  bool unique = false;
  bool primary = false;
  std::string definition;  // pg_get_indexdef
};

// A table constraint of pg_constraint (NOT NULL is ColumnShape::not_null).
struct ConstraintShape {
  enum class Kind { primary_key, unique, check, foreign_key, exclusion, other };
  std::string name;
  Kind kind = Kind::other;
  std::vector<std::string> columns;  // the constrained columns, in order (none for a table-wide CHECK)
  std::string definition;            // pg_get_constraintdef: "CHECK ((amount >= (0)::numeric))"
  bool validated = true;             // false: added NOT VALID and not validated since
  // foreign_key only: the referenced table and its columns.
  QualifiedName references;
  std::vector<std::string> referenced_columns;
};

struct TableShape {
  QualifiedName name;
  std::optional<double> rows_estimate;       // pg_class.reltuples; nullopt: never analyzed (-1)
  std::int64_t pages = 0;                    // pg_class.relpages
  std::vector<ColumnShape> columns;          // attnum order, dropped columns left out
  std::vector<IndexShape> indexes;           // by name
  std::vector<ConstraintShape> constraints;  // by name
  std::string server_version;                // SHOW server_version, for the record
};

// What the mapping chose for one column of the shape.
struct MappedColumn {
  ColumnSpec column;                   // name as in the database (not checked against the scenario's identifiers)
  const ColumnShape* shape = nullptr;  // the column it came from (points into the mapped TableShape)
  std::string approximation;           // what the generator language cannot say of the distribution; "" when exact
};

struct TableMapping {
  std::string key;                    // the single integral primary key column ("" when there is none)
  std::optional<std::int64_t> rows;   // the row estimate, rounded; nullopt when never analyzed
  std::vector<MappedColumn> columns;  // every column but `key`, in the table's order
};

// The scenario type of a format_type() spelling, and the numeric scale it implies; nullopt when
// the scenario model has no such type. `approximation` says what the model drops of it ("" when
// nothing): smallint as integer, varchar(n) / char(n) as text, timestamptz as timestamp (UTC),
// uuid as text drawn by `gen: uuid`.
struct ScenarioType {
  ColumnType type = ColumnType::text;
  int scale = 0;
  std::string approximation;
};
std::optional<ScenarioType> scenario_type(const std::string& sql_type);

// Maps every column of `shape` onto a ColumnSpec (type, scale, gen, nullable) that reproduces its
// distribution as closely as the generator language allows (docs/calibration.md, "Table shape
// from a database"). Fails (Status::invalid) when a column has a type the scenario model does not
// support, naming every such column and its type. The result points into `shape`.
Result<TableMapping> map_table_shape(const TableShape& shape);

// One line per approximated column ("status: ..."), and one for a table never analyzed.
std::vector<std::string> describe_approximations(const TableShape& shape, const TableMapping& mapping);

// Giving a scenario a table's shape: scenarios/table_shape.h (apply_table_shape).

}  // namespace rehearse
