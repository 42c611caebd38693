// `rehearse import FILE|DIR... [--format sql|pgroll] [--schema FILE.sql | --from-db DSN] --out DIR`
// (real-migrations.md "Commands"): one scenario per migration file, in order, each rehearsing that
// migration against the schema the earlier ones built, in a default world (one region with a
// replica, traffic on the tables the migration touches) expecting every invariant to hold.
//
// The schema a migration meets is SQL: the base schema (--schema, or the one --from-db read),
// then what every earlier migration did, as SQL -- an SQL migration's own text, a pgroll
// migration's compiled plan (its expand and contract statements, core/statements.h
// statement_sql). core/schema_sql.h reads it with PostgreSQL's parser, applying the ALTER, DROP
// and RENAME statements in order, leniently, and writes it back as the plain schema it amounts
// to (schema_sql_text). The written directory holds everything `rehearse check DIR`
// needs: DIR/NAME.yaml, the migration copied to DIR/migrations/, its schema in DIR/schemas/.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "cli/commands_internal.h"
#include "core/plan.h"
#include "core/schema_sql.h"
#include "core/statements.h"
#include "core/tool_sections.h"
#include "real_backends/catalog_import.h"
#include "scenarios/loader.h"

namespace rehearse::cli {
namespace {

namespace fs = std::filesystem;

// Rows of each imported table when no --from-db statistics size it: enough for a batched
// backfill and an index build to take measurable time, few enough that a directory of many
// migrations rehearses in seconds.
constexpr std::int64_t kImportedRows = 2000;
constexpr int kImportedSeeds = 5;

enum class Format { sql, pgroll };

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::optional<Format> format_of(const fs::path& path) {
  const std::string extension = lower(path.extension().string());
  if (extension == ".sql") return Format::sql;
  if (extension == ".json" || extension == ".yaml" || extension == ".yml") return Format::pgroll;
  return std::nullopt;
}

// A Flyway versioned migration's version (`V1_2__x.sql`, `V1.2__x.sql`: {1, 2}); none for
// another name.
std::optional<std::vector<std::uint64_t>> flyway_version(const std::string& name) {
  const std::size_t end = name.find("__");
  if (name.size() < 2 || name[0] != 'V' || end == std::string::npos || end < 2) return std::nullopt;
  std::vector<std::uint64_t> parts;
  std::uint64_t part = 0;
  bool digits = false;
  for (std::size_t i = 1; i < end; ++i) {
    const char c = name[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      part = part * 10 + static_cast<std::uint64_t>(c - '0');
      digits = true;
    } else if ((c == '.' || c == '_') && digits) {
      parts.push_back(part);
      part = 0;
      digits = false;
    } else {
      return std::nullopt;
    }
  }
  if (!digits) return std::nullopt;
  parts.push_back(part);
  return parts;
}

// Orders file names as a person reads them: digit runs by value (V2 before V10), the rest by
// character.
bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
      std::size_t i_end = i, j_end = j;
      while (i_end < a.size() && std::isdigit(static_cast<unsigned char>(a[i_end]))) ++i_end;
      while (j_end < b.size() && std::isdigit(static_cast<unsigned char>(b[j_end]))) ++j_end;
      std::string x = a.substr(i, i_end - i), y = b.substr(j, j_end - j);
      x.erase(0, std::min(x.find_first_not_of('0'), x.size()));
      y.erase(0, std::min(y.find_first_not_of('0'), y.size()));
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = i_end, j = j_end;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i, ++j;
  }
  return a.size() - i < b.size() - j;
}

