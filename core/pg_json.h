// Reading libpg_query's JSON parse tree (pg_query_parse: PostgreSQL 15's parse nodes as JSON,
// read with nlohmann-json): the small accessors the schema reader (core/schema_sql.cc) and the
// migration reader (core/sql_migration.cc) share. Every accessor takes any node, and a field that
// is absent or of another kind reads as null, "", the fallback or false: libpg_query leaves
// default values (0, false, "") out of the tree. Internal to core/ (core's nlohmann-json is private).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rehearse::pg_json {

using Json = nlohmann::json;

// The field `key` of an object node; null when absent or when `node` is not an object.
inline const Json& field(const Json& node, const char* key) {
  static const Json kNull;
  if (!node.is_object()) return kNull;
  const auto it = node.find(key);
  return it == node.end() ? kNull : *it;
}

inline std::string text_field(const Json& node, const char* key) {
  const Json& value = field(node, key);
  return value.is_string() ? value.get<std::string>() : std::string();
}

inline int int_field(const Json& node, const char* key, int fallback) {
  const Json& value = field(node, key);
  return value.is_number_integer() ? value.get<int>() : fallback;
}

inline bool bool_field(const Json& node, const char* key) {
  const Json& value = field(node, key);
  return value.is_boolean() && value.get<bool>();
}

// A list of String nodes (names, keys): their values.
inline std::vector<std::string> strings(const Json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const Json& item : list) out.push_back(text_field(field(item, "String"), "sval"));
  return out;
}

// Which schema names a qualified name leaves out. `public.x` is always `x` (the schema a
// pg_dump'ed search_path resolves to); a schema file also reads `pg_catalog.int4` as `int4`,
// while a migration keeps a pg_catalog name qualified.
enum class ImplicitSchemas { public_only, public_and_pg_catalog };

inline std::string qualified(const std::string& schema, const std::string& name, ImplicitSchemas implicit) {
  const bool left_out = schema.empty() || schema == "public" || (implicit == ImplicitSchemas::public_and_pg_catalog && schema == "pg_catalog");
  return left_out ? name : schema + "." + name;
}

// A dotted name's last two parts (schema and name) as qualified() gives them; "" when empty.
inline std::string qualified(const std::vector<std::string>& parts, ImplicitSchemas implicit) {
  if (parts.empty()) return "";
  if (parts.size() == 1) return parts.front();
  return qualified(parts[parts.size() - 2], parts.back(), implicit);
}

// The name of a RangeVar node (a relation a statement names).
inline std::string relation_name(const Json& range_var, ImplicitSchemas implicit) {
  return qualified(text_field(range_var, "schemaname"), text_field(range_var, "relname"), implicit);
}

// The smallest parse position inside `node`: where the text it was read from starts; -1 when
// it holds none.
inline int first_location(const Json& node) {
  int best = -1;
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      int here = -1;
      if (it.key() == "location" && it->is_number_integer()) here = it->get<int>();
      else if (it->is_structured()) here = first_location(*it);
      if (here >= 0 && (best < 0 || here < best)) best = here;
    }
  } else if (node.is_array()) {
    for (const Json& item : node) {
      const int here = first_location(item);
      if (here >= 0 && (best < 0 || here < best)) best = here;
    }
  }
  return best;
}

}  // namespace rehearse::pg_json
