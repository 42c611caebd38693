// The simulated region database: table lock queue, statement costs, row locks of backfill
// batches, fenced protected writes, application writes with the dual-write trigger, and
// replication to the replicas.
#include "sim/database.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <unordered_set>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/gen.h"
#include "core/statements.h"

namespace rehearse::sim {

namespace {

// Statement costs in simulated time come from the scenario's cost profile (core/costs.h): a
// statement's duration grows with the rows it touches.
constexpr TimeUs kBuggifyReplicaStallMaxUs = 3 * kSec;  // the longest BUGGIFY replica stall

// The rows a committed DDL ships to the replicas: a rewrite's every row (a type change, a volatile
// default), a SQL file's UPDATE or DELETE the rows it takes, anything else (TRUNCATE too) one
// catalog change. Of the table before the statement applies.
std::int64_t replicated_rows(const DdlStatement& statement, const Table& table) {
  if (statement.kind == DdlStatement::Kind::alter_column_type) return statement.rewrites ? table.row_count() : 1;
  if (!statement.as_written) return 1;
  if (statement.kind == DdlStatement::Kind::add_column && statement.volatile_default) return table.row_count();
  if (statement.kind == DdlStatement::Kind::dml && (statement.dml == "UPDATE" || statement.dml == "DELETE")) {
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(table.dml_rows(statement).rows.size()));
  }
  return 1;
}

// `per_us` times `count` in whole simulated microseconds.
TimeUs us(double per_us, std::int64_t count = 1) { return CostProfile::total_us(per_us, count); }

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::int64_t pow10(int exponent) {
  std::int64_t result = 1;
  for (int i = 0; i < exponent; ++i) result *= 10;
  return result;
}

// A generated text: in the run's arena when it has one (core/value.h's TextArena), else boxed.
Value generated_text(std::string_view text, TextArena* texts) {
  return texts != nullptr ? texts->text(text) : Value::text(text);
}

Value generate_in_range(const ColumnSpec& column, std::int64_t low, std::int64_t high, Rng& rng, TextArena* texts) {
  if (column.type == ColumnType::numeric) {
    const std::int64_t scale = pow10(column.scale);
    return Value::numeric(Decimal{rng.uniform(low * scale, high * scale), column.scale});
  }
  if (column.type == ColumnType::text) return generated_text(std::to_string(rng.uniform(low, high)), texts);
  if (column.type == ColumnType::timestamp) return Value::timestamp(rng.uniform(low, high) * kSec);
  return Value::integer(rng.uniform(low, high));
}

Value generate_default(const ColumnSpec& column, Rng& rng, TextArena* texts) {
  switch (column.type) {
    case ColumnType::bigint:
    case ColumnType::integer: return Value::integer(rng.uniform(0, 1000000));
    case ColumnType::numeric: return generate_in_range(column, 0, 1000, rng, texts);
    case ColumnType::boolean: return Value::boolean(rng.chance(0.5));
    case ColumnType::timestamp: return Value::timestamp(1704067200LL * kSec + rng.uniform(0, 365LL * 86400) * kSec);
    case ColumnType::text: return generated_text(fmt::format("item-{}", rng.uniform(0, 999999)), texts);
  }
  return Value::null();
}

// The statement as PostgreSQL names it, for attribution texts.
const char* ddl_sql(DdlStatement::Kind kind) {
  switch (kind) {
    case DdlStatement::Kind::add_column: return "ADD COLUMN";
    case DdlStatement::Kind::drop_column: return "DROP COLUMN";
    case DdlStatement::Kind::rename_column: return "RENAME COLUMN";
    case DdlStatement::Kind::set_not_null: return "SET NOT NULL";
    case DdlStatement::Kind::create_index: return "CREATE INDEX";
    case DdlStatement::Kind::drop_index: return "DROP INDEX";
    case DdlStatement::Kind::alter_column_type: return "ALTER COLUMN TYPE";
    case DdlStatement::Kind::drop_not_null: return "DROP NOT NULL";
    case DdlStatement::Kind::set_default: return "SET DEFAULT";
    case DdlStatement::Kind::drop_default: return "DROP DEFAULT";
    case DdlStatement::Kind::add_check: return "ADD CONSTRAINT CHECK";
    case DdlStatement::Kind::add_foreign_key: return "ADD CONSTRAINT FOREIGN KEY";
    case DdlStatement::Kind::add_unique_using_index: return "ADD CONSTRAINT UNIQUE USING INDEX";
    case DdlStatement::Kind::validate_constraint: return "VALIDATE CONSTRAINT";
    case DdlStatement::Kind::drop_constraint: return "DROP CONSTRAINT";
    case DdlStatement::Kind::rename_constraint: return "RENAME CONSTRAINT";
    case DdlStatement::Kind::create_table: return "CREATE TABLE";
    case DdlStatement::Kind::drop_table: return "DROP TABLE";
    case DdlStatement::Kind::rename_table: return "RENAME TO";
    case DdlStatement::Kind::set_replica_identity: return "REPLICA IDENTITY";
    case DdlStatement::Kind::comment: return "COMMENT ON";
    case DdlStatement::Kind::opaque_sql: return "SQL";
    case DdlStatement::Kind::create_trigger: return "CREATE TRIGGER";
    case DdlStatement::Kind::row_security: return "ROW LEVEL SECURITY";
    case DdlStatement::Kind::policy: return "POLICY";
    case DdlStatement::Kind::trigger_state: return "ENABLE / DISABLE TRIGGER";
    case DdlStatement::Kind::alter_constraint: return "ALTER CONSTRAINT";
    case DdlStatement::Kind::dml: return "DML";
    case DdlStatement::Kind::catalog: return "SQL (catalog only)";
    case DdlStatement::Kind::transaction: return "BEGIN ... COMMIT";
  }
  return "?";
}

// What a statement changes, for event texts: a column (or index), a constraint, or the table.
const std::string& ddl_subject(const DdlStatement& statement) {
  switch (statement.kind) {
    case DdlStatement::Kind::add_check:
    case DdlStatement::Kind::add_foreign_key:
    case DdlStatement::Kind::add_unique_using_index:
    case DdlStatement::Kind::validate_constraint:
    case DdlStatement::Kind::drop_constraint:
    case DdlStatement::Kind::rename_constraint: return statement.constraint;
    case DdlStatement::Kind::create_table:
    case DdlStatement::Kind::drop_table:
    case DdlStatement::Kind::rename_table:
    case DdlStatement::Kind::set_replica_identity:
    case DdlStatement::Kind::dml:
    case DdlStatement::Kind::opaque_sql:
    case DdlStatement::Kind::create_trigger:
    case DdlStatement::Kind::row_security:
    case DdlStatement::Kind::policy:
    case DdlStatement::Kind::trigger_state:
    case DdlStatement::Kind::alter_constraint: return statement.as_written ? statement.table : statement.column;
    default: return statement.column;
  }
}

}  // namespace

void MigrationWaits::end(TimeUs now) {
  if (waiting_since_us < 0) return;
  const TimeUs waited = now - waiting_since_us;
  total_us += waited;
  if (waited >= longest_us) {
    longest_us = waited;
    why = std::move(waiting_on);
  }
  waiting_since_us = -1;
  waiting_on.clear();
}

Value generate_value(const ColumnSpec& column, const GenForm& form, Rng& rng, TextArena* texts) {
  if (column.nullable > 0 && rng.chance(column.nullable)) return Value::null();
  switch (form.kind) {
    case GenForm::Kind::range: return generate_in_range(column, form.low, form.high, rng, texts);
    case GenForm::Kind::email: {
      static constexpr const char* kDomains[] = {"example.com", "Example.org", "MAIL.test"};
      // Drawn one statement at a time, domain first (the order the build before drew them in):
      // the order of function arguments' evaluation is the compiler's choice.
      const char* domain = kDomains[rng.below(3)];
      const std::int64_t user = rng.uniform(1, 999999);
      // "User{user}@{domain}", spelled out on the stack: a write's email allocates only its
      // value's box, and costs no format string's parse.
      char text[64] = "User";
      char* end = std::to_chars(text + 4, text + 24, user).ptr;
      *end++ = '@';
      const std::size_t domain_size = std::strlen(domain);
      std::memcpy(end, domain, domain_size);
      return generated_text(std::string_view(text, static_cast<std::size_t>(end - text) + domain_size), texts);
    }
    case GenForm::Kind::uuid: {
      // Drawn one statement at a time: the order of function arguments' evaluation is the
      // compiler's choice, and the draws must not depend on it.
      std::uint64_t parts[5];
      for (std::uint64_t& part : parts) part = rng.next();
      return generated_text(fmt::format("{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}", parts[0] & 0xffffffffU, parts[1] & 0xffffU,
                                        parts[2] & 0xfffU, parts[3] & 0xfffU, parts[4] & 0xffffffffffffULL),
                            texts);
    }
    case GenForm::Kind::one_of: {
      const std::string& choice = form.choices[rng.below(form.choices.size())];
      if (column.type == ColumnType::text) return generated_text(choice, texts);
      if (auto number = parse_int(choice)) return Value::integer(*number);
      return generated_text(choice, texts);
    }
    case GenForm::Kind::type_default:
    case GenForm::Kind::invalid: break;
  }
  return generate_default(column, rng, texts);
}

namespace {

// Redraws of a unique key's columns while an earlier row holds the same key, before a one-column
// key is made distinct (made_distinct). A key of several columns (a reference and an enum) is
// only redrawn: made distinct, its reference would point nowhere.
constexpr int kUniqueRedraws = 64;

Table generate_table_from(const TableSpec& spec, std::uint64_t seed, const std::string& stream, TextArena* texts) {
  // Every region starts from the same data (one stream per table, not per region).
  Table table(spec);
  Rng data(seed, stream);
  // Each unique key's column positions and the key hashes rows hold so far (a hash two keys
  // share counts as taken: a redraw too many, never a duplicate).
  std::vector<std::vector<std::size_t>> keys;
  for (const std::vector<std::string>& key : unique_keys(spec)) {
    std::vector<std::size_t> positions;
    for (const std::string& name : key) {
      const auto column = std::find_if(spec.columns.begin(), spec.columns.end(), [&](const ColumnSpec& c) { return c.name == name; });
      if (column != spec.columns.end()) positions.push_back(static_cast<std::size_t>(column - spec.columns.begin()));
    }
    if (positions.size() == key.size()) keys.push_back(std::move(positions));
  }
  std::vector<std::unordered_set<std::uint64_t>> taken(keys.size());
  std::vector<GenForm> forms;  // each column's gen rule, read once
  for (const ColumnSpec& column : spec.columns) forms.push_back(parse_gen(column.gen));
  std::vector<Value> values;
  const auto key_hash = [&values](const std::vector<std::size_t>& key, bool* has_null) {
    std::uint64_t hash = 0;
    for (std::size_t position : key) {
      *has_null = *has_null || values[position].is_null();
      hash = key_hash_step(hash, values[position]);
    }
    return hash;
  };
  for (std::int64_t i = 0; i < spec.rows; ++i) {
    values.clear();
    for (std::size_t c = 0; c < spec.columns.size(); ++c) values.push_back(generate_value(spec.columns[c], forms[c], data, texts));
    for (std::size_t k = 0; k < keys.size(); ++k) {
      bool has_null = false;  // a key with a NULL collides with none
      std::uint64_t hash = key_hash(keys[k], &has_null);
      for (int redraw = 0; redraw < kUniqueRedraws && !has_null && taken[k].count(hash) > 0; ++redraw) {
        for (std::size_t position : keys[k]) values[position] = generate_value(spec.columns[position], forms[position], data, texts);
        hash = key_hash(keys[k], &has_null);
      }
      if (!has_null && taken[k].count(hash) > 0 && keys[k].size() == 1) {
        values[keys[k].front()] = made_distinct(values[keys[k].front()], i + 1);
        hash = key_hash(keys[k], &has_null);
      }
      if (!has_null) taken[k].insert(hash);
    }
    table.insert(Row(values, Writer::initial));
  }
  return table;
}

}  // namespace