// Whether a dot-separated part of the file's name (between its stem and its extension) names a
// database other than PostgreSQL: a directory that keeps one file per dialect (pop / fizz, as
// ory's kratos: `1_x.postgres.up.sql`, `1_x.mysql.up.sql`, `1_x.sqlite3.up.sql`, ...).
bool for_another_database(const std::string& name) {
  static const std::set<std::string> kOthers = {"mysql", "mariadb", "sqlite", "sqlite3", "cockroach", "crdb", "mssql",
                                                "sqlserver", "oracle", "h2", "clickhouse", "tidb", "spanner"};
  std::vector<std::string> parts;
  for (std::size_t at = 0; at <= name.size();) {
    const std::size_t dot = std::min(name.find('.', at), name.size());
    parts.push_back(name.substr(at, dot - at));
    at = dot + 1;
  }
  for (std::size_t i = 1; i + 1 < parts.size(); ++i) {
    if (kOthers.count(parts[i]) > 0) return true;
  }
  return false;
}

// A file a migration tool applies going forward to PostgreSQL: not golang-migrate's `.down.sql`,
// not Flyway's undo (`U1__x.sql`), not another database's version of the migration.
bool forward_migration(const fs::path& path) {
  const std::string name = lower(path.filename().string());
  if (name.size() > 9 && name.compare(name.size() - 9, 9, ".down.sql") == 0) return false;
  if (name.size() > 2 && name[0] == 'u' && std::isdigit(static_cast<unsigned char>(name[1])) && name.find("__") != std::string::npos) return false;
  return !for_another_database(name);
}

// The scenario name of a migration file: its stem without golang-migrate's `.up`, in a-z, 0-9
// and '-'.
std::string scenario_name(const fs::path& path) {
  std::string stem = path.stem().string();
  if (stem.size() > 3 && lower(stem.substr(stem.size() - 3)) == ".up") stem.resize(stem.size() - 3);
  std::string name;
  for (const char c : lower(stem)) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
  return name.empty() ? "migration" : name;
}

std::optional<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return static_cast<bool>(out);
}

// A YAML double-quoted string.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The first table a pgroll migration's operations name (`table:`), "" when none does or the file
// does not parse (the loader then says why).
std::string first_named_table(const std::string& text) {
  try {
    const YAML::Node root = YAML::Load(text);
    if (!root.IsMap() || !root["operations"] || !root["operations"].IsSequence()) return "";
    for (const YAML::Node& operation : root["operations"]) {
      if (!operation.IsMap() || operation.size() != 1) continue;
      const YAML::Node body = operation.begin()->second;
      if (body.IsMap() && body["table"] && body["table"].IsScalar()) return body["table"].Scalar();
    }
  } catch (const YAML::Exception&) {
  }
  return "";
}

struct ImportOptions {
  std::vector<std::string> inputs;
  std::string format;
  std::string schema;
  std::string from_db;
  std::string out;
};

struct Migration {
  fs::path path;
  Format format = Format::sql;
  std::string label;  // a directory-per-migration layout's directory name; empty: the file's name

  // The name its copy in DIR/migrations/ has (a directory's migration: the directory's name).
  fs::path copy_name() const { return label.empty() ? path.filename() : fs::path(label + path.extension().string()); }
  // Where it was read, for a reader: the file, or the directory and its file.
  std::string source() const { return label.empty() ? path.filename().string() : label + "/" + path.filename().string(); }
};

// A directory-per-migration layout's forward file: diesel's `up.sql`, Prisma's `migration.sql`,
// or the directory's only forward `.sql` file (its `down.sql` aside).
std::optional<fs::path> migration_in_directory(const fs::path& directory) {
  std::error_code error;
  std::vector<fs::path> forward;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory, error)) {
    const std::string name = lower(entry.path().filename().string());
    if (!entry.is_regular_file() || entry.path().extension() != ".sql") continue;
    if (name == "up.sql" || name == "migration.sql") return entry.path();
    if (name != "down.sql" && forward_migration(entry.path())) forward.push_back(entry.path());
  }
  if (forward.size() == 1) return forward.front();
  return std::nullopt;
}

