// Reading a live database's schema into the model (real_backends/catalog_import.h). One
// read-only transaction with search_path '' (as pg_dump reads, so that every name outside
// pg_catalog comes schema-qualified) reads the catalog and writes it out as a dump would:
// CREATE TYPE ... AS ENUM, CREATE TABLE with each column's type (format_type), NOT NULL,
// DEFAULT / identity / generated expression, then ALTER TABLE ONLY ... ADD CONSTRAINT
// (pg_get_constraintdef: checks, keys, then foreign keys) and CREATE INDEX (pg_get_indexdef).
// read_schema_sql reads that text, and read_table_shape then reads each table's pg_class and
// pg_stats rows for the sizes and the gens.
#include "real_backends/catalog_import.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "core/assert.h"
#include "real_backends/postgres.h"
#include "real_backends/table_shape.h"

namespace rehearse::live {
namespace {

// The stand-in type map_table_shape maps a column with, when it does not know the column's own
// (an enum, date, real, double precision, json, ...): the type the simulator holds it as, spelt
// as format_type() prints it. That is to_string(type) (core/model.h) but for timestamp, whose bare
// name scenario_type reads as timestamptz.
const char* stand_in_type(ColumnType type) {
  return type == ColumnType::timestamp ? "timestamp without time zone" : to_string(type);
}

// A table's name as read_schema_sql gives it: `public.x` is `x`.
std::string model_name(const std::string& schema, const std::string& table) {
  return schema == "public" ? table : schema + "." + table;
}

// The planner's guess of a never-analyzed table's rows from its size (PostgreSQL's
// estimate_rel_size): pages of 8 kB less the page header, each row a 24-byte header, its
// columns' widths (a variable-width type counted as 32 bytes) aligned to 8, and a 4-byte line
// pointer.
std::int64_t rows_from_size(std::int64_t bytes, std::int64_t block_size, std::int64_t width) {
  if (bytes <= 0 || block_size <= 0) return 0;
  constexpr std::int64_t kPageHeader = 24, kTupleHeader = 24, kLinePointer = 4;
  const std::int64_t row_bytes = kTupleHeader + (width + 7) / 8 * 8 + kLinePointer;
  return bytes / block_size * std::max<std::int64_t>(1, (block_size - kPageHeader) / row_bytes);
}

// A JSON array of integers (attnums) as a set; an expression's 0 is left out.
std::set<int> attnums(const pqxx::field& field) {
  std::set<int> numbers;
  if (field.is_null()) return numbers;
  for (const auto& item : nlohmann::json::parse(field.c_str())) {
    if (item.get<int>() > 0) numbers.insert(item.get<int>());
  }
  return numbers;
}

struct CatalogTable {
  std::string oid;
  QualifiedName name;
  std::string sql_name;  // schema-qualified and quoted, for the DDL
  std::int64_t rows_guess = 0;
  std::map<int, std::string> unsimulated;  // attnum -> column name, of the columns left out
  std::string create;                      // CREATE TABLE ...
};

std::string sql_list(pqxx::transaction_base& tx, const std::vector<std::string>& values) {
  std::vector<std::string> quoted;
  for (const std::string& value : values) quoted.push_back(tx.quote(value));
  return fmt::format("ARRAY[{}]::text[]", fmt::join(quoted, ","));
}

// What one read of the catalog gives: the DDL text, the tables in it and the warnings so far.
struct CatalogText {
  std::string ddl;
  std::vector<CatalogTable> tables;
  std::vector<std::string> warnings;
};

Result<CatalogText> read_catalog_text(pqxx::connection& connection, const std::vector<std::string>& schemas) {
  pqxx::read_transaction tx(connection);
  tx.exec("SET LOCAL search_path = ''");
  CatalogText out;
  const std::string wanted = sql_list(tx, schemas);
  std::vector<std::string> missing;
  for (const std::string& schema : schemas) {
    if (tx.exec("SELECT 1 FROM pg_namespace WHERE nspname = " + tx.quote(schema)).empty()) missing.push_back(schema);
  }
  if (!missing.empty()) return Status::invalid(fmt::format("no schema named {} in the database", fmt::join(missing, ", ")));

  const pqxx::result relations = tx.exec(
      "SELECT c.oid, n.nspname, c.relname, c.relkind::text, format('%I.%I', n.nspname, c.relname), "
      "pg_relation_size(c.oid), current_setting('block_size')::bigint, "
      "(SELECT coalesce(sum(CASE WHEN t.typlen > 0 THEN t.typlen ELSE 32 END), 0) FROM pg_attribute a "
      " JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = ANY (" + wanted + ") AND c.relkind IN ('r', 'p') ORDER BY n.nspname, c.relname");
  std::vector<std::string> oids;
  for (const auto& row : relations) {
    const QualifiedName name{row[1].c_str(), row[2].c_str()};
    if (std::string(row[3].c_str()) == "p") {
      out.warnings.push_back(fmt::format("{} is a partitioned table: left out (its partitions are read as tables of their own)", to_sql(name)));
      continue;
    }
    oids.push_back(row[0].c_str());
    out.tables.push_back(CatalogTable{row[0].c_str(), name, row[4].c_str(),
                                      rows_from_size(row[5].as<std::int64_t>(), row[6].as<std::int64_t>(), row[7].as<std::int64_t>()),
                                      {}, ""});
  }
  const std::string oid_list = fmt::format("ARRAY[{}]::oid[]", fmt::join(oids, ","));

  // Enum types: the schemas' own and any other a column uses. Read back first, for the
  // columns' types to be checked against them.
  std::string enums_ddl;
  const pqxx::result enums = tx.exec(
      "SELECT format('%I.%I', n.nspname, t.typname), "
      "array_to_json(ARRAY(SELECT quote_literal(e.enumlabel) FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)) "
      "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'e' AND (n.nspname = ANY (" + wanted +
      ") OR t.oid IN (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = ANY (" + oid_list + "))) ORDER BY n.nspname, t.typname");
  for (const auto& row : enums) {
    std::vector<std::string> labels;
    for (const auto& label : nlohmann::json::parse(row[1].c_str())) labels.push_back(label.get<std::string>());
    enums_ddl += fmt::format("CREATE TYPE {} AS ENUM ({});\n", row[0].c_str(), fmt::join(labels, ", "));
  }
  const std::vector<EnumTypeSpec> enum_types = read_schema_sql(enums_ddl, "").enum_types;

  std::map<std::string, CatalogTable*> by_oid;
  for (CatalogTable& table : out.tables) by_oid[table.oid] = &table;
  const pqxx::result columns = tx.exec(
      "SELECT a.attrelid, quote_ident(a.attname), a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
      "pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text "
      "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
      "WHERE a.attrelid = ANY (" + oid_list + ") AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum");
  std::map<std::string, std::vector<std::string>> column_lines;
  for (const auto& row : columns) {
    CatalogTable& table = *by_oid.at(row[0].c_str());
    const std::string type = row[4].c_str();
    std::string why;
    if (!simulated_type(type, enum_types, &why)) {
      table.unsimulated[row[3].as<int>()] = row[2].c_str();
      out.warnings.push_back(fmt::format("{}.\"{}\": {}; the column is left out{}", to_sql(table.name), row[2].c_str(), why,
                                         row[5].as<bool>() && row[6].is_null() ? " (it is NOT NULL without a default: "
                                                                                 "inserts that omit it are not rehearsed as failing)"
                                                                               : ""));
      continue;
    }
    std::string line = fmt::format("    {} {}", row[1].c_str(), type);
    const std::string identity = row[7].c_str(), generated = row[8].c_str();
    if (!generated.empty()) {
      line += fmt::format(" GENERATED ALWAYS AS ({}) STORED", row[6].c_str());
    } else if (!identity.empty()) {
      line += identity == "a" ? " GENERATED ALWAYS AS IDENTITY" : " GENERATED BY DEFAULT AS IDENTITY";
    } else if (!row[6].is_null()) {
      line += fmt::format(" DEFAULT {}", row[6].c_str());
    }
    if (row[5].as<bool>()) line += " NOT NULL";
    column_lines[table.oid].push_back(std::move(line));
  }
  std::string ddl = enums_ddl;
  for (const CatalogTable& table : out.tables) {
    ddl += fmt::format("CREATE TABLE {} (\n{}\n);\n", table.sql_name, fmt::join(column_lines[table.oid], ",\n"));
  }

  // Constraints as pg_dump orders them: checks, then keys, then (after the indexes) foreign keys.
  const pqxx::result constraints = tx.exec(
      "SELECT con.conrelid, quote_ident(con.conname), con.conname, con.contype::text, pg_get_constraintdef(con.oid), "
      "array_to_json(con.conkey), con.confrelid, array_to_json(con.confkey) FROM pg_constraint con "
      "WHERE con.conrelid = ANY (" + oid_list + ") AND con.contype IN ('c', 'p', 'u', 'x', 'f') "
      "ORDER BY CASE con.contype WHEN 'c' THEN 0 WHEN 'f' THEN 2 ELSE 1 END, con.conrelid, con.conname");
  std::string foreign_keys;
  for (const auto& row : constraints) {
    const CatalogTable& table = *by_oid.at(row[0].c_str());
    const std::string name = row[2].c_str();
    const auto names_left_out = [](const CatalogTable& t, const std::set<int>& keys) {
      return std::any_of(keys.begin(), keys.end(), [&](int key) { return t.unsimulated.count(key) != 0; });
    };
    if (names_left_out(table, attnums(row[5]))) {
      out.warnings.push_back(fmt::format("constraint \"{}\" of {} is left out: it names a column left out", name, to_sql(table.name)));
      continue;
    }
    const std::string statement = fmt::format("ALTER TABLE ONLY {} ADD CONSTRAINT {} {};\n", table.sql_name, row[1].c_str(), row[4].c_str());
    if (std::string(row[3].c_str()) != "f") {
      ddl += statement;
      continue;
    }
    const auto referenced = by_oid.find(row[6].c_str());
    if (referenced == by_oid.end()) {
      out.warnings.push_back(fmt::format("foreign key \"{}\" of {} is left out: it references a table not read ({})", name,
                                         to_sql(table.name), row[4].c_str()));
    } else if (names_left_out(*referenced->second, attnums(row[7]))) {
      out.warnings.push_back(fmt::format("foreign key \"{}\" of {} is left out: it references a column left out", name, to_sql(table.name)));
    } else {
      foreign_keys += statement;
    }
  }

  // Indexes of their own (those of keys and exclusion constraints came with the constraint).
  const pqxx::result indexes = tx.exec(
      "SELECT i.indrelid, c.relname, pg_get_indexdef(i.indexrelid), array_to_json(i.indkey::int2[]), i.indisvalid "
      "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = ANY (" + oid_list + ") "
      "AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid "
      "AND con.contype IN ('p', 'u', 'x')) ORDER BY i.indrelid, c.relname");
  for (const auto& row : indexes) {
    const CatalogTable& table = *by_oid.at(row[0].c_str());
    const std::set<int> keys = attnums(row[3]);
    if (!row[4].as<bool>()) {
      out.warnings.push_back(fmt::format("index \"{}\" of {} is left out: it is invalid (a failed CREATE INDEX CONCURRENTLY)",
                                         row[1].c_str(), to_sql(table.name)));
    } else if (std::any_of(keys.begin(), keys.end(), [&](int key) { return table.unsimulated.count(key) != 0; })) {
      out.warnings.push_back(fmt::format("index \"{}\" of {} is left out: it names a column left out", row[1].c_str(), to_sql(table.name)));
    } else {
      ddl += std::string(row[2].c_str()) + ";\n";
    }
  }
  out.ddl = ddl + foreign_keys;
  tx.commit();
  return out;
}

// Where the DDL's lines point: nowhere a user can open, so the model carries none.
void clear_lines(SchemaSql& schema) {
  for (TableSpec& table : schema.tables) {
    table.line = 0;
    for (ColumnSpec& column : table.columns) column.line = 0;
    for (IndexSpec& index : table.indexes) index.line = 0;
    for (ConstraintSpec& constraint : table.constraints) constraint.line = 0;
  }
}

}  // namespace

void apply_statistics(TableSpec& table, const TableShape& shape, std::int64_t rows_guess, std::vector<std::string>* warnings) {
  REHEARSE_ASSERT(warnings != nullptr);
  const auto spec_column = [&](const std::string& name) {
    return std::find_if(table.columns.begin(), table.columns.end(), [&](const ColumnSpec& c) { return c.name == name; });
  };
  // The shape of the model's columns only (not `id`, not a column left out), every column
  // mapped on its own (a key is no key here: the model's implicit `id` is the simulated key).
  TableShape mapped_shape = shape;
  mapped_shape.columns.clear();
  for (const ColumnShape& column : shape.columns) {
    const auto spec = spec_column(column.name);
    if (spec == table.columns.end()) continue;
    ColumnShape own = column;
    own.primary_key = false;
    if (!scenario_type(own.type)) own.type = stand_in_type(spec->type);
    mapped_shape.columns.push_back(std::move(own));
  }
  const Result<TableMapping> mapping = map_table_shape(mapped_shape);
  REHEARSE_ASSERT(mapping.is_ok());  // every type is one it knows, or a stand-in it knows
  table.rows = mapping.value().rows.value_or(rows_guess);
  std::vector<std::string> without_statistics;
  for (const MappedColumn& mapped : mapping.value().columns) {
    ColumnSpec& column = *spec_column(mapped.column.name);
    if (!mapped.shape->stats) {
      without_statistics.push_back(column.name);
      continue;  // read_schema_sql's default draw, no NULLs
    }
    column.nullable = mapped.column.nullable;
    column.scale = mapped.column.scale;
    if (!mapped.column.gen.empty()) column.gen = mapped.column.gen;  // else the type's default draw
  }
  if (!shape.rows_estimate) {
    warnings->push_back(fmt::format("{} was never analyzed (pg_class.reltuples is -1): about {} rows guessed from its size as "
                                    "the planner does, and every column drawn by its type's default with no NULLs "
                                    "(ANALYZE it for its row count and value distributions)",
                                    to_sql(shape.name), table.rows));
  } else if (!without_statistics.empty()) {
    warnings->push_back(fmt::format("{}: pg_stats has no row for column(s) {}: drawn by the type's default, no NULLs",
                                    to_sql(shape.name), fmt::join(without_statistics, ", ")));
  }
}

Result<DbSchema> read_schema_from_db(const std::string& dsn, const std::vector<std::string>& schemas) {
  std::unique_ptr<pqxx::connection> connection;
  try {
    // A key=value string gets a connect timeout; a URI is used as written.
    connection = std::make_unique<pqxx::connection>(dsn.find("://") == std::string::npos ? dsn + " connect_timeout=5" : dsn);
  } catch (const std::exception& error) {
    return Status::unavailable(fmt::format("cannot connect to PostgreSQL at '{}': {}", redact(dsn), redact(error.what())));
  }
  // libpq gives no host for a Unix socket's default directory.
  const auto text_of = [](const char* text) { return std::string(text == nullptr ? "" : text); };
  const std::string where =
      fmt::format("database {} at {}:{}", text_of(connection->dbname()), text_of(connection->hostname()), text_of(connection->port()));
  try {
    Result<CatalogText> text = read_catalog_text(*connection, schemas.empty() ? std::vector<std::string>{"public"} : schemas);
    if (!text.is_ok()) return Status::invalid(fmt::format("{}: {}", where, text.status().message()));
    DbSchema out;
    out.warnings = std::move(text.value().warnings);
    out.schema = read_schema_sql(text.value().ddl, where);
    out.ddl = text.value().ddl;
    if (!out.schema.errors.empty()) {
      std::vector<std::string> messages;
      for (const SchemaSqlError& error : out.schema.errors) messages.push_back(error.message);
      return Status::invalid(fmt::format("{}: the schema read from the catalog cannot be simulated: {}", where, fmt::join(messages, "; ")));
    }
    clear_lines(out.schema);
    REHEARSE_ASSERT(out.schema.tables.size() == text.value().tables.size());
    for (std::size_t i = 0; i < out.schema.tables.size(); ++i) {
      const CatalogTable& table = text.value().tables[i];
      REHEARSE_ASSERT(out.schema.tables[i].name == model_name(table.name.schema, table.name.table));
      const Result<TableShape> shape = read_table_shape(*connection, table.name);
      if (!shape.is_ok()) return Status::invalid(fmt::format("{}: {}", where, shape.status().message()));  // dropped meanwhile
      apply_statistics(out.schema.tables[i], shape.value(), table.rows_guess, &out.warnings);
    }
    return out;
  } catch (const pqxx::broken_connection& error) {
    return Status::unavailable(fmt::format("{}: the connection was lost: {}", where, redact(error.what())));
  } catch (const std::exception& error) {
    return Status::unavailable(fmt::format("{}: reading the catalog failed: {}", where, redact(error.what())));
  }
}

}  // namespace rehearse::live