std::vector<std::vector<std::string>> unique_keys(const TableSpec& spec) {
  std::vector<std::vector<std::string>> out;
  const auto add = [&out](const std::vector<std::string>& key) {
    if (!key.empty() && std::find(out.begin(), out.end(), key) == out.end()) out.push_back(key);
  };
  if (spec.primary_key != std::vector<std::string>{"id"}) add(spec.primary_key);
  for (const IndexSpec& index : spec.indexes) {
    if (index.unique && index.predicate.empty()) add(index.columns);
  }
  for (const ConstraintSpec& constraint : spec.constraints) {
    if (constraint.kind == ConstraintKind::unique) add(constraint.columns);
  }
  return out;
}

std::vector<std::string> unique_columns(const TableSpec& spec) {
  std::vector<std::string> out;
  for (const std::vector<std::string>& key : unique_keys(spec)) {
    if (key.size() == 1) out.push_back(key.front());
  }
  return out;
}

Value made_distinct(const Value& value, std::int64_t tag) {
  switch (value.kind()) {
    case Value::Kind::text: return Value::text(fmt::format("{}-{}", value.as_text(), tag));
    case Value::Kind::integer: return Value::integer(2'000'000'000 + tag);
    default: return value;
  }
}

Table generate_table(const TableSpec& spec, std::uint64_t seed, TextArena* texts) {
  return generate_table_from(spec, seed, "table", texts);
}

std::vector<DataReference> data_references(const Scenario& scenario) {
  std::vector<DataReference> out;
  const auto add = [&](const std::string& table, const ConstraintSpec& c, const std::string& column) {
    if (c.kind != ConstraintKind::foreign_key) return;
    DataReference r{c.name, table, c.columns.empty() ? std::vector<std::string>{column} : c.columns, c.ref_table, c.ref_columns};
    if (r.ref_columns.empty()) r.ref_columns = {"id"};
    if (r.columns.size() == r.ref_columns.size()) out.push_back(std::move(r));
  };
  for (const TableSpec* spec : all_tables(scenario)) {
    for (const ConstraintSpec& c : spec->constraints) add(spec->name, c, "");
  }
  for (const Operation& op : scenario.migration.operations) {
    if (op.kind == OperationKind::create_table) continue;  // a new table: no rows yet
    const std::string& table = op.table.empty() ? scenario.table.name : op.table;
    for (const ConstraintSpec& c : op.constraints) add(table, c, op.column);
  }
  // A column whose draw the scenario wrote keeps it: the data is what the scenario says.
  std::erase_if(out, [&](const DataReference& r) {
    const TableSpec* spec = find_table(scenario, r.table);
    return spec != nullptr && std::any_of(spec->columns.begin(), spec->columns.end(), [&](const ColumnSpec& c) {
             return c.gen_written && std::find(r.columns.begin(), r.columns.end(), c.name) != r.columns.end();
           });
  });
  return out;
}

void draw_reference(const DataReference& reference, const Table& referenced, Rng& rng, ColumnValues* values) {
  bool all_null = true;
  for (const std::string& column : reference.columns) {
    const auto it = values->find(column);
    if (it == values->end()) return;
    all_null = all_null && it->second.is_null();
  }
  if (all_null || referenced.row_count() == 0) return;
  // Called for every application write: the referenced columns looked up once each, into the
  // stack (a key has at most PostgreSQL's INDEX_MAX_KEYS columns), nothing allocated.
  constexpr std::size_t kKeyColumnsMax = 32;
  std::array<int, kKeyColumnsMax> sources{};
  if (reference.ref_columns.size() > kKeyColumnsMax || reference.ref_columns.size() != reference.columns.size()) return;
  for (std::size_t i = 0; i < reference.ref_columns.size(); ++i) {
    sources[i] = referenced.column_index(reference.ref_columns[i]);
    if (sources[i] < 0) return;
  }
  const std::int64_t row = rng.uniform(1, referenced.row_count());
  for (std::size_t i = 0; i < reference.columns.size(); ++i) (*values)[reference.columns[i]] = referenced.cell(row, sources[i]);
}

std::vector<Table> generate_tables(const Scenario& scenario, std::uint64_t seed, TextArena* texts) {
  std::vector<Table> tables;
  for (const TableSpec* spec : all_tables(scenario)) {
    tables.push_back(tables.empty() ? generate_table(*spec, seed, texts)
                                    : generate_table_from(*spec, seed, "table:" + spec->name, texts));
  }
  const auto find = [&](const std::string& name) -> Table* {
    const auto it = std::find_if(tables.begin(), tables.end(), [&](const Table& t) { return t.name() == name; });
    return it == tables.end() ? nullptr : &*it;
  };
  for (const DataReference& reference : data_references(scenario)) {
    Table* child = find(reference.table);
    const Table* parent = find(reference.ref_table);
    if (child == nullptr || parent == nullptr || child == parent) continue;
    std::vector<int> targets;
    for (const std::string& column : reference.columns) targets.push_back(child->column_index(column));
    if (std::find(targets.begin(), targets.end(), -1) != targets.end() || std::find(targets.begin(), targets.end(), 0) != targets.end()) continue;
    Rng rng(seed, "references:" + reference.table + ":" + reference.name);
    // The child's unique keys this reference writes into (a one-to-one reference, a reference
    // and an enum): a drawn parent whose key an earlier row holds is drawn again.
    std::vector<std::vector<std::pair<int, std::string>>> keys;  // (slot, name) per key column
    for (const std::vector<std::string>& key : unique_keys(*find_table(scenario, reference.table))) {
      std::vector<std::pair<int, std::string>> slots;
      for (const std::string& column : key) slots.emplace_back(child->column_index(column), column);
      const bool written = std::any_of(key.begin(), key.end(), [&](const std::string& c) {
        return std::find(reference.columns.begin(), reference.columns.end(), c) != reference.columns.end();
      });
      const bool known = std::all_of(slots.begin(), slots.end(), [](const auto& slot) { return slot.first > 0; });
      if (written && known) keys.push_back(std::move(slots));
    }
    std::vector<std::unordered_set<std::uint64_t>> taken(keys.size());
    const auto free_key = [&](std::int64_t id, const ColumnValues& values, std::vector<std::uint64_t>* hashes) {
      hashes->clear();
      bool free = true;
      for (std::size_t k = 0; k < keys.size(); ++k) {
        std::uint64_t hash = 0;
        bool has_null = false;
        for (const auto& [slot, name] : keys[k]) {
          const auto drawn = values.find(name);
          const Value value = drawn != values.end() ? drawn->second : child->cell(id, slot);
          has_null = has_null || value.is_null();
          hash = key_hash_step(hash, value);
        }
        hashes->push_back(has_null ? 0 : hash);
        free = free && (has_null || taken[k].count(hash) == 0);
      }
      return free;
    };
    std::vector<std::uint64_t> hashes;
    for (std::int64_t id = 1; id <= child->row_count(); ++id) {
      ColumnValues values;
      for (std::size_t i = 0; i < targets.size(); ++i) values[reference.columns[i]] = child->cell(id, targets[i]);
      const ColumnValues drawn_from = values;
      draw_reference(reference, *parent, rng, &values);
      for (int redraw = 0; redraw < kUniqueRedraws && !free_key(id, values, &hashes); ++redraw) {
        values = drawn_from;
        draw_reference(reference, *parent, rng, &values);
      }
      free_key(id, values, &hashes);  // the hashes of the values kept (the loop may end on a redraw)
      for (std::size_t k = 0; k < keys.size(); ++k) {
        if (hashes[k] != 0) taken[k].insert(hashes[k]);
      }
      for (std::size_t i = 0; i < targets.size(); ++i) child->set_cell(id, targets[i], values[reference.columns[i]]);
    }
  }
  return tables;
}

SimDatabase::SimDatabase(Kernel& kernel, Node& node, std::string region, const Table& initial, int replicas,
                         DurationRange replication_lag, WriteSink sink, std::uint64_t seed)
    : SimDatabase(kernel, node, std::move(region), std::vector<Table>{initial}, replicas, replication_lag, std::move(sink),
                  seed) {}

SimDatabase::SimDatabase(Kernel& kernel, Node& node, std::string region, const std::vector<Table>& initial, int replicas,
                         DurationRange replication_lag, WriteSink sink, std::uint64_t seed)
    : kernel_(kernel),
      node_(node),
      region_(std::move(region)),
      sink_(std::move(sink)),
      rng_(seed, "replication:" + region_),
      replication_lag_(replication_lag) {
  REHEARSE_ASSERT(!initial.empty());
  first_table_ = initial.front().name();
  Tables copies;
  for (const Table& table : initial) {
    REHEARSE_ASSERT(tables_.count(table.name()) == 0);
    tables_[table.name()].data = table;
    copies[table.name()] = table;
  }
  replicas_.resize(static_cast<std::size_t>(replicas), Replica{copies, {}, 0});
}

SimDatabase::Replica& SimDatabase::replayed(std::size_t replica) const {
  Replica& target = replicas_[replica];
  while (!target.pending.empty() && kernel_.has_run(target.pending.front().apply_us, target.pending.front().sequence)) {
    target.pending.front().body.apply_to(target.tables);
    target.pending.pop_front();
  }
  return target;
}

SimDatabase::TableState* SimDatabase::find_state(const std::string& table) {
  // Asked for by every request (a one-table scenario's by the empty name): the last one found
  // answers without comparing names when it is the first table.
  if (found_state_ != nullptr && (table.empty() ? found_first_ : table == found_name_)) return found_state_;
  const std::string& name = table.empty() ? first_table_ : table;
  auto it = tables_.find(name);
  if (it == tables_.end()) return nullptr;
  found_name_ = name;
  found_first_ = name == first_table_;
  found_state_ = &it->second;
  return found_state_;
}

const SimDatabase::TableState* SimDatabase::find_state(const std::string& table) const {
  return const_cast<SimDatabase*>(this)->find_state(table);
}

SimDatabase::TableState& SimDatabase::state(const std::string& table) {
  TableState* found = find_state(table);
  REHEARSE_ASSERT(found != nullptr);
  return *found;
}

bool SimDatabase::has_table(const std::string& table) const { return find_state(table) != nullptr; }

std::vector<std::string> SimDatabase::table_names() const {
  std::vector<std::string> names;
  for (const auto& [name, table] : tables_) names.push_back(name);
  return names;
}

const Table& SimDatabase::table(const std::string& table) const {
  const TableState* found = find_state(table);
  REHEARSE_ASSERT(found != nullptr);
  return found->data;
}

TableImage SimDatabase::replica_image(int replica, const std::string& table) const {
  const Tables& tables = replayed(static_cast<std::size_t>(replica - 1)).tables;
  auto it = tables.find(table.empty() ? first_table_ : table);
  return it == tables.end() ? TableImage{} : it->second.image();
}

TableCatalog SimDatabase::replica_catalog(int replica, const std::string& table) const {
  const Tables& tables = replayed(static_cast<std::size_t>(replica - 1)).tables;
  auto it = tables.find(table.empty() ? first_table_ : table);
  return it == tables.end() ? TableCatalog{} : it->second.catalog();
}

void SimDatabase::set_derived(const std::vector<DerivedColumn>& derived) {
  for (auto& [name, table] : tables_) {
    table.derived.clear();
    ++table.derived_version;
  }
  for (const DerivedColumn& column : derived) {
    if (TableState* table = find_state(column.table)) table->derived.push_back(column);
  }
}

bool SimDatabase::admit(const Fence& fence, WriteKind kind, const std::string& actor, const std::string& detail,
                        std::int64_t a, std::int64_t b) {
  const bool stale = fence.enforce && !ignore_tokens_ && fence.token < highest_token_;
  sink_(Event{.kind = EventKind::write, .outcome = stale ? Outcome::rejected : Outcome::applied, .write = kind,
              .token = fence.token, .actor = actor, .region = region_, .detail = detail, .a = a, .b = b});
  if (stale) {
    kernel_.probe(Probe::stale_token_rejected);
    return false;
  }
  highest_token_ = std::max(highest_token_, fence.token);
  return true;
}

void SimDatabase::after_if_alive(TimeUs delay_us, Callback<void()> work) {
  kernel_.after_on(node_, std::max<TimeUs>(delay_us, 1), std::move(work));
}

void SimDatabase::run_statement(TimeUs cost_us, Callback<void()> work, bool migration) {
  if (cpu_host_ == nullptr) {
    after_if_alive(cost_us, std::move(work));
    return;
  }
  const std::uint64_t epoch = node_.epoch();
  cpu_host_->run(
      cost_us,
      [this, epoch, work = std::move(work)] {
        if (node_.alive_in(epoch)) work();
      },
      migration);
}

void SimDatabase::run_app_statement(TimeUs cost_us, Callback<void()> work) {
  // No host (every run but conform's): the request's whole cost is its duration, no draw.
  if (cpu_host_ == nullptr) {
    run_statement(cost_us, std::move(work), false);
    return;
  }
  // On a shared host the idle session's wake is latency (before the work), the rest is work on
  // the host's processors; beside a migration statement the host's busy wait comes first (no
  // draw on an idle host, so no other stream moves).
  const TimeUs wake = std::clamp<TimeUs>(us(costs_.app_idle_wake_us), 0, std::max<TimeUs>(cost_us - 1, 0));
  TimeUs wait = wake;
  if (cpu_host_->migration_running() > 0) {
    const double q = static_cast<double>(rng_.uniform(0, 999'999)) / 1e6;
    wait += us(costs_.busy_host_wait_us_at(q));
  }
  if (wait == 0) {
    run_statement(cost_us, std::move(work), false);
    return;
  }
  after_if_alive(wait, [this, work_us = cost_us - wake, work = std::move(work)]() mutable { run_statement(work_us, std::move(work), false); });
}

void SimDatabase::with_table_lock(TableState& table, LockMode mode, TimeUs wait_limit_us,
                                  Callback<void(std::uint64_t lock)> work, Callback<void()> gave_up) {
  if (!node_.up()) return;  // a server that is down opens no session (the caller times out)
  struct Session {
    bool granted = false;
    std::uint64_t id = 0;
  };
  auto session = make_pooled<Session>();
  TableLock& lock = table.lock;  // table states live as long as the database (a dropped table's too)
  session->id = lock.request(mode, [this, session, work = std::move(work)]() mutable {
    session->granted = true;
    // Never run work inside the lock's own bookkeeping. Granted once: the work moves on.
    after_if_alive(0, [session, work = std::move(work)] { work(session->id); });
  });
  if (session->granted || wait_limit_us <= 0) return;
  after_if_alive(wait_limit_us, [&lock, session, gave_up = std::move(gave_up)] {
    if (!session->granted && lock.cancel(session->id)) gave_up();
  });
}

SimDatabase::StreamStart SimDatabase::stream_start() const {
  StreamStart start{kernel_.now(), {}, {}};
  for (const Replica& replica : replicas_) {
    start.replayed_by_us.push_back(replica.last_apply_us);
    start.replayed_without_faults_by_us.push_back(replica.last_apply_without_faults_us);
  }
  return start;
}

void SimDatabase::replicate(std::int64_t rows, const std::string& table, std::function<void(Table&)> apply,
                            const StreamStart* streamed) {
  replicate_tables(
      rows,
      [name = table.empty() ? first_table_ : table, apply = std::move(apply)](Tables& tables) {
        auto it = tables.find(name);
        if (it != tables.end()) apply(it->second);
      },
      streamed);
}

void SimDatabase::replicate_tables(std::int64_t rows, std::function<void(Tables&)> apply, const StreamStart* streamed) {
  ChangeBody body;
  body.apply = std::make_shared<const std::function<void(Tables&)>>(std::move(apply));
  ship(rows, body, streamed);
}

void SimDatabase::replicate_row(const std::string& table, std::int64_t row_id, Row version) {
  ChangeBody body;
  body.table = table.empty() ? first_table_ : table;  // named as replicate() names it: at commit
  body.row_id = row_id;
  body.version = std::move(version);
  ship(1, body, nullptr);
}

void SimDatabase::ChangeBody::apply_to(Tables& tables) const {
  if (apply != nullptr) {
    (*apply)(tables);
    return;
  }
  auto it = tables.find(table);
  if (it == tables.end()) return;
  Table& copy = it->second;
  while (copy.row_count() < row_id) copy.insert(Row());
  copy.set_version(row_id, version);
}

// When the WAL of a commit made at `now` is flushed and can ship: with asynchronous commit
// (conform's flush delay) at the WAL writer's first round at or after it, else at once (no draw,
// so scenarios keep their random streams). The rounds are a sequence shared by every commit,
// so WAL ships in the order it was written, as PostgreSQL flushes it: a later commit never
// ships before an earlier one (an independent draw per commit let it, and then a replica's
// oldest unreplayed change could read shipped long ago behind one not yet shipped). A round
// follows the last by wal_writer_delay to twice that (a partial page is flushed only once the
// delay passed since the last flush, and a wake-up to write a full page restarts the sleep):
// commit_flush_ is 0..2 x wal_writer_delay (cli/conform.cc).
TimeUs SimDatabase::wal_writer_round(TimeUs now) {
  if (commit_flush_.high_us <= 0) return now;
  const TimeUs shortest = std::max<TimeUs>(1, commit_flush_.high_us / 2);
  while (next_wal_round_us_ < now) next_wal_round_us_ += rng_.uniform(shortest, commit_flush_.high_us);
  return next_wal_round_us_;
}

void SimDatabase::ship(std::int64_t rows, const ChangeBody& body, const StreamStart* streamed) {
  const TimeUs now = kernel_.now();
  const TimeUs extra = now < extra_lag_until_us_ ? extra_lag_us_ : 0;
  const TimeUs flush = wal_writer_round(now) - now;
  for (std::size_t r = 0; r < replicas_.size(); ++r) {
    Replica& replica = replayed(r);  // its queue holds only what has not replayed by now
    const TimeUs replica_extra = now < replica.extra_lag_until_us ? replica.extra_lag_us : 0;
    // Asynchronous commit: the WAL ships at the WAL writer's next round; then the database's own
    // commit-to-replay delay and the scenario's shipping delay.
    const TimeUs shipping = rng_.uniform(replication_lag_.low_us, replication_lag_.high_us);
    TimeUs arrival = now + flush + us(costs_.replica_base_delay_us) + shipping;
    if (replica.transit.high_us > 0) arrival += rng_.uniform(replica.transit.low_us, replica.transit.high_us);  // cross-region
    TimeUs injected = std::max(extra, replica_extra);  // replication_lag faults
    // A partition: held until the heal. The WAL waits for the heal from its flush, not on top of
    // the flush wait (with synchronous commit the two are the same).
    if (now + flush < replica.cut_until_us) injected = std::max(injected, replica.cut_until_us - (now + flush));
    if (kernel_.buggify().fires(FaultSite::replication_apply_stall)) {  // BUGGIFY: the replica stalls
      injected += kernel_.buggify().draw_us(FaultSite::replication_apply_stall, 500 * kMs, kBuggifyReplicaStallMaxUs);
    }
    const TimeUs replay = us(costs_.replica_apply_per_row_us, rows);
    if (streamed != nullptr && r < streamed->replayed_by_us.size()) {
      // Streaming replication: the rows' WAL leaves as the statement writes it, so their replay
      // starts a shipping delay after the statement began, behind what was queued then
      // (calibrate measures replica_apply_per_row_us from the statement's start); the changes
      // committed while it ran replay interleaved with it.
      const TimeUs from = streamed->since_us + shipping;  // a statement's own WAL streams as it is written
      replica.last_apply_us = std::max({std::max(streamed->replayed_by_us[r], from + injected) + replay, replica.last_apply_us,
                                        arrival + injected});
      replica.last_apply_without_faults_us =
          std::max({std::max(streamed->replayed_without_faults_by_us[r], from) + replay, replica.last_apply_without_faults_us, arrival});
    } else {
      replica.last_apply_us = std::max(replica.last_apply_us, arrival + injected) + replay;
      // The same queue without the injected delays: what the migration's own changes cost.
      replica.last_apply_without_faults_us = std::max(replica.last_apply_without_faults_us, arrival) + replay;
    }
    replica.pending.push_back(Change{now, now + flush, body, replica.last_apply_without_faults_us, replica.last_apply_us,
                                     kernel_.reserve_sequence()});
  }
}

TimeUs SimDatabase::replica_lag(int replica) const { return replica_lag_at(replica, kernel_.now()); }

TimeUs SimDatabase::replica_lag_without_faults(int replica) const {
  return replica_lag_without_faults_at(replica, kernel_.now());
}

namespace {
// How stale a replica is at `at_us`: since the commit of the oldest change `pending` (oldest
// first) still holds then, by `replayed` (the change's replay time; those grow along the queue).
template <typename Pending, typename Replayed>
TimeUs lag_at(const Pending& pending, TimeUs at_us, Replayed replayed) {
  if (pending.empty()) return 0;
  if (replayed(pending.front()) > at_us) return at_us - pending.front().commit_us;  // the common case: none replayed by then
  auto oldest = std::partition_point(pending.begin() + 1, pending.end(), [&](const auto& change) { return replayed(change) <= at_us; });
  return oldest == pending.end() ? 0 : at_us - oldest->commit_us;
}
}  // namespace

// Now, every pending change is unreplayed (replayed() removed the rest); later, those replayed
// by then are not.
TimeUs SimDatabase::replica_lag_at(int replica, TimeUs at_us) const {
  const Replica& r = replayed(static_cast<std::size_t>(replica - 1));
  if (at_us == kernel_.now()) return r.pending.empty() ? 0 : at_us - r.pending.front().commit_us;
  return lag_at(r.pending, at_us, [](const Change& change) { return change.apply_us; });
}

// The oldest change that would still be pending without injected delays. Those times only grow
// along the queue, and a change already applied would have been applied without them too.
TimeUs SimDatabase::replica_lag_without_faults_at(int replica, TimeUs at_us) const {
  const Replica& r = replayed(static_cast<std::size_t>(replica - 1));
  return lag_at(r.pending, at_us, [](const Change& change) { return change.apply_without_faults_us; });
}

// What the primary reports (PostgreSQL's pg_stat_replication.replay_lag): from when the oldest
// unreplayed change's WAL was flushed and shipped, not from its commit.
TimeUs SimDatabase::replication_lag() const {
  TimeUs lag = 0;
  for (std::size_t r = 0; r < replicas_.size(); ++r) {
    const Replica& replica = replayed(r);
    if (!replica.pending.empty()) lag = std::max(lag, kernel_.now() - replica.pending.front().shipped_us);
  }
  return lag;
}

void SimDatabase::ddl(const DdlStatement& statement, const DdlLimits& limits, const Fence& fence,
                      const std::string& actor, Respond<Status> respond, std::function<bool()> client_alive) {
  // The lock mode, the waits and the cost are the statement model's (core/statements.h): ADD /
  // DROP / RENAME COLUMN, SET NOT NULL and a type change take ACCESS EXCLUSIVE; CREATE INDEX
  // CONCURRENTLY takes SHARE UPDATE EXCLUSIVE, which writers pass, and waits for older
  // transactions.
  const StatementKind kind = statement_kind(statement);
  if (statement.kind == DdlStatement::Kind::catalog) {
    run_migration_statement(statement_cost_us(costs_, kind, 0), [this, statement, fence, actor, respond, client_alive] {
      if (!client_gone(client_alive, respond)) catalog_statement(statement, fence, actor, respond);
    });
    return;
  }
  if (statement.kind == DdlStatement::Kind::transaction) {
    run_transaction(statement, limits, fence, actor, respond, std::move(client_alive));
    return;
  }
  if (statement.kind == DdlStatement::Kind::create_table) {  // a new relation: no lock to wait for
    run_migration_statement(statement_cost_us(costs_, kind, 0), [this, statement, fence, actor, respond, client_alive] {
      if (!client_gone(client_alive, respond)) create_table(statement, fence, actor, respond);
    });
    return;
  }
  const StatementModel& model = statement_model(kind);
  const std::optional<LockMode> mode = lock_on(model, RelationRole::table);
  REHEARSE_ASSERT(mode.has_value());
  TimeUs wait_limit = limits.lock_timeout_us;
  if (limits.statement_timeout_us > 0 && (wait_limit == 0 || limits.statement_timeout_us < wait_limit)) {
    wait_limit = limits.statement_timeout_us;
  }
  TableState* table = find_state(statement.table);
  if (table == nullptr && statement.as_written && statement.if_exists) {  // DROP ... IF EXISTS of a table gone
    after_if_alive(0, [respond] { respond(Status::ok()); });
    return;
  }
  if (table == nullptr) {  // PostgreSQL: ERROR: relation "x" does not exist
    after_if_alive(0, [respond, name = statement.table] { respond(Status::invalid(fmt::format("relation \"{}\" does not exist", name))); });
    return;
  }
  const TimeUs busy = statement_cost_us(costs_, kind, work_rows(statement, table->data));
  // BUGGIFY: answered as if lock_timeout passed, without queueing (only where a limit exists).
  if (wait_limit > 0 && node_.up() && kernel_.buggify().fires(FaultSite::ddl_lock_timeout)) {
    after_if_alive(kernel_.buggify().draw_us(FaultSite::ddl_lock_timeout, 1, wait_limit),
                   [respond] { respond(Status::timeout("canceling statement due to lock timeout (buggify)")); });
    return;
  }
  table->ddl_in_queue = fmt::format("{} {}", ddl_sql(statement.kind), statement.column);
  auto timed_out = [this, respond] {
    kernel_.probe(Probe::ddl_timed_out_behind_transaction);
    respond(Status::timeout("canceling statement due to lock timeout"));
  };
  with_table_lock(
      *table, *mode, wait_limit,
      [this, table, statement, fence, actor, respond, busy, wait_limit, timed_out, client_alive,
       concurrent = model.waits_for_older_transactions, in_transaction = model.in_transaction](std::uint64_t lock) {
        auto finish = [this, table, statement, fence, actor, respond, lock, client_alive, in_transaction] {
          if (in_transaction && client_gone(client_alive, respond)) {
            table->lock.release(lock);
            return;
          }
          finish_ddl(*table, statement, fence, actor, respond, lock);
        };
        if (statement.as_written) {
          // A SQL file's statement meets what is there once it holds its lock, before any work:
          // "already exists" fails it at once, and CREATE INDEX ... IF NOT EXISTS of an index
          // that is there (even an INVALID one) is skipped with a notice.
          const std::string error = table->data.as_written_error(statement);
          const bool skipped = statement.kind == DdlStatement::Kind::create_index && statement.if_exists && table->data.has_index(statement.column);
          if (!error.empty() || skipped) {
            table->lock.release(lock);
            respond(error.empty() ? Status::ok() : Status::invalid(error));
            return;
          }
        }
        if (!concurrent) {
          run_migration_statement(busy, finish);
          return;
        }
        run_concurrently(*table, statement, lock, busy, wait_limit, finish, [table, lock, timed_out, statement] {
          table->lock.release(lock);
          // A SQL file's CREATE INDEX CONCURRENTLY cancelled in its waits leaves its index
          // INVALID (its catalog entry committed in the first of its transactions).
          if (statement.as_written && statement.kind == DdlStatement::Kind::create_index && !table->data.has_index(statement.column)) {
            table->data.mark_index_invalid(statement.column);
          }
          timed_out();
        });
      },
      timed_out);
}

// CREATE INDEX CONCURRENTLY, once it holds SHARE UPDATE EXCLUSIVE: waits for the transactions
// that could write the table without seeing the new index (those holding a mode that conflicts
// with SHARE), builds the index, then waits for every transaction older than its reference
// snapshot (any holder left). DROP INDEX CONCURRENTLY waits for every transaction using the
// table, then drops. Each wait gives up after `wait_limit_us` (lock_timeout applies to them as
// to any lock wait in PostgreSQL).
void SimDatabase::run_concurrently(TableState& table, const DdlStatement& statement, std::uint64_t lock, TimeUs busy,
                                   TimeUs wait_limit_us, std::function<void()> finish, std::function<void()> gave_up) {
  auto every_holder = [](LockMode) { return true; };
  if (statement.kind != DdlStatement::Kind::create_index) {
    wait_for_older_transactions(table, lock, every_holder, wait_limit_us,
                                [this, busy, finish] { run_migration_statement(busy, finish); }, gave_up);
    return;
  }
  auto writers = [](LockMode held) { return conflicts(LockMode::share, held); };
  wait_for_older_transactions(
      table, lock, writers, wait_limit_us,
      [this, &table, lock, busy, wait_limit_us, finish, gave_up, every_holder] {
        run_migration_statement(busy, [this, &table, lock, wait_limit_us, finish, gave_up, every_holder] {
          wait_for_older_transactions(table, lock, every_holder, wait_limit_us, finish, gave_up);
        });
      },
      gave_up);
}

void SimDatabase::wait_for_older_transactions(TableState& table, std::uint64_t self, std::function<bool(LockMode)> matters,
                                              TimeUs wait_limit_us, std::function<void()> then,
                                              std::function<void()> gave_up) {
  auto synchronous = std::make_shared<bool>(true);
  auto finished = std::make_shared<bool>(false);
  const std::uint64_t wait = table.lock.wait_for_holders(self, std::move(matters), [this, synchronous, finished, then] {
    *finished = true;
    if (!*synchronous) after_if_alive(0, then);  // never run work inside the lock's own bookkeeping
  });
  *synchronous = false;
  if (*finished) {
    then();
    return;
  }
  if (wait_limit_us <= 0) return;
  after_if_alive(wait_limit_us, [&table, wait, finished, gave_up] {
    if (!*finished && table.lock.cancel_wait(wait)) gave_up();
  });
}

bool SimDatabase::client_gone(const std::function<bool()>& client_alive, const Respond<Status>& respond) {
  if (!client_alive || client_alive()) return false;
  respond(Status::unavailable("the client is gone before COMMIT: the transaction is rolled back"));  // reaches no one
  return true;
}

// A DDL's end once its work is done: the lock released, the fence checked, the change applied
// and shipped to the replicas.
void SimDatabase::finish_ddl(TableState& table, const DdlStatement& statement, const Fence& fence, const std::string& actor,
                             const Respond<Status>& respond, std::uint64_t lock) {
  table.lock.release(lock);
  const std::string detail = fmt::format("{}: {} {}{}{}", statement.purpose, to_string(statement.kind), ddl_subject(statement),
                                         statement.to.empty() ? "" : " to " + statement.to,
                                         tables_.size() + dropped_tables_.size() > 1 && &ddl_subject(statement) != &statement.table
                                             ? " on " + table.data.name()
                                             : "");
  if (!admit(fence, WriteKind::ddl, actor, detail)) {
    respond(Status::stale_token(fmt::format("token {} < {}", fence.token, highest_token_)));
    return;
  }
  if (std::string error = table.data.as_written_error(statement); !error.empty()) {
    respond(Status::invalid(error));  // a SQL file's statement meets what is there
    return;
  }
  if (std::string error = table.data.rewrite_error(statement); !error.empty()) {
    respond(Status::invalid(error));  // the whole ALTER fails, as in PostgreSQL
    return;
  }
  if (statement.kind == DdlStatement::Kind::add_foreign_key || statement.kind == DdlStatement::Kind::validate_constraint) {
    const std::string referenced = statement.kind == DdlStatement::Kind::add_foreign_key ? statement.ref_table
                                                                                          : referenced_table(table.data, statement.constraint);
    if (const TableState* target = referenced.empty() ? nullptr : find_state(referenced)) {
      if (std::string error = table.data.foreign_key_error(statement, target->data); !error.empty()) {
        respond(Status::invalid(error));
        return;
      }
    } else if (statement.kind == DdlStatement::Kind::add_foreign_key) {
      respond(Status::invalid(fmt::format("relation \"{}\" does not exist", statement.ref_table)));
      return;
    }
  }
  if (statement.kind == DdlStatement::Kind::drop_table || statement.kind == DdlStatement::Kind::rename_table) {
    respond(change_table_set(table, statement));
    return;
  }
  const std::int64_t shipped = replicated_rows(statement, table.data);
  table.data.apply(statement);
  if (statement.kind != DdlStatement::Kind::dml) invalidate_sessions(table);
  replicate(shipped, table.data.name(), [statement](Table& copy) { copy.apply(statement); });
  respond(Status::ok());
}

// ---------------------------------------------------------------------------------------------
// A SQL migration file's statements run as written (core/sql_migration.h).

struct SimDatabase::SqlTransaction {
  DdlStatement statement;  // kind transaction
  TimeUs wait_limit_us = 0;
  Fence fence;
  std::string actor;
  Respond<Status> respond;
  std::function<bool()> client_alive;  // none: always
  std::size_t next = 0;  // the next step to take its locks
  struct Held {
    TableState* table;
    std::uint64_t lock;
    LockMode mode;
  };
  std::vector<Held> held;
  std::vector<std::string> created;  // tables created by an earlier step: no lock to wait for
  bool ended = false;
};

std::int64_t SimDatabase::work_rows(const DdlStatement& statement, const Table& table) {
  if (statement.kind != DdlStatement::Kind::dml || statement.high_id < statement.low_id) return table.row_count();
  const std::int64_t low = std::max<std::int64_t>(1, statement.low_id);
  return std::max<std::int64_t>(0, std::min(table.row_count(), statement.high_id) - low + 1);
}

void SimDatabase::catalog_statement(const DdlStatement& statement, const Fence& fence, const std::string& actor,
                                    const Respond<Status>& respond) {
  if (!admit(fence, WriteKind::ddl, actor, fmt::format("{}: {}", statement.purpose, to_string(statement.kind)))) {
    respond(Status::stale_token(fmt::format("token {} < {}", fence.token, highest_token_)));
    return;
  }
  respond(Status::ok());
}

void SimDatabase::run_transaction(const DdlStatement& statement, const DdlLimits& limits, const Fence& fence, const std::string& actor,
                                  const Respond<Status>& respond, std::function<bool()> client_alive) {
  REHEARSE_ASSERT(statement.kind == DdlStatement::Kind::transaction);
  auto transaction = std::make_shared<SqlTransaction>();
  transaction->statement = statement;
  transaction->wait_limit_us = limits.lock_timeout_us;
  if (limits.statement_timeout_us > 0 && (transaction->wait_limit_us == 0 || limits.statement_timeout_us < transaction->wait_limit_us)) {
    transaction->wait_limit_us = limits.statement_timeout_us;
  }
  transaction->fence = fence;
  transaction->actor = actor;
  transaction->respond = respond;
  transaction->client_alive = std::move(client_alive);
  after_if_alive(0, [this, transaction] { transaction_step(transaction); });
}

// Takes the next step's lock (held to the end of the block; a lock the block holds already in a
// mode at least as strong is not asked again), runs its work, then the step after it.
void SimDatabase::transaction_step(const std::shared_ptr<SqlTransaction>& transaction) {
  if (transaction->ended) return;
  const std::vector<DdlStatement>& steps = transaction->statement.steps;
  if (transaction->next == steps.size()) {
    const Status error = transaction_error(transaction->statement);
    if (transaction->statement.rolled_back && error.is_ok()) {  // ROLLBACK in the file: locks released, nothing applied
      for (const SqlTransaction::Held& held : transaction->held) held.table->lock.release(held.lock);
      transaction->held.clear();
      transaction->ended = true;
      transaction->respond(Status::ok());
      return;
    }
    end_transaction(transaction, error);
    return;
  }
  const DdlStatement& step = steps[transaction->next++];
  const StatementKind kind = statement_kind(step);
  const StatementModel& model = statement_model(kind);
  if (!model.in_transaction) {
    end_transaction(transaction, Status::invalid(fmt::format("{} cannot run inside a transaction block", model.name)));
    return;
  }
  if (step.kind == DdlStatement::Kind::create_table) transaction->created.push_back(step.table);
  std::optional<LockMode> mode = lock_on(model, RelationRole::table);
  // One statement of several actions takes the strongest of their modes first, as PostgreSQL's
  // ALTER TABLE does (AlterTableGetLockLevel): its later actions find it held.
  for (std::size_t later = transaction->next; mode && later < steps.size(); ++later) {
    const DdlStatement& other = steps[later];
    if (other.line != step.line || other.file != step.file || other.table != step.table) break;
    const std::optional<LockMode> other_mode = lock_on(statement_model(statement_kind(other)), RelationRole::table);
    if (other_mode && !subsumes(*mode, *other_mode)) mode = *other_mode;
  }
  TableState* table = mode ? find_state(step.table) : nullptr;
  const bool created = std::find(transaction->created.begin(), transaction->created.end(), step.table) != transaction->created.end();
  const TimeUs busy = statement_cost_us(costs_, kind, table == nullptr ? 0 : work_rows(step, table->data));
  auto next = [this, transaction] { transaction_step(transaction); };
  if (table == nullptr || created) {  // no lock, a table the block created, or a missing one (found at commit)
    run_migration_statement(busy, next);
    return;
  }
  for (auto it = transaction->held.begin(); it != transaction->held.end(); ++it) {
    if (it->table != table) continue;
    if (subsumes(it->mode, *mode)) {
      run_migration_statement(busy, next);
      return;
    }
    // A stronger mode on a table the block holds: the simulator's lock queue has no owners, so
    // the weaker lock is let go and the stronger one asked for (PostgreSQL upgrades in place).
    table->lock.release(it->lock);
    transaction->held.erase(it);
    break;
  }
  table->ddl_in_queue = fmt::format("{} {}", ddl_sql(step.kind), step.column);
  with_table_lock(
      *table, *mode, transaction->wait_limit_us,
      [this, transaction, table, mode = *mode, busy, next](std::uint64_t lock) {
        transaction->held.push_back(SqlTransaction::Held{table, lock, mode});
        if (transaction->ended) return end_transaction(transaction, Status::ok());  // releases the late grant
        run_migration_statement(busy, next);
      },
      [this, transaction] {
        kernel_.probe(Probe::ddl_timed_out_behind_transaction);
        end_transaction(transaction, Status::timeout("canceling statement due to lock timeout"));
      });
}

// COMMIT (every step's effect, in order) or ROLLBACK (none); the block's locks released.
void SimDatabase::end_transaction(const std::shared_ptr<SqlTransaction>& transaction, Status status) {
  for (const SqlTransaction::Held& held : transaction->held) held.table->lock.release(held.lock);
  transaction->held.clear();
  if (transaction->ended) return;
  transaction->ended = true;
  const DdlStatement& statement = transaction->statement;
  if (status.is_ok() && client_gone(transaction->client_alive, transaction->respond)) return;
  if (status.is_ok()) {
    const std::string detail = fmt::format("{}: transaction of {} statements ({}:{})", statement.purpose, statement.steps.size(),
                                           statement.file, statement.line);
    if (!admit(transaction->fence, WriteKind::ddl, transaction->actor, detail)) {
      transaction->respond(Status::stale_token(fmt::format("token {} < {}", transaction->fence.token, highest_token_)));
      return;
    }
    for (const DdlStatement& step : statement.steps) apply_committed(step);
  }
  transaction->respond(status);
}

Status SimDatabase::transaction_error(const DdlStatement& transaction) const {
  std::map<std::string, Table> scratch;
  for (const auto& [name, table] : tables_) {
    for (const DdlStatement& step : transaction.steps) {
      if (step.table == name) scratch.emplace(name, table.data);
    }
  }
  for (const DdlStatement& step : transaction.steps) {
    const auto found = scratch.find(step.table);
    switch (step.kind) {
      case DdlStatement::Kind::catalog: continue;
      case DdlStatement::Kind::create_table:
        if (found != scratch.end() && !step.if_exists) return Status::invalid(fmt::format("relation \"{}\" already exists", step.table));
        if (found == scratch.end()) scratch.emplace(step.table, Table::created(step));
        continue;
      default: break;
    }
    if (found == scratch.end()) {
      if (step.if_exists) continue;
      return Status::invalid(fmt::format("relation \"{}\" does not exist", step.table));
    }
    if (step.kind == DdlStatement::Kind::drop_table) {
      scratch.erase(found);
      continue;
    }
    if (step.kind == DdlStatement::Kind::rename_table) {
      Table moved = found->second;
      moved.set_name(step.to);
      scratch.erase(found);
      scratch.emplace(step.to, std::move(moved));
      continue;
    }
    if (std::string error = found->second.as_written_error(step); !error.empty()) return Status::invalid(error);
    if (std::string error = found->second.rewrite_error(step); !error.empty()) return Status::invalid(error);
    found->second.apply(step);
  }
  return Status::ok();
}

// One committed step of a block, as finish_ddl applies a statement of its own.
void SimDatabase::apply_committed(const DdlStatement& step) {
  if (step.kind == DdlStatement::Kind::catalog) return;
  if (step.kind == DdlStatement::Kind::create_table) {
    if (tables_.count(step.table) > 0) return;
    tables_[step.table].data = Table::created(step);
    replicate_tables(1, [step](Tables& tables) {
      if (tables.count(step.table) == 0) tables.emplace(step.table, Table::created(step));
    });
    return;
  }
  TableState* table = find_state(step.table);
  if (table == nullptr) return;  // IF EXISTS of a table that is not there
  if (step.kind == DdlStatement::Kind::drop_table || step.kind == DdlStatement::Kind::rename_table) {
    const Status changed = change_table_set(*table, step);
    REHEARSE_ASSERT(changed.is_ok());  // transaction_error tried it first
    return;
  }
  const std::int64_t shipped = replicated_rows(step, table->data);
  table->data.apply(step);
  if (step.kind != DdlStatement::Kind::dml) invalidate_sessions(*table);
  replicate(shipped, table->data.name(), [step](Table& copy) { copy.apply(step); });
}

// The table a foreign-key constraint of `table` references ("" when it has no such constraint).
std::string SimDatabase::referenced_table(const Table& table, const std::string& constraint) {
  for (const ConstraintSpec& spec : table.constraints()) {
    if (spec.name == constraint && spec.kind == ConstraintKind::foreign_key) return spec.ref_table;
  }
  return "";
}

// CREATE TABLE IF NOT EXISTS, its work done: the table added on the primary and shipped.
void SimDatabase::create_table(const DdlStatement& statement, const Fence& fence, const std::string& actor,
                               const Respond<Status>& respond) {
  if (!admit(fence, WriteKind::ddl, actor, fmt::format("{}: create table {}", statement.purpose, statement.table))) {
    respond(Status::stale_token(fmt::format("token {} < {}", fence.token, highest_token_)));
    return;
  }
  if (statement.as_written && !statement.if_exists && tables_.count(statement.table) > 0) {  // a SQL file's plain CREATE TABLE
    respond(Status::invalid(fmt::format("relation \"{}\" already exists", statement.table)));
    return;
  }
  if (tables_.count(statement.table) == 0) {  // IF NOT EXISTS: an existing table is left as it is
    tables_[statement.table].data = Table::created(statement);
    replicate_tables(1, [statement](Tables& tables) {
      if (tables.count(statement.table) == 0) tables.emplace(statement.table, Table::created(statement));
    });
  }
  respond(Status::ok());
}

// DROP TABLE / RENAME TO, under the table's ACCESS EXCLUSIVE lock. The table's state keeps its
// address (work queued on it still finds it): a dropped table is kept aside, a renamed one is
// re-keyed.
Status SimDatabase::change_table_set(TableState& table, const DdlStatement& statement) {
  const std::string name = table.data.name();
  if (statement.kind == DdlStatement::Kind::rename_table && tables_.count(statement.to) > 0) {
    return Status::invalid(fmt::format("relation \"{}\" already exists", statement.to));
  }
  auto node = tables_.extract(name);
  REHEARSE_ASSERT(!node.empty() && &node.mapped() == &table);
  found_state_ = nullptr;  // the name no longer finds it
  if (statement.kind == DdlStatement::Kind::drop_table) {
    dropped_tables_.push_back(std::move(node));
    replicate_tables(1, [name](Tables& tables) { tables.erase(name); });
    return Status::ok();
  }
  node.key() = statement.to;
  node.mapped().data.set_name(statement.to);
  tables_.insert(std::move(node));
  if (name == first_table_) first_table_ = statement.to;
  replicate_tables(1, [name, to = statement.to](Tables& tables) {
    auto renamed = tables.extract(name);
    if (renamed.empty()) return;
    renamed.key() = to;
    renamed.mapped().set_name(to);
    tables.insert(std::move(renamed));
  });
  return Status::ok();
}

// The dual-write trigger is installed from the dual_write phase on, while a column it derives
// is still there (it fires on application writes and on the backfill's UPDATEs alike).
bool SimDatabase::trigger_installed(const TableState& table) const {
  if (!dual_write_) return false;
  return std::any_of(table.derived.begin(), table.derived.end(),
                     [&table](const DerivedColumn& d) { return table.data.column_index(d.column) >= 0; });
}

void SimDatabase::invalidate_sessions(TableState& table) {
  table.stale_write_sessions = kAppConnections;
  table.stale_read_sessions = kAppConnections;
}

TimeUs SimDatabase::reload_cost(int& stale_sessions) {
  if (stale_sessions <= 0) return 0;
  --stale_sessions;
  return us(costs_.catalog_reload_us);
}

TimeUs SimDatabase::write_session_cost(TableState& table) {
  if (table.trigger_cold_sessions > 0 && trigger_installed(table)) {
    --table.trigger_cold_sessions;
    if (table.stale_write_sessions > 0) --table.stale_write_sessions;
    return us(costs_.trigger_first_call_us);
  }
  return reload_cost(table.stale_write_sessions);
}

TimeUs SimDatabase::RowRange::reaches_us(std::int64_t id) const {
  const TimeUs paced = first_us + stalled_us + CostProfile::total_us(per_row_us, id - low);
  return walked_us < 0 ? paced : std::min(paced, walked_us);
}

bool SimDatabase::row_locked(const TableState& table, std::int64_t id) const {
  const TimeUs now = kernel_.now();
  return std::any_of(table.locked_rows.begin(), table.locked_rows.end(),
                     [id, now](const RowRange& r) { return id >= r.low && id <= r.high && now >= r.reaches_us(id); });
}

std::uint64_t SimDatabase::hold_app_row(TableState& table, std::int64_t row) {
  const std::uint64_t id = next_hold_id_++;
  table.app_row_holds.push_back(AppRowHold{id, row, kernel_.now()});
  return id;
}

bool SimDatabase::walk_blocked(const TableState& table, const RowRange& range) const {
  return std::any_of(table.app_row_holds.begin(), table.app_row_holds.end(), [&range](const AppRowHold& hold) {
    return hold.row >= range.low && hold.row <= range.high && hold.since_us < range.reaches_us(hold.row);
  });
}

void SimDatabase::release_app_row(TableState& table, std::uint64_t hold_id) {
  const auto it = std::find_if(table.app_row_holds.begin(), table.app_row_holds.end(),
                               [hold_id](const AppRowHold& hold) { return hold.id == hold_id; });
  if (it == table.app_row_holds.end()) return;  // the server crashed since: its locks died with it
  const AppRowHold hold = *it;
  table.app_row_holds.erase(it);
  const TimeUs now = kernel_.now();
  for (RowRange& range : table.locked_rows) {
    if (hold.row < range.low || hold.row > range.high) continue;
    const TimeUs reached = range.reaches_us(hold.row);
    if (hold.since_us >= reached || reached > now) continue;  // not reached while it was held
    kernel_.probe(Probe::backfill_waited_for_app_rows);
    if (range.walked_us < 0) {
      range.stalled_us += now - reached;  // the walk stood at the row until now
      continue;
    }
    // Its UPDATE stood at the row until now, then walked the rest of its rows.
    range.commit_at_us = std::max(range.commit_at_us, now + (range.walked_us - reached));
    if (range.commit == nullptr || walk_blocked(table, range)) continue;
    // Scheduled, not run: the commit releases the range, which must not happen inside this loop.
    Callback<void()> commit = std::move(range.commit);
    range.commit = nullptr;
    after_if_alive(range.commit_at_us - now, std::move(commit));
  }
}

void SimDatabase::finish_walk(TableState& table, std::uint64_t range_id, Callback<void()> commit) {
  const auto range = std::find_if(table.locked_rows.begin(), table.locked_rows.end(),
                                  [range_id](const RowRange& r) { return r.id == range_id; });
  REHEARSE_ASSERT(range != table.locked_rows.end());
  const TimeUs now = kernel_.now();
  range->walked_us = now;
  range->commit_at_us = now + range->stalled_us;
  if (walk_blocked(table, *range)) {
    range->commit = std::move(commit);  // release_app_row commits it
  } else if (range->commit_at_us == now) {
    commit();
  } else {
    after_if_alive(range->commit_at_us - now, std::move(commit));
  }
}

void SimDatabase::release_rows(TableState& table, std::uint64_t range_id) {
  std::erase_if(table.locked_rows, [range_id](const RowRange& r) { return r.id == range_id; });
  auto waiters = std::move(table.row_waiters);
  table.row_waiters.clear();
  for (auto& [row, resume] : waiters) {
    if (row_locked(table, row)) {
      table.row_waiters.emplace_back(row, std::move(resume));
    } else {
      after_if_alive(us(costs_.row_lock_hold_us), std::move(resume));  // the holder's COMMIT wakes the waiter
    }
  }
}

bool SimDatabase::reads_live_columns(const Table& table, const Expr& expr) {
  return std::all_of(expr.columns().begin(), expr.columns().end(),
                     [&table](const std::string& column) { return table.column_index(column) >= 0; });
}

const Table& SimDatabase::source_table(const TableState& table, BackfillSource source) const {
  if (source == BackfillSource::replica && !replicas_.empty()) {
    const Tables& tables = replayed(0).tables;
    auto it = tables.find(table.data.name());
    if (it != tables.end()) return it->second;
  }
  return table.data;
}

void SimDatabase::backfill(const BackfillBatch& batch, const Checkpoint& then, const Fence& fence,
                           const std::string& actor, Respond<Result<std::int64_t>> respond) {
  TableState* table = find_state(batch.table);
  if (table == nullptr) {
    after_if_alive(0, [respond, name = batch.table] { respond(Status::invalid(fmt::format("relation \"{}\" does not exist", name))); });
    return;
  }
  with_table_lock(
      *table, statement_lock(StatementKind::update), 0,
      [this, table, batch, then, fence, actor, respond](std::uint64_t lock) {
        const std::int64_t low = std::max<std::int64_t>(batch.low_id, 1);
        const std::int64_t high = std::min(batch.high_id, table->data.row_count());
        const std::int64_t touched = high >= low ? high - low + 1 : 0;
        const std::uint64_t range = next_range_id_++;
        const double per_row = costs_.update_per_row_us_at(touched) + (trigger_installed(*table) ? costs_.trigger_bypass_per_row_us : 0);
        // The batch's transaction besides its UPDATE (batch_overhead_us: the fence, the columns
        // read, the checkpoint, COMMIT) is charged before the UPDATE's rows, so no row lock is
        // held during it (live, the checkpoint and COMMIT come after, a few hundred us).
        // On a shared host the statement may run slower than this pace: its locks are then
        // taken early by the difference (a writer waits slightly more), not late.
        // The first batch through a new trigger compiles its function in the engine's session
        // (trigger_first_call_us: CREATE FUNCTION's validation left nothing the session reuses;
        // by hand, a point UPDATE there after the step took 3.5-4.2 ms against 0.1-0.5).
        const bool compiles = table->engine_trigger_cold && trigger_installed(*table);
        if (compiles) table->engine_trigger_cold = false;
        const TimeUs overhead = us(costs_.batch_overhead_us) + (compiles ? us(costs_.trigger_first_call_us) : 0);
        table->locked_rows.push_back(RowRange{range, low, high, kernel_.now() + overhead + us(costs_.statement_base_us), per_row});
        run_migration_statement(overhead + us(costs_.statement_base_us) + us(per_row, touched),
                                [this, table, batch, then, fence, actor, respond, range, lock, started = stream_start()] {
          finish_walk(*table, range, [this, table, batch, then, fence, actor, respond, range, lock, started] {
            release_rows(*table, range);
            table->lock.release(lock);
            commit_backfill(*table, batch, then, fence, actor, respond, started);
          });
        });
      },
      [] {});
}

void SimDatabase::commit_backfill(TableState& table, const BackfillBatch& batch, const Checkpoint& then, const Fence& fence,
                                  const std::string& actor, const Respond<Result<std::int64_t>>& respond,
                                  const StreamStart& streamed) {
  Table& primary = table.data;
  const Table& source = source_table(table, batch.source);
  struct Update {
    std::int64_t id;
    int column;
    Value value;
  };
  std::vector<Update> updates;
  // Each fill's column and its expression's columns, found once for the batch.
  std::vector<int> columns;
  std::vector<std::vector<int>> bound;
  for (const auto& fill : batch.fills) {
    columns.push_back(primary.column_index(fill.column));
    bound.push_back(source.bind(fill.up));
  }
  const std::int64_t high = std::min(batch.high_id, primary.row_count());
  for (std::int64_t id = std::max<std::int64_t>(batch.low_id, 1); id <= high; ++id) {
    for (std::size_t f = 0; f < batch.fills.size(); ++f) {
      const int column = columns[f];
      if (column < 0 || !source.has_row(id)) continue;
      const Value current = primary.cell(id, column);
      if (!batch.overwrite && !current.is_null()) continue;
      EvalResult computed = source.evaluate_bound(batch.fills[f].up, bound[f], id);
      if (!computed.ok) {  // the whole UPDATE fails, as in PostgreSQL
        respond(Status::invalid(fmt::format("row {}: {}", id, computed.error)));
        return;
      }
      if (!(computed.value == current)) updates.push_back(Update{id, column, std::move(computed.value)});
    }
  }
  if (!admit(fence, WriteKind::backfill, actor, fmt::format("backfill ids {}..{}", batch.low_id, batch.high_id),
             batch.low_id, batch.high_id)) {
    respond(Status::stale_token(fmt::format("token {} < {}", fence.token, highest_token_)));
    return;
  }
  // Each changed row's version before and after the batch: a replica still holding the version
  // before takes the primary's new one (shared, not copied); any other replica row gets the
  // same column writes.
  struct RowChange {
    Row before;
    Row after;
    std::size_t first = 0;  // its updates are updates[first, last)
    std::size_t last = 0;
  };
  std::vector<RowChange> changes;
  for (std::size_t i = 0; i < updates.size(); ++i) {
    const Update& u = updates[i];
    if (changes.empty() || updates[changes.back().first].id != u.id) {
      changes.push_back(RowChange{primary.version(u.id), Row(), i, i});
    }
    primary.set_cell(u.id, u.column, u.value);
    primary.set_writer(u.id, Writer::engine);
    changes.back().last = i + 1;
  }
  for (RowChange& change : changes) change.after = primary.version(updates[change.first].id);
  const auto updated = static_cast<std::int64_t>(updates.size());
  rows_backfilled_ += static_cast<std::int64_t>(changes.size());  // rows, not (row, column) cells
  replicate(updated, primary.name(),
            [updates = std::move(updates), changes = std::move(changes)](Table& copy) {
              for (const RowChange& change : changes) {
                const std::int64_t id = updates[change.first].id;
                if (!copy.has_row(id)) continue;
                if (copy.version(id).same_version(change.before)) {
                  copy.set_version(id, change.after);
                  continue;
                }
                for (std::size_t i = change.first; i < change.last; ++i) copy.set_cell(id, updates[i].column, updates[i].value);
              }
            },
            &streamed);
  store_checkpoint(then);  // committed in the same transaction as the batch
  respond(updated);
}

void SimDatabase::checksum(const BackfillBatch& window, Respond<Result<RangeChecksum>> respond) {
  TableState* table = find_state(window.table);
  if (table == nullptr) {
    after_if_alive(0, [respond, name = window.table] { respond(Status::invalid(fmt::format("relation \"{}\" does not exist", name))); });
    return;
  }
  with_table_lock(
      *table, statement_lock(StatementKind::select), 0,
      [this, table, window, respond](std::uint64_t lock) {
        const Table& primary = table->data;
        // Found once for the window: the fills still to check (contract may have dropped a
        // fill's input), their columns and their expressions' columns; the NOT NULL columns.
        struct Fill {
          const Expr* up;
          int column;
          std::vector<int> bound;
        };
        std::vector<Fill> fills;
        for (const auto& fill : window.fills) {
          if (reads_live_columns(primary, fill.up)) fills.push_back(Fill{&fill.up, primary.column_index(fill.column), primary.bind(fill.up)});
        }
        std::vector<int> not_null;
        for (const auto& column : window.not_null) {
          if (const int index = primary.column_index(column); index >= 0) not_null.push_back(index);
        }
        RangeChecksum sums;
        const std::int64_t high = std::min(window.high_id, primary.row_count());
        for (std::int64_t id = std::max<std::int64_t>(window.low_id, 1); id <= high; ++id) {
          ++sums.rows;
          bool row_matches = true;
          for (const Fill& fill : fills) {
            EvalResult evaluated = primary.evaluate_bound(*fill.up, fill.bound, id);
            const Value expected = evaluated.ok ? std::move(evaluated.value) : Value();
            const Value actual = fill.column < 0 ? Value() : primary.cell(id, fill.column);
            const bool equal = fill.column >= 0 && expected == actual;
            const std::uint64_t expected_hash = expected.hash();
            sums.expected += expected_hash;
            // Equal values of one kind hash alike (Value::hash): a matching cell is hashed once.
            sums.actual += equal && expected.kind() == actual.kind() ? expected_hash : actual.hash();
            if (!equal) row_matches = false;
          }
          for (const int index : not_null) {
            if (primary.cell(id, index).is_null()) ++sums.null_rows;
          }
          if (!row_matches) ++sums.mismatched_rows;
        }
        run_migration_statement(us(costs_.statement_base_us) + us(costs_.scan_per_row_us, sums.rows), [table, sums, respond, lock] {
          table->lock.release(lock);
          respond(sums);
        });
      },
      [] {});
}

KeyRange SimDatabase::key_range(const std::string& table) const {
  const std::int64_t rows = this->table(table).row_count();
  return KeyRange{1, rows};
}

Result<Checkpoint> SimDatabase::checkpoint(const CheckpointKey& key) const {
  auto it = checkpoints_.find(key.migration);
  if (it == checkpoints_.end()) return Checkpoint{};
  if (!(it->second.key == key)) return Status::conflict(checkpoint_conflict(key, it->second.key));
  return it->second;
}

// Keyed by the migration's name, as PostgreSQL's rehearse_checkpoint is; `since` moves when the
// state does.
void SimDatabase::store_checkpoint(const Checkpoint& checkpoint) {
  Checkpoint& stored = checkpoints_[checkpoint.key.migration];
  const bool moved = !stored.exists || stored.state != checkpoint.state;
  const std::string since = moved ? fmt::format("{} us of simulated time", kernel_.now()) : stored.since;
  stored = checkpoint;
  stored.exists = true;
  stored.since = since;
}

Status SimDatabase::write_checkpoint(const Checkpoint& checkpoint, const Fence& fence, const std::string& actor) {
  if (!admit(fence, WriteKind::checkpoint, actor, fmt::format("checkpoint {}", checkpoint.state))) {
    return Status::stale_token(fmt::format("token {} < {}", fence.token, highest_token_));
  }
  store_checkpoint(checkpoint);
  return Status::ok();
}

Status SimDatabase::set_flag(const std::string& flag, bool on, const Fence& fence, const std::string& actor) {
  REHEARSE_ASSERT(flag != "dual_write");  // set_dual_write: it takes the tables' locks
  if (!admit(fence, WriteKind::flag, actor, fmt::format("{} = {}", flag, on ? "on" : "off"))) {
    return Status::stale_token(fmt::format("token {} < {}", fence.token, highest_token_));
  }
  flags_[flag] = on;
  if (flag == "read_new") read_new_ = on;
  return Status::ok();
}

struct SimDatabase::DualWriteStep {
  bool on = false;
  std::vector<TableState*> tables;  // table states live as long as the database
  std::vector<std::uint64_t> locks;  // held, one per table taken so far
  bool function_created = false;     // the next table's function, before its trigger takes the lock
  Respond<Status> respond;
};

void SimDatabase::set_dual_write(bool on, const Fence& fence, const std::string& actor, Respond<Status> respond) {
  // Before the trigger's DDL: the fence, the flag row and the table's columns, small statements.
  const TimeUs before_us = CostProfile::total_us(costs_.lookup_us, 1);
  if (!admit(fence, WriteKind::flag, actor, fmt::format("dual_write = {}", on ? "on" : "off"))) {
    after_if_alive(before_us, [this, respond = std::move(respond), token = fence.token, highest = highest_token_] {
      respond(Status::stale_token(fmt::format("token {} < {}", token, highest)));
    });
    return;
  }
  auto step = std::make_shared<DualWriteStep>();
  step->on = on;
  step->respond = std::move(respond);
  for (auto& [name, table] : tables_) {
    // The first table is the one-table plan's, whose dual_write step runs with or without columns to derive.
    if (!table.derived.empty() || name == first_table_) step->tables.push_back(&table);
  }
  after_if_alive(before_us, [this, step] { dual_write_step(step); });
}

void SimDatabase::dual_write_step(const std::shared_ptr<DualWriteStep>& step) {
  const StatementKind kind = step->on ? StatementKind::create_trigger : StatementKind::drop_trigger;
  if (step->locks.size() < step->tables.size()) {
    // Creating the trigger is the engine's function, then its trigger (trigger_create_us in all).
    // CREATE OR REPLACE FUNCTION takes no lock on the table: PL/pgSQL is loaded and the body
    // compiled while writes pass. Only the CREATE OR REPLACE TRIGGER that follows takes the
    // table's lock, held to the commit (trigger_ddl_us, a part of trigger_create_us).
    const TimeUs ddl_us = std::min(us(costs_.trigger_ddl_us), us(costs_.trigger_create_us));
    if (step->on && !step->function_created) {
      step->function_created = true;
      run_migration_statement(us(costs_.trigger_create_us) - ddl_us, [this, step] { dual_write_step(step); });
      return;
    }
    TableState& table = *step->tables[step->locks.size()];
    const std::optional<LockMode> mode = lock_on(statement_model(kind), RelationRole::table);
    REHEARSE_ASSERT(mode.has_value());
    table.ddl_in_queue = step->on ? "CREATE TRIGGER" : "DROP TRIGGER";
    with_table_lock(
        table, *mode, 0,
        [this, step, kind, ddl_us](std::uint64_t lock) {
          step->locks.push_back(lock);
          step->function_created = false;
          const TimeUs cost = step->on ? ddl_us : statement_cost_us(costs_, kind, 0);
          run_migration_statement(cost, [this, step] { dual_write_step(step); });
        },
        [] {});  // no lock_timeout: never gives up
    return;
  }
  if (flag("dual_write") != step->on) {  // the trigger created or dropped on each migrated table
    for (TableState* table : step->tables) {
      invalidate_sessions(*table);
      table->trigger_cold_sessions = step->on ? kAppConnections : 0;
      table->engine_trigger_cold = step->on;
    }
  }
  flags_["dual_write"] = step->on;
  dual_write_ = step->on;
  for (std::size_t i = 0; i < step->tables.size(); ++i) step->tables[i]->lock.release(step->locks[i]);
  step->respond(Status::ok());
}

bool SimDatabase::flag(const std::string& flag) const {
  auto it = flags_.find(flag);
  return it != flags_.end() && it->second;
}

std::string SimDatabase::table_lock_obstruction(const TableState& table, LockMode mode) const {
  const std::optional<LockMode> held = table.lock.conflicting_holder(mode);
  const std::optional<LockMode> queued = table.lock.conflicting_waiter(mode);
  if (!held && !queued) return "";
  const std::string ddl = table.ddl_in_queue.empty() ? std::string("DDL") : table.ddl_in_queue;
  // The table is named only when the database has several: one-table messages stay as they were.
  const std::string on = tables_.size() > 1 ? " on " + table.data.name() : "";
  return fmt::format("on the {} lock{} {} by the migration's {} in {}{}", sql_name(held ? *held : *queued), on,
                     held ? "held" : "queued", ddl, region_,
                     !held && table.long_transactions > 0 ? " (itself waiting behind a long transaction)" : "");
}

void SimDatabase::app_table_lock(TableState& table, StatementKind kind, Callback<void(std::uint64_t lock)> work,
                                 const std::shared_ptr<MigrationWaits>& waits) {
  const LockMode mode = statement_lock(kind);
  if (waits != nullptr && node_.up()) {
    std::string obstruction = table_lock_obstruction(table, mode);
    if (!obstruction.empty()) {
      waits->begin(kernel_.now(), std::move(obstruction));
      work = [this, waits, work = std::move(work)](std::uint64_t lock) {
        waits->end(kernel_.now());
        work(lock);
      };
    }
  }
  with_table_lock(table, mode, 0, std::move(work), [] {});
}

LockMode SimDatabase::statement_lock(StatementKind kind) {
  const std::optional<LockMode> mode = lock_on(statement_model(kind), RelationRole::table);
  REHEARSE_ASSERT(mode.has_value());
  return *mode;
}

void SimDatabase::app_write(const AppWrite& write, Respond<AppWriteResult> respond, std::shared_ptr<MigrationWaits> waits) {
  app_write(std::make_shared<const AppWrite>(write), std::move(respond), std::move(waits));
}

// The write is shared, never copied, and `respond` moves from stage to stage: each runs once.
void SimDatabase::app_write(std::shared_ptr<const AppWrite> write, Respond<AppWriteResult> respond,
                            std::shared_ptr<MigrationWaits> waits) {
  TableState* table = find_state(write->table);
  if (table == nullptr) {  // a table dropped (or not created yet) under the application
    after_if_alive(0, [respond = std::move(respond), name = write->table] {
      respond(AppWriteResult{Status::invalid(fmt::format("relation \"{}\" does not exist", name)), 0, 0, {}});
    });
    return;
  }
  // An UPDATE of the row, or an INSERT: ROW EXCLUSIVE either way.
  app_table_lock(
      *table, StatementKind::update,
      [this, table, write = std::move(write), respond = std::move(respond), waits](std::uint64_t lock) mutable {
        const std::int64_t row_id = write->row_id;
        auto run = [this, table, write = std::move(write), respond = std::move(respond), waits, lock]() mutable {
          if (waits != nullptr) waits->end(kernel_.now());
          if (waits != nullptr && waits->past_deadline(kernel_.now())) {  // cancelled by its statement_timeout
            table->lock.release(lock);
            respond(AppWriteResult{Status::unavailable("canceling statement due to statement timeout"), 0, 0, {}});
            return;
          }
          const TimeUs cost = app_write_cost_us(*table, *write) + write_session_cost(*table);
          const std::uint64_t hold = write->row_id != 0 ? hold_app_row(*table, write->row_id) : 0;
          run_app_statement(cost, [this, table, write = std::move(write), respond = std::move(respond), lock, hold] {
            AppWriteResult result;
            apply_app_write(*table, *write, result);
            if (hold != 0) release_app_row(*table, hold);
            table->lock.release(lock);
            respond(std::move(result));
          });
        };
        if (row_id != 0 && row_locked(*table, row_id)) {
          kernel_.probe(Probe::app_write_waited_for_backfill_rows);
          if (waits != nullptr) {
            waits->begin(kernel_.now(), fmt::format("on row {} locked by a backfill batch of the migration in {}", row_id, region_));
          }
          table->row_waiters.emplace_back(row_id, std::move(run));  // waits for the backfill batch to commit
        } else {
          run();
        }
      },
      waits);
}

// A point UPDATE, or an INSERT when the row is new, plus the trigger's row while it is installed.
TimeUs SimDatabase::app_write_cost_us(const TableState& table, const AppWrite& write) const {
  const bool insert = write.row_id == 0 || !table.data.has_row(write.row_id);
  return us((insert ? costs_.app_insert_us() : costs_.app_write_us) + (trigger_installed(table) ? costs_.trigger_per_row_us : 0));
}

// Turns the application's intent into column writes: old code writes the original columns and
// the dual-write trigger derives the new ones; new code (while dual writing, or after
// contract) writes the new columns itself and, where `down` exists, the trigger derives the
// old column back from them.
void SimDatabase::apply_app_write(TableState& table, const AppWrite& write, AppWriteResult& result) {
  Table& primary = table.data;
  const bool dual_write = dual_write_;
  const bool new_code = write.new_code && (dual_write || read_new_);
  WriteBinding& binding = write_binding(table, write, dual_write, new_code);
  std::int64_t id = write.row_id;
  const bool inserted = id == 0 || !primary.has_row(id);
  if (inserted) {
    // A slot for every column the table has, each NULL (as a shorter row reads past its end):
    // the write's cells then go in place, not through a copy of the row per cell.
    Row fresh;
    const std::size_t slots = primary.columns().size() - 1;  // all but the implicit id
    if (slots > 0) fresh.set(slots - 1, Value());
    fresh.set_writer(Writer::old_code);
    id = primary.insert(std::move(fresh));
  }
  // The cells the write sets, by name and index; read back from the committed row unless one
  // is set again below (then `result.written.fallback` keeps the values as written).
  SetCells set_cells;
  bool wrote_null = false;
  WrittenCells& written = result.written;
  // Before a cell the write set is set again, its values as written are kept apart.
  auto keep_written = [&] {
    if (written.has_fallback) return;
    for (std::size_t i = 0; i < set_cells.size; ++i) {
      written.fallback[set_cells.cells[i].first] = primary.cell(id, set_cells.cells[i].second);
    }
    written.has_fallback = true;
  };
  // REQUIRES: index > 0 (the column `column`'s).
  auto set = [&](const std::string& column, int index, Value value) {
    wrote_null = wrote_null || value.is_null();
    if (!set_cells.contains(index) && !set_cells.add(column, index)) keep_written();  // more than it holds
    if (written.has_fallback) written.fallback[column] = value;
    primary.set_cell(id, index, std::move(value));
  };
  auto set_again = [&](int index, Value value) {
    if (set_cells.contains(index)) keep_written();
    primary.set_cell(id, index, std::move(value));
  };
  auto logical = write.logical.begin();
  for (std::size_t i = 0; i < binding.sets.size(); ++i, ++logical) {
    if (binding.sets[i] > 0) set(logical->first, binding.sets[i], logical->second);
  }
  for (const WriteBinding::Step& step : binding.steps) {
    if (step.computed) {  // new code writes the new version itself
      if (step.index > 0) {
        EvalResult computed = primary.evaluate_with_bound(step.derived->up, step.up_bound, id, write.logical);
        set(*step.target, step.index, computed.ok ? std::move(computed.value) : Value());
      }
      if (step.down_index > 0) set_again(step.down_index, primary.evaluate_on(step.derived->down, id));  // trigger
    } else {
      set_again(step.index, primary.evaluate_on(step.derived->up, id));  // the trigger
    }
  }
  if (inserted) {
    if (wrote_null) keep_written();  // a DEFAULT may fill a NULL the write set
    primary.fill_defaults(id);       // the DEFAULTs of the columns it leaves out
  }
  primary.set_writer(id, new_code ? Writer::new_code : Writer::old_code);
  written.version = primary.version(id);
  if (!written.has_fallback) {
    // The cells set follow from the binding alone, so every such write sets the same ones.
    if (binding.written == nullptr) binding.written = written_columns(table, set_cells);
    written.columns = binding.written;
  }
  replicate_row(primary.name(), id, primary.version(id));
  result.row_id = id;
  result.order = ++commit_order_;
}

// Old code writes the original columns and the dual-write trigger derives the new ones; new
// code (while dual writing, or after contract) writes the new columns itself and, where `down`
// exists, the trigger derives the old column back from them.
SimDatabase::WriteBinding& SimDatabase::write_binding(TableState& table, const AppWrite& write, bool dual_write,
                                                     bool new_code) {
  const Table& primary = table.data;
  auto fits = [&](const WriteBinding& known) {
    if (known.layout_version != primary.layout_version() || known.derived_version != table.derived_version ||
        known.dual_write != dual_write || known.new_code != new_code || known.names.size() != write.logical.size()) {
      return false;
    }
    auto name = known.names.begin();
    for (const auto& entry : write.logical) {
      if (*name++ != entry.first) return false;
    }
    return true;
  };
  for (const auto& known : table.write_bindings) {
    if (fits(*known)) return *known;
  }
  // Bound under an older layout (or derived columns, or trigger): never met again.
  std::erase_if(table.write_bindings, [&](const auto& known) {
    return known->layout_version != primary.layout_version() || known->derived_version != table.derived_version ||
           known->dual_write != dual_write;
  });
  auto made = std::make_unique<WriteBinding>();
  made->layout_version = primary.layout_version();
  made->derived_version = table.derived_version;
  made->dual_write = dual_write;
  made->new_code = new_code;
  const std::vector<DerivedColumn>& derived = table.derived;
  // New code writes an altered or renamed column's new version instead of the old one.
  auto replaced_by_new_code = [&](const std::string& column) {
    return new_code && std::any_of(derived.begin(), derived.end(), [&](const DerivedColumn& d) {
             return d.source == column;
           });
  };
  for (const auto& [column, value] : write.logical) {
    made->names.push_back(column);
    made->sets.push_back(replaced_by_new_code(column) ? 0 : std::max(0, primary.column_index(column)));
  }
  for (const DerivedColumn& d : derived) {
    // Before contract the new version lives in d.column; after it, under d.final_name.
    const bool contracted = primary.column_index(d.column) < 0;
    const std::string& target = contracted ? d.final_name : d.column;
    const int index = primary.column_index(target);
    if (index < 0 || (contracted && d.final_name == d.column)) continue;
    WriteBinding::Step step;
    step.derived = &d;
    step.target = &target;
    step.index = index;
    if (new_code) {
      step.computed = true;
      step.up_bound = primary.bind_with(d.up, write.logical);
      if (!contracted && !d.down.empty()) step.down_index = std::max(0, primary.column_index(d.source));
    } else if (!dual_write || contracted) {
      continue;
    }
    made->steps.push_back(std::move(step));
  }
  table.write_bindings.push_back(std::move(made));
  return *table.write_bindings.back();
}

const WrittenColumns* SimDatabase::written_columns(TableState& table, SetCells& cells) {
  // Names are distinct: in name order (a handful of cells, so an insertion sort).
  auto* const begin = cells.cells.data();
  auto* const end = begin + cells.size;
  for (auto* at = begin; at != end; ++at) {
    for (auto* back = at; back != begin && back->first < std::prev(back)->first; --back) std::iter_swap(back, std::prev(back));
  }
  auto equal = [begin, end](const WrittenColumns* known) {
    return std::equal(known->columns.begin(), known->columns.end(), begin, end,
                      [](const auto& a, const auto& b) { return a.second == b.second && a.first == b.first; });
  };
  for (const WrittenColumns* known : table.written_columns) {  // a few: a layout and code path each
    if (equal(known)) return known;
  }
  WrittenColumns& made = written_columns_.emplace_back();
  for (auto* at = begin; at != end; ++at) made.columns.emplace_back(std::string(at->first), at->second);
  table.written_columns.push_back(&made);
  return &made;
}

ColumnValues WrittenCells::values() const {
  if (has_fallback) return fallback;
  ColumnValues values;
  if (columns == nullptr) return values;
  // In name order (written_columns): each is appended.
  for (const auto& [name, index] : columns->columns) values[name] = version[static_cast<std::size_t>(index - 1)];
  return values;
}

void SimDatabase::app_read(int replica, Respond<AppReadResult> respond, std::shared_ptr<MigrationWaits> waits,
                           const std::string& table_name) {
  TableState* table = find_state(table_name);
  if (table == nullptr) {
    after_if_alive(0, [respond, table_name] {
      respond(AppReadResult{Status::invalid(fmt::format("relation \"{}\" does not exist", table_name)), 0, 0});
    });
    return;
  }
  if (replica > 0 && replica <= replica_count()) {
    const TimeUs staleness = replica_lag(replica);
    const TimeUs without_faults = std::min(staleness, replica_lag_without_faults(replica));
    run_app_statement(us(costs_.app_read_us) + reload_cost(table->stale_read_sessions), [respond, staleness, without_faults] {
      respond(AppReadResult{Status::ok(), staleness, without_faults});
    });
    return;
  }
  app_table_lock(
      *table, StatementKind::select,
      [this, table, respond, waits](std::uint64_t lock) {
        if (waits != nullptr && waits->past_deadline(kernel_.now())) {  // cancelled by its statement_timeout
          table->lock.release(lock);
          respond(AppReadResult{Status::unavailable("canceling statement due to statement timeout"), 0, 0});
          return;
        }
        run_app_statement(us(costs_.app_read_us) + reload_cost(table->stale_read_sessions), [table, respond, lock] {
          table->lock.release(lock);
          respond(AppReadResult{Status::ok(), 0, 0});
        });
      },
      waits);
}

std::optional<SimDatabase::ReplicaReadQuote> SimDatabase::replica_read_at(int replica, TimeUs arrives_us,
                                                                          const std::string& table_name) {
  REHEARSE_ASSERT(replica > 0 && replica <= replica_count());
  REHEARSE_ASSERT(arrives_us >= kernel_.now());
  TableState* table = find_state(table_name);
  if (table == nullptr || cpu_host_ != nullptr) return std::nullopt;
  const TimeUs staleness = replica_lag_at(replica, arrives_us);
  const TimeUs without_faults = std::min(staleness, replica_lag_without_faults_at(replica, arrives_us));
  return ReplicaReadQuote{AppReadResult{Status::ok(), staleness, without_faults},
                          us(costs_.app_read_us) + reload_cost(table->stale_read_sessions)};
}

void SimDatabase::run_in_table_lock_queue(std::function<void()> work) {
  // An UPDATE of the lock's row: ROW EXCLUSIVE, like any write.
  TableState* found = find_state({});
  if (found == nullptr) {  // the first table was dropped: nothing left to queue behind
    after_if_alive(us(costs_.statement_base_us), std::move(work));
    return;
  }
  TableState& table = *found;
  with_table_lock(
      table, statement_lock(StatementKind::update), 0,
      [this, &table, work = std::move(work)](std::uint64_t lock) {
        after_if_alive(us(costs_.statement_base_us), [&table, work, lock] {
          table.lock.release(lock);
          work();
        });
      },
      [] {});
}

// The live fault's session runs LOCK TABLE ... IN ACCESS SHARE MODE: what a reader holds.
void SimDatabase::hold_table_lock(TimeUs duration_us, const std::string& table_name) {
  TableState* found = find_state(table_name);
  if (found == nullptr) return;  // dropped by the migration: no table to hold
  TableState& table = *found;
  with_table_lock(
      table, statement_lock(StatementKind::select), 0,
      [this, &table, duration_us](std::uint64_t lock) {
        ++table.long_transactions;
        after_if_alive(duration_us, [&table, lock] {
          --table.long_transactions;
          table.lock.release(lock);
        });
      },
      [] {});
}

void SimDatabase::add_replication_lag(TimeUs extra_us, TimeUs until_us) {
  extra_lag_us_ = extra_us;
  extra_lag_until_us_ = until_us;
}

void SimDatabase::add_replica_lag(int replica, TimeUs extra_us, TimeUs until_us) {
  REHEARSE_ASSERT(replica >= 1 && replica <= replica_count());
  Replica& target = replicas_[static_cast<std::size_t>(replica - 1)];
  target.extra_lag_us = extra_us;
  target.extra_lag_until_us = until_us;
}

void SimDatabase::cut_replica(int replica, TimeUs until_us) {
  REHEARSE_ASSERT(replica >= 1 && replica <= replica_count());
  Replica& target = replicas_[static_cast<std::size_t>(replica - 1)];
  target.cut_until_us = std::max(target.cut_until_us, until_us);
}

void SimDatabase::set_replica_transit(const std::vector<DurationRange>& transit) {
  REHEARSE_ASSERT(transit.size() == replicas_.size());
  for (std::size_t r = 0; r < replicas_.size(); ++r) {
    REHEARSE_ASSERT(transit[r].low_us >= 0 && transit[r].low_us <= transit[r].high_us);
    replicas_[r].transit = transit[r];
  }
}

void SimDatabase::on_crash() {
  last_crash_us_ = kernel_.now();
  for (auto& [name, table] : tables_) {
    table.lock = TableLock();  // every session's locks die with the server
    table.long_transactions = 0;
    table.locked_rows.clear();
    table.row_waiters.clear();
    table.app_row_holds.clear();
    invalidate_sessions(table);  // the application reconnects: new sessions, cold caches
    // and new sessions compile the trigger's function again on their first call through it
    table.trigger_cold_sessions = kAppConnections;
    table.engine_trigger_cold = true;
  }
}

}  // namespace rehearse::sim