// Sqitch (sqitch.plan beside deploy/): its changes in the plan's order, each deploy/CHANGE.sql.
// A change reworked later in the plan ran, the first times, as deploy/CHANGE@TAG.sql, TAG the
// first tag after it. nullopt when the directory is not a Sqitch project; `problem` names a
// change whose script is missing.
std::optional<std::vector<Migration>> sqitch_changes(const fs::path& directory, std::string* problem) {
  std::error_code error;
  const fs::path plan = directory / "sqitch.plan";
  if (!fs::is_regular_file(plan, error) || !fs::is_directory(directory / "deploy", error)) return std::nullopt;
  std::ifstream in(plan);
  struct Entry {
    std::string change;
    std::string tag;  // the first tag after it ("" = none)
  };
  std::vector<Entry> entries;
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#' || line[start] == '%') continue;  // blank, comment, pragma
    const std::size_t end = line.find_first_of(" \t\r", start);
    const std::string word = line.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (word[0] == '@') {  // a tag: of every change since the last tag
      for (auto it = entries.rbegin(); it != entries.rend() && it->tag.empty(); ++it) it->tag = word.substr(1);
      continue;
    }
    entries.push_back({word[0] == '-' || word[0] == '+' ? word.substr(1) : word, ""});
  }
  std::vector<Migration> changes;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const bool reworked = std::any_of(entries.begin() + static_cast<std::ptrdiff_t>(i) + 1, entries.end(),
                                      [&](const Entry& later) { return later.change == entries[i].change; });
    fs::path script = directory / "deploy" / (entries[i].change + ".sql");
    if (reworked && !entries[i].tag.empty()) script = directory / "deploy" / (entries[i].change + "@" + entries[i].tag + ".sql");
    if (!fs::is_regular_file(script, error)) {
      *problem = fmt::format("{}: change {} has no deploy script {}", plan.string(), entries[i].change, script.string());
      return std::vector<Migration>{};
    }
    changes.push_back({script, Format::sql, ""});
  }
  return changes;
}

class Importer {
 public:
  explicit Importer(const ImportOptions& options) : options_(options), out_(options.out) {}

  int run() {
    std::vector<Migration> migrations;
    if (!collect(&migrations)) return kExitBadInput;
    if (!options_.schema.empty()) {
      const std::optional<std::string> text = read_file(options_.schema);
      if (!text) return std::cerr << "rehearse: import: --schema " << options_.schema << ": cannot be read\n", kExitBadInput;
      schema_ = *text + "\n";
    }
    if (!options_.from_db.empty()) {
      Result<live::DbSchema> read = live::read_schema_from_db(options_.from_db);
      if (!read.is_ok()) {
        std::cerr << "rehearse: import: --from-db: " << read.status().message() << "\n";
        return read.status().is_unavailable() ? kExitEnvironment : kExitBadInput;
      }
      for (const std::string& warning : read.value().warnings) std::cerr << "rehearse: import: --from-db: " << warning << "\n";
      schema_ = read.value().ddl + "\n";
      for (const TableSpec& t : read.value().schema.tables) measured_[t.name] = t;
    }
    std::error_code error;
    fs::create_directories(out_ / "migrations", error);
    if (!error) fs::create_directories(out_ / "schemas", error);
    if (error) return std::cerr << "rehearse: import: --out " << out_.string() << ": " << error.message() << "\n", kExitEnvironment;
    int refused = 0;
    for (std::size_t i = 0; i < migrations.size(); ++i) {
      if (!import_one(migrations[i], i, migrations.size())) ++refused;
    }
    std::cerr << fmt::format("rehearse: import: {} of {} migrations written to {} ({} refused, above); `rehearse check {}` rehearses them\n",
                             migrations.size() - static_cast<std::size_t>(refused), migrations.size(), out_.string(), refused, out_.string());
    return refused == 0 ? kExitPass : kExitBadInput;
  }

