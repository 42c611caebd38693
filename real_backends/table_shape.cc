// Reading a table's shape from the catalog (real_backends/table_shape.h). Every query reads a
// catalog view or function (pg_class, pg_attribute, pg_attrdef, pg_index, pg_stats,
// pg_get_indexdef); names go in as quoted literals, never spliced as identifiers.
#include "real_backends/table_shape.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/assert.h"
#include "core/gen.h"

namespace rehearse::live {
namespace {

// The longest text a gen draws for a text column when it does not say the text itself:
// 'item-<N>' with N < 1000000 (core/gen.h's default), or a number of the range.
std::size_t longest_drawn(const GenForm& form) {
  if (form.kind != GenForm::Kind::range) return 11;
  return std::max(std::to_string(form.low).size(), std::to_string(form.high).size());
}

std::vector<std::string> json_strings(const pqxx::field& field) {
  std::vector<std::string> values;
  if (field.is_null()) return values;
  for (const auto& item : nlohmann::json::parse(field.c_str())) values.push_back(item.is_null() ? "" : item.get<std::string>());
  return values;
}

std::vector<double> json_numbers(const pqxx::field& field) {
  std::vector<double> values;
  if (field.is_null()) return values;
  for (const auto& item : nlohmann::json::parse(field.c_str())) values.push_back(item.get<double>());
  return values;
}

const char* relation_kind(const std::string& relkind) {
  if (relkind == "v") return "a view";
  if (relkind == "m") return "a materialized view";
  if (relkind == "p") return "a partitioned table (read one of its partitions)";
  if (relkind == "f") return "a foreign table";
  if (relkind == "i" || relkind == "I") return "an index";
  if (relkind == "S") return "a sequence";
  return "not an ordinary table";
}

void read_columns(pqxx::transaction_base& tx, const std::string& oid, TableShape* shape) {
  const pqxx::result columns = tx.exec(
      "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid), "
      "a.attidentity::text, a.attgenerated::text, coalesce(a.attnum = ANY (k.indkey), false) "
      "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
      "LEFT JOIN pg_index k ON k.indrelid = a.attrelid AND k.indisprimary "
      "WHERE a.attrelid = " +
      oid + " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum");
  for (const auto& row : columns) {
    ColumnShape column;
    column.name = row[0].c_str();
    column.type = row[1].c_str();
    column.not_null = row[2].as<bool>();
    column.default_sql = row[3].is_null() ? "" : row[3].c_str();
    const std::string identity = row[4].c_str();
    column.identity = identity.empty() ? '\0' : identity[0];
    column.generated = !std::string(row[5].c_str()).empty();
    column.primary_key = row[6].as<bool>();
    shape->columns.push_back(std::move(column));
  }
}

void read_stats(pqxx::transaction_base& tx, TableShape* shape) {
  const pqxx::result stats = tx.exec(
      "SELECT attname, null_frac, avg_width, n_distinct, array_to_json(most_common_vals::text::text[]), "
      "array_to_json(most_common_freqs), array_to_json(histogram_bounds::text::text[]), correlation FROM pg_stats "
      "WHERE schemaname = " +
      tx.quote(shape->name.schema) + " AND tablename = " + tx.quote(shape->name.table) + " AND NOT inherited");
  for (const auto& row : stats) {
    const std::string name = row[0].c_str();
    for (ColumnShape& column : shape->columns) {
      if (column.name != name) continue;
      ColumnStats s;
      s.null_frac = row[1].as<double>();
      s.avg_width = row[2].as<int>();
      s.n_distinct = row[3].as<double>();
      s.most_common_values = json_strings(row[4]);
      s.most_common_freqs = json_numbers(row[5]);
      s.histogram_bounds = json_strings(row[6]);
      if (!row[7].is_null()) s.correlation = row[7].as<double>();
      REHEARSE_ASSERT(s.most_common_values.size() == s.most_common_freqs.size());
      column.stats = std::move(s);
    }
  }
}

void read_indexes(pqxx::transaction_base& tx, const std::string& oid, TableShape* shape) {
  const pqxx::result indexes = tx.exec(
      "SELECT c.relname, i.indisunique, i.indisprimary, pg_get_indexdef(i.indexrelid), "
      "array_to_json(ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) k)) "
      "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = " +
      oid + " ORDER BY c.relname");
  for (const auto& row : indexes) {
    shape->indexes.push_back(
        IndexShape{row[0].c_str(), json_strings(row[4]), row[1].as<bool>(), row[2].as<bool>(), row[3].c_str()});
  }
}

ConstraintShape::Kind constraint_kind(const std::string& contype) {
  if (contype == "p") return ConstraintShape::Kind::primary_key;
  if (contype == "u") return ConstraintShape::Kind::unique;
  if (contype == "c") return ConstraintShape::Kind::check;
  if (contype == "f") return ConstraintShape::Kind::foreign_key;
  if (contype == "x") return ConstraintShape::Kind::exclusion;
  return ConstraintShape::Kind::other;
}

void read_constraints(pqxx::transaction_base& tx, const std::string& oid, TableShape* shape) {
  // Column names in key order, for conkey (this table) and confkey (the referenced one).
  const auto names = [](const char* keys, const char* relation) {
    return fmt::format(
        "array_to_json(ARRAY(SELECT a.attname FROM unnest(con.{0}) WITH ORDINALITY k(attnum, position) "
        "JOIN pg_attribute a ON a.attrelid = con.{1} AND a.attnum = k.attnum ORDER BY k.position))",
        keys, relation);
  };
  const pqxx::result constraints = tx.exec(fmt::format(
      "SELECT con.conname, con.contype::text, pg_get_constraintdef(con.oid), con.convalidated, {}, fn.nspname, fc.relname, {} "
      "FROM pg_constraint con LEFT JOIN pg_class fc ON fc.oid = con.confrelid "
      "LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace WHERE con.conrelid = {} ORDER BY con.conname",
      names("conkey", "conrelid"), names("confkey", "confrelid"), oid));
  for (const auto& row : constraints) {
    ConstraintShape constraint;
    constraint.name = row[0].c_str();
    constraint.kind = constraint_kind(row[1].c_str());
    constraint.definition = row[2].c_str();
    constraint.validated = row[3].as<bool>();
    constraint.columns = json_strings(row[4]);
    if (!row[5].is_null()) constraint.references = QualifiedName{row[5].c_str(), row[6].c_str()};
    constraint.referenced_columns = json_strings(row[7]);
    shape->constraints.push_back(std::move(constraint));
  }
}

}  // namespace

Result<TableShape> read_table_shape(pqxx::connection& connection, const QualifiedName& name, const ReadShapeOptions& options) {
  if (options.analyze) {
    pqxx::nontransaction(connection)
        .exec("ANALYZE " + connection.quote_name(name.schema) + "." + connection.quote_name(name.table));
  }
  pqxx::read_transaction tx(connection);
  tx.exec("SET LOCAL TimeZone = 'UTC'");  // timestamptz values in pg_stats as UTC ("+00")
  TableShape shape;
  shape.name = name;
  shape.server_version = tx.exec1("SHOW server_version")[0].c_str();
  const pqxx::result relation = tx.exec(
      "SELECT c.oid, c.relkind::text, c.reltuples, c.relpages FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = " +
      tx.quote(name.schema) + " AND c.relname = " + tx.quote(name.table));
  if (relation.empty()) {
    return Status::invalid(fmt::format("no table {} (no relation of that name in schema \"{}\")", to_sql(name), name.schema));
  }
  const std::string oid = relation[0][0].c_str();
  const std::string relkind = relation[0][1].c_str();
  if (relkind != "r") return Status::invalid(fmt::format("{} is {}", to_sql(name), relation_kind(relkind)));
  const double reltuples = relation[0][2].as<double>();
  if (reltuples >= 0) shape.rows_estimate = reltuples;
  shape.pages = relation[0][3].as<std::int64_t>();
  read_columns(tx, oid, &shape);
  read_stats(tx, &shape);
  read_indexes(tx, oid, &shape);
  read_constraints(tx, oid, &shape);
  tx.commit();
  return shape;
}

QualifiedName in_current_schema(pqxx::connection& connection, const std::string& table) {
  const pqxx::row row = pqxx::nontransaction(connection).exec1("SELECT current_schema()");
  return QualifiedName{row[0].is_null() ? "" : row[0].c_str(), table};
}

std::string shaped_value_sql(pqxx::connection& connection, const MappedColumn& column) {
  REHEARSE_ASSERT(column.shape != nullptr);
  std::string value = column_generator_sql(connection, column.column);
  const GenForm form = parse_gen(column.column.gen);
  const bool says_text =
      form.kind == GenForm::Kind::one_of || form.kind == GenForm::Kind::email || form.kind == GenForm::Kind::uuid;
  const int width = column.shape->stats ? column.shape->stats->avg_width - 1 : 0;  // less the 1-byte varlena header
  if (column.column.type == ColumnType::text && !says_text && width > static_cast<int>(longest_drawn(form))) {
    value = fmt::format("rpad({}, {}, '.')", value, width);  // every value as wide as the table's average
  }
  return fmt::format("({})::{}", value, column.shape->type);
}

}  // namespace rehearse::live