 private:
  bool collect(std::vector<Migration>* migrations) {
    std::optional<Format> forced;
    if (options_.format == "sql") forced = Format::sql;
    if (options_.format == "pgroll") forced = Format::pgroll;
    for (const std::string& input : options_.inputs) {
      const fs::path path = input;
      std::error_code error;
      std::string problem;
      if (std::optional<std::vector<Migration>> changes = sqitch_changes(path, &problem)) {
        if (!problem.empty()) return std::cerr << "rehearse: import: " << problem << "\n", false;
        if (changes->empty()) return std::cerr << "rehearse: import: " << input << ": sqitch.plan lists no change\n", false;
        for (Migration& m : *changes) migrations->push_back(std::move(m));
      } else if (fs::is_directory(path, error)) {
        // Migration files, and directories holding one migration each (diesel, Prisma), ordered
        // together by name.
        std::vector<Migration> found;
        for (const fs::directory_entry& entry : fs::directory_iterator(path, error)) {
          const std::optional<Format> format = format_of(entry.path());
          if (entry.is_regular_file() && format && (!forced || *forced == *format) && forward_migration(entry.path())) {
            found.push_back({entry.path(), *format, ""});
          } else if (entry.is_directory() && forced != Format::pgroll) {
            if (const std::optional<fs::path> file = migration_in_directory(entry.path())) {
              found.push_back({*file, Format::sql, entry.path().filename().string()});
            }
          }
        }
        auto key = [](const Migration& m) { return m.label.empty() ? m.path.filename().string() : m.label; };
        // Flyway applies its versioned migrations by version (V1 < V1.1 < V2), then its
        // repeatable ones (R__name.sql).
        auto repeatable = [&key](const Migration& m) { return key(m).rfind("R__", 0) == 0; };
        std::sort(found.begin(), found.end(), [&](const Migration& a, const Migration& b) {
          if (repeatable(a) != repeatable(b)) return repeatable(b);
          const std::optional<std::vector<std::uint64_t>> va = flyway_version(key(a));
          const std::optional<std::vector<std::uint64_t>> vb = flyway_version(key(b));
          if (va && vb && *va != *vb) return *va < *vb;
          return natural_less(key(a), key(b));
        });
        if (found.empty()) {
          std::cerr << "rehearse: import: " << input << ": no migration files (" << (forced == Format::sql ? ".sql" : forced == Format::pgroll ? ".json, .yaml, .yml" : ".sql, .json, .yaml, .yml") << ") in the directory, nor directories holding one (up.sql, migration.sql)\n";
          return false;
        }
        for (Migration& m : found) migrations->push_back(std::move(m));
      } else if (fs::is_regular_file(path, error)) {
        const std::optional<Format> format = forced ? forced : format_of(path);
        if (!format) {
          std::cerr << "rehearse: import: " << input << ": expected an SQL migration (.sql) or a pgroll migration (.json, .yaml, .yml); --format says which\n";
          return false;
        }
        migrations->push_back({path, *format, ""});
      } else {
        std::cerr << "rehearse: import: " << input << ": no such file or directory\n";
        return false;
      }
    }
    return true;
  }

  std::string unique_name(const fs::path& path) {
    const std::string base = scenario_name(path);
    std::string name = base;
    for (int n = 2; !names_.insert(name).second; ++n) name = fmt::format("{}-{}", base, n);
    return name;
  }

  // The `tables:` entries that size the schema's tables and draw their foreign-key columns from
  // the keys of the rows they reference.
  // `first`: the table listed first, which the scenario's backfills and validation run on (the
  // table the migration names first). A foreign key's columns draw from the rows they reference.
  std::string table_sizes(const SchemaSql& schema, const std::string& first) const {
    std::vector<const TableSpec*> order;
    for (const TableSpec& t : schema.tables) order.insert(t.name == first ? order.begin() : order.end(), &t);
    std::string text;
    for (const TableSpec* table : order) {
      const TableSpec& t = *table;
      const auto measured = measured_.find(t.name);
      if (measured != measured_.end()) {
        text += measured_table(t, measured->second);
        continue;
      }
      text += fmt::format("  - name: {}\n    rows: {}\n", quoted(t.name), kImportedRows);
    }
    return text;
  }

  // A table --from-db measured: its rows, and the gen, nullable and scale of each column it still
  // has under the same name and type.
  static std::string measured_table(const TableSpec& now, const TableSpec& measured) {
    std::string text = fmt::format("  - name: {}\n    rows: {}\n", quoted(now.name), measured.rows);
    std::string columns;
    for (const ColumnSpec& c : now.columns) {
      // A referencing column is left to the foreign key's draw (sim/database.h DataReference).
      const bool references = std::any_of(now.constraints.begin(), now.constraints.end(), [&](const ConstraintSpec& k) {
        return k.kind == ConstraintKind::foreign_key && std::find(k.columns.begin(), k.columns.end(), c.name) != k.columns.end();
      });
      if (references) continue;
      const auto m = std::find_if(measured.columns.begin(), measured.columns.end(), [&](const ColumnSpec& x) { return x.name == c.name && x.type == c.type; });
      if (m == measured.columns.end()) continue;
      std::vector<std::string> settings;
      if (!m->gen.empty()) settings.push_back("gen: " + quoted(m->gen));
      if (m->nullable > 0 && !c.not_null) settings.push_back(fmt::format("nullable: {}", m->nullable));
      if (m->scale != c.scale) settings.push_back(fmt::format("scale: {}", m->scale));
      if (!settings.empty()) columns += fmt::format("      {}: {{{}}}\n", quoted(c.name), fmt::join(settings, ", "));
    }
    return columns.empty() ? text : text + "    columns:\n" + columns;
  }

  std::string scenario_text(const std::string& name, const Migration& m, std::size_t index, std::size_t total, const SchemaSql* schema,
                            const std::string& first) const {
    std::string text = fmt::format(
        "name: {}\n"
        "description: >\n"
        "  Imported by `rehearse import` from {} (migration {} of {}): the migration as written, rehearsed against\n"
        "  the schema the earlier ones built, with traffic on the tables it touches. Every invariant must hold.\n"
        "seed: 1\n"
        "duration: 10m\n"
        "topology:\n"
        "  regions:\n"
        "    - {{name: region-1, replicas: 1}}\n"
        "lock: {{backend: redis, ttl: 10s, renew_every: 3s, fencing: storage}}\n"
        "engine: {{instances: 1, batch_size: 500, batch_pause: 50ms, lock_timeout: 2s}}\n",
        name, m.source(), index + 1, total);
    if (schema != nullptr) {
      text += fmt::format("schema: schemas/{}.sql\ntables:\n{}", name, table_sizes(*schema, first));
    } else {
      // Before the first table exists the world still needs one: a small table no migration names.
      text += "table: {name: rehearse_placeholder, rows: 100}\n";
    }
    text += fmt::format(
        "migration:\n"
        "  from: {}\n"
        "workload: {{writes_per_s: 20, reads_per_s: 50}}\n"
        "faults: []\n"
        "expect: {{verdict: pass, within_seeds: {}}}\n",
        quoted("migrations/" + m.copy_name().string()), kImportedSeeds);
    return text;
  }

  bool import_one(const Migration& m, std::size_t index, std::size_t total) {
    const std::optional<std::string> migration = read_file(m.path);
    if (!migration) {
      std::cerr << "rehearse: import: " << m.path.string() << ": cannot be read\n";
      return false;
    }
    const std::string name = unique_name(m.copy_name());
    const fs::path copy = out_ / "migrations" / m.copy_name();
    const fs::path scenario_path = out_ / (name + ".yaml");
    const fs::path schema_path = out_ / "schemas" / (name + ".sql");
    // The chain read leniently (what names a table the files never create, such as a migration
    // tool's own bookkeeping table, or a column of a type the simulator cannot hold, is left
    // out), written back as the plain schema it amounts to.
    std::optional<SchemaSql> schema;
    if (!schema_.empty()) {
      schema = read_schema_sql(schema_, schema_path.string(), true);
      if (!schema->errors.empty() || schema->tables.empty()) schema.reset();
    }
    if (!write_file(copy, *migration) || (schema && !write_file(schema_path, schema_sql_text(*schema))) ||
        !write_file(scenario_path, scenario_text(name, m, index, total, schema ? &*schema : nullptr,
                                                  m.format == Format::pgroll ? first_named_table(*migration) : ""))) {
      std::cerr << "rehearse: import: cannot write into " << out_.string() << "\n";
      return false;
    }
    if (!schema) fs::remove(schema_path);
    LoadResult loaded = load_scenario_file(scenario_path.string());
    std::optional<Result<MigrationPlan>> plan;
    if (loaded.ok()) plan = compile_plan(*loaded.scenario);
    if (!loaded.ok() || !plan->is_ok()) {
      std::cerr << "rehearse: import: " << m.path.string() << ": refused:\n";
      for (const ScenarioError& error : loaded.errors) std::cerr << "  " << error.to_string() << "\n";
      if (plan && !plan->is_ok()) std::cerr << "  " << m.path.string() << ": " << plan->status().message() << "\n";
      fs::remove(scenario_path);
      fs::remove(schema_path);
      fs::remove(copy);
      // What the migration does still shapes the schema the later ones meet, as far as it can be read.
      if (m.format == Format::sql) {
        const std::string up = up_sections(*migration);
        if (read_schema_sql(up, m.path.string(), true).errors.empty()) schema_ += up + "\n;\n";
      }
      return false;
    }
    // An SQL migration's up section (a tool's down section in the same file is its rollback).
    schema_ += m.format == Format::sql ? up_sections(*migration) + "\n;\n" : plan_sql(plan->value());
    std::cout << scenario_path.string() << "\n";
    return true;
  }

  // What a compiled pgroll migration leaves behind, as SQL: its expand then its contract.
  static std::string plan_sql(const MigrationPlan& plan) {
    std::string text;
    const auto name = [](const std::string& identifier) { return identifier; };
    for (const std::vector<DdlStatement>* phase : {&plan.expand, &plan.contract}) {
      for (const DdlStatement& statement : *phase) {
        const std::string sql = statement_sql(statement, name);
        if (!sql.empty()) text += sql + ";\n";
      }
    }
    return text;
  }

  const ImportOptions& options_;
  fs::path out_;
  std::string schema_;  // the SQL of the schema the next migration meets
  std::set<std::string> names_;
  std::map<std::string, TableSpec> measured_;  // --from-db: the tables as the database's statistics size them
};

}  // namespace

void register_import_command(CLI::App& app) {
  static ImportOptions options;
  CLI::App* command = app.add_subcommand("import", "One scenario per real migration file (SQL or pgroll), in order, each against the schema the earlier ones built");
  command->add_option("inputs", options.inputs, "Migration files or directories of them (applied in file-name order)")->required();
  command->add_option("--format", options.format, "sql or pgroll (default: each file's extension)")->check(CLI::IsMember({"sql", "pgroll"}));
  command->add_option("--schema", options.schema, "The schema the first migration meets (CREATE TABLE ... statements, e.g. pg_dump --schema-only)");
  command->add_option("--from-db", options.from_db, "Read the schema and its value distributions from a live database (catalog and pg_stats only)");
  command->add_option("--out", options.out, "Directory to write the scenarios into")->required();
  command->callback([] {
    if (!options.schema.empty() && !options.from_db.empty()) {
      std::cerr << "rehearse: import: --schema and --from-db both give the starting schema: use one\n";
      std::exit(kExitBadInput);
    }
    std::exit(Importer(options).run());
  });
}

}  // namespace rehearse::cli
