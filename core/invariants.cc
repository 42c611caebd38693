// The invariant checkers of invariants.h: data-consistency, no-lost-writes, schema-convergence,
// validate-before-contract, availability, replica-staleness and liveness, and check_all().
#include "core/invariants.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/duration.h"
#include "core/region_state.h"

namespace rehearse {

namespace {

// ---- Shared helpers -------------------------------------------------------------------------

std::string primary_node(const std::string& region) { return "db:" + region; }

bool is_replica(const std::string& node) { return node.find("/replica-") != std::string::npos; }

// A region's final state as observed; nullopt when none was, or its text is no region state.
std::optional<RegionState> observed_state(const Observations& observations, const std::string& region) {
  auto found = observations.final_states.find(region);
  if (found == observations.final_states.end()) return std::nullopt;
  return parse_region_state(found->second);
}

// The first problem found in something, and how many there were in all.
struct Findings {
  std::string first;
  std::size_t count = 0;
  std::vector<std::uint64_t> events;  // the events proving the first one
  void add(std::string description) {
    if (count++ == 0) first = std::move(description);
  }
  // The first problem, with ", and N more NOUNs" when there were others.
  std::string summary(const char* noun) const {
    if (count <= 1) return first;
    return fmt::format("{}, and {} more {}{}", first, count - 1, noun, count == 2 ? "" : "s");
  }
};

// The cell at `index` of `row`, or nullptr when there is none.
const Value* cell(const std::vector<Value>& row, int index) {
  if (index < 0 || static_cast<std::size_t>(index) >= row.size()) return nullptr;
  return &row[static_cast<std::size_t>(index)];
}

// The row's id as text (its position when the table has no `id` column).
std::string row_label(const TableImage& table, std::size_t row) {
  const int id = table.column_index("id");
  return id >= 0 ? table.at(row, id).to_string() : fmt::format("#{}", row);
}

bool has_all_columns(const TableImage& table, const Expr& expr) {
  return std::all_of(expr.columns().begin(), expr.columns().end(),
                     [&table](const std::string& column) { return table.column_index(column) >= 0; });
}

// Per-key violations listed in topology order, then any other keys in name order.
std::vector<Violation> in_region_order(const Observations& observations, std::map<std::string, Violation> by_region) {
  std::vector<Violation> ordered;
  for (const std::string& region : observations.regions) {
    auto found = by_region.find(region);
    if (found == by_region.end()) continue;
    ordered.push_back(std::move(found->second));
    by_region.erase(found);
  }
  for (auto& [region, violation] : by_region) ordered.push_back(std::move(violation));
  return ordered;
}

// When the run ended: the latest end snapshot, else the time limit.
TimeUs end_time(const Observations& observations) {
  TimeUs latest = -1;
  for (const TableSnapshot& snapshot : observations.snapshots) {
    if (snapshot.moment == "end") latest = std::max(latest, snapshot.time_us);
  }
  return latest >= 0 ? latest : observations.duration_us;
}

// The end snapshots' events (the tables as the run left them): the evidence for judgements of
// the final state.
std::vector<std::uint64_t> end_snapshot_events(const Observations& observations) {
  std::vector<std::uint64_t> events;
  for (const TableSnapshot& snapshot : observations.snapshots) {
    if (snapshot.moment == "end" && std::find(events.begin(), events.end(), snapshot.event) == events.end()) {
      events.push_back(snapshot.event);
    }
  }
  return events;
}

// Every region with its final state: "us-east-1 contracted, eu-west-1 rolled_back".
std::string describe_states(const Observations& observations) {
  std::string text;
  auto append = [&text](const std::string& region, const std::string& state) {
    text += fmt::format("{}{} {}", text.empty() ? "" : ", ", region, state.empty() ? "pending" : state);
  };
  for (const std::string& region : observations.regions) {
    auto found = observations.final_states.find(region);
    append(region, found == observations.final_states.end() ? "" : found->second);
  }
  for (const auto& [region, state] : observations.final_states) {
    if (std::find(observations.regions.begin(), observations.regions.end(), region) == observations.regions.end()) {
      append(region, state);
    }
  }
  return text;
}

// ---- data-consistency -----------------------------------------------------------------------

// Where one derived column's check applies in a snapshot: the column holding the new value,
// the old column, and whether up / down can be judged with the columns present.
struct DerivedPlacement {
  const DerivedColumn* derived = nullptr;
  int target = -1;
  int source = -1;
  bool check_up = false;
  bool check_down = false;
  // The columns of up and of down (Expr::columns(), in order) as the table's column indexes.
  std::vector<int> up_columns;
  std::vector<int> down_columns;
};

// One row of a table image read in place: a cell by column index (nullptr where there is none),
// without copying the row's values.
class RowView {
 public:
  RowView(const TableImage& table, std::size_t row)
      : table_(table), stored_(table.rows[row]), id_(Value::integer(static_cast<std::int64_t>(row) + 1)) {}
  const Value* at(int column) const {
    if (column < 0 || static_cast<std::size_t>(column) >= table_.columns.size()) return nullptr;
    if (static_cast<std::size_t>(column) >= table_.slots.size()) return &null_;
    const int slot = table_.slots[static_cast<std::size_t>(column)];
    return slot == TableImage::kRowPosition ? &id_ : &stored_[static_cast<std::size_t>(slot)];
  }
  // `expr` over this row, its columns bound beforehand (`columns`: their indexes, in order).
  EvalResult evaluate_bound(const Expr& expr, const std::vector<int>& columns) const {
    REHEARSE_ASSERT(columns.size() == expr.columns().size());
    BoundColumns values(columns.size());
    for (std::size_t i = 0; i < columns.size(); ++i) values.data()[i] = at(columns[i]);
    return evaluate(expr, values.data(), [this](const std::string& column) { return at(table_.column_index(column)); });
  }

 private:
  const TableImage& table_;
  const Row& stored_;
  const Value id_;
  const Value null_;
};

std::vector<int> column_indexes(const TableImage& table, const Expr& expr) {
  std::vector<int> indexes;
  for (const std::string& column : expr.columns()) indexes.push_back(table.column_index(column));
  return indexes;
}

// Whether `name` in `table` now holds the new version of a column an alter_column rewrote (its
// contract dropped the old column and renamed the new one to the old name): `up` is over the old
// row, so a value under that name is not what `up` reads.
bool holds_rewritten_column(const std::vector<DerivedColumn>& all, const TableImage& table, const std::string& name) {
  for (const DerivedColumn& other : all) {
    if (other.source == name && other.final_name == name && table.column_index(other.column) < 0) return true;
  }
  return false;
}

DerivedPlacement place(const DerivedColumn& derived, const TableImage& table, const std::vector<DerivedColumn>& all) {
  DerivedPlacement placement;
  placement.derived = &derived;
  const bool both_exist = table.column_index(derived.column) >= 0;
  const std::string& target_name = both_exist ? derived.column : derived.final_name;
  placement.target = table.column_index(target_name);
  if (placement.target < 0) return placement;
  const auto& reads = derived.up.columns();
  // A column up reads that carries the target's own name is the new column (after contract) or
  // the old one (after rollback): either way up(row) cannot be judged from this row.
  placement.check_up = !derived.up.empty() && has_all_columns(table, derived.up) &&
                       std::find(reads.begin(), reads.end(), target_name) == reads.end() &&
                       std::none_of(reads.begin(), reads.end(), [&](const std::string& read) {
                         return holds_rewritten_column(all, table, read);
                       });
  if (!derived.source.empty() && derived.source != target_name) placement.source = table.column_index(derived.source);
  placement.check_down = !derived.down.empty() && placement.source >= 0 && has_all_columns(table, derived.down);
  if (placement.check_up) placement.up_columns = column_indexes(table, derived.up);
  if (placement.check_down) placement.down_columns = column_indexes(table, derived.down);
  return placement;
}

// The problem with one row under one derived column, if any.
std::optional<std::string> derived_problem(const TableImage& table, std::size_t row, const RowView& values,
                                           const DerivedPlacement& placement) {
  const Writer writer = table.writer(row);
  const bool new_code = writer == Writer::new_code;
  if (new_code ? !placement.check_down : !placement.check_up) return std::nullopt;
  const DerivedColumn& derived = *placement.derived;
  const EvalResult expected = new_code ? values.evaluate_bound(derived.down, placement.down_columns)
                                       : values.evaluate_bound(derived.up, placement.up_columns);
  const int index = new_code ? placement.source : placement.target;
  const Value* actual = values.at(index);
  if (!expected.ok || actual == nullptr || *actual == expected.value) return std::nullopt;
  const std::string& column = table.columns[static_cast<std::size_t>(index)];
  if (new_code) {
    return fmt::format("row {} column {} holds {} but down of the new-code row gives {}", row_label(table, row), column,
                       actual->to_string(), expected.value.to_string());
  }
  return fmt::format("row {} column {} holds {} but up(row) gives {}{}", row_label(table, row), column,
                     actual->to_string(), expected.value.to_string(), actual->is_null() ? " (not backfilled)" : "");
}

// What check_derived_columns found per row version, for the later snapshots of one table: a
// row version (Row::version) at a position (which implicit ids read) judged once is not judged
// again. Kept per judgement key (judgement_key): the node, and what else the judgement depends on.
struct DerivedMemo {
  struct Judged {  // 16 bytes: a table's worth is read per snapshot
    const void* version = nullptr;
    std::uint32_t problem = 0;  // 1 + its index in `problems`; 0: none
    bool judged = false;
  };
  std::map<std::string, std::vector<Judged>> by_key;  // judgement key -> by row position
  std::vector<std::string> problems;
};

// What a row's judgement depends on besides its version: the node and table (row positions are
// one node's: nodes' snapshots interleave in time), each placement's derived
// column and checks, and the name and storage slot of every cell it reads or names (the id, the
// target, the source, the columns up and down read). A column dropped elsewhere in the row
// changes the table's layout but not this key, so the rows contract left alone are not judged
// again at the end.
std::string judgement_key(const Observations& observations, const TableSnapshot& snapshot,
                          const std::vector<DerivedPlacement>& placements) {
  const TableImage& table = snapshot.table;
  std::string key = snapshot.node + "/" + snapshot.table_name;
  const auto add_cell = [&](const std::string& name, int index) {
    const int slot = index < 0 ? -2 : table.slots[static_cast<std::size_t>(index)];
    fmt::format_to(std::back_inserter(key), ",{}@{}", name, slot);
  };
  add_cell("id", table.column_index("id"));
  for (const DerivedPlacement& placement : placements) {
    fmt::format_to(std::back_inserter(key), "|{}:{}{}", placement.derived - observations.derived.data(),
                   placement.check_up ? "u" : "", placement.check_down ? "d" : "");
    for (const int index : {placement.target, placement.source}) {
      add_cell(index < 0 ? "" : table.columns[static_cast<std::size_t>(index)], index);
    }
    for (const Expr* expr : {&placement.derived->up, &placement.derived->down}) {
      for (const std::string& column : expr->columns()) add_cell(column, table.column_index(column));
    }
  }
  return key;
}

// Every derived column checked on every row of `snapshot`; at most one problem per row.
Findings check_derived_columns(const Observations& observations, const TableSnapshot& snapshot,
                               DerivedMemo* memo = nullptr) {
  std::vector<DerivedPlacement> placements;
  for (const DerivedColumn& derived : observations.derived) {
    if (derived.table != snapshot.table_name) continue;  // another table's column
    DerivedPlacement placement = place(derived, snapshot.table, observations.derived);
    if (placement.check_up || placement.check_down) placements.push_back(placement);
  }
  Findings findings;
  findings.events = {snapshot.event};
  if (placements.empty()) return findings;
  std::vector<DerivedMemo::Judged>* judged =
      memo != nullptr ? &memo->by_key[judgement_key(observations, snapshot, placements)] : nullptr;
  if (judged != nullptr && judged->size() < snapshot.table.row_count()) judged->resize(snapshot.table.row_count());
  for (std::size_t row = 0; row < snapshot.table.row_count(); ++row) {
    DerivedMemo::Judged* known = judged != nullptr ? &(*judged)[row] : nullptr;
    const void* version = snapshot.table.rows[row].version();
    if (known != nullptr && known->judged && known->version == version) {
      if (known->problem != 0) findings.add(memo->problems[known->problem - 1]);
      continue;
    }
    if (known != nullptr) *known = DerivedMemo::Judged{version, 0, true};
    const RowView values(snapshot.table, row);
    for (const DerivedPlacement& placement : placements) {
      if (auto problem = derived_problem(snapshot.table, row, values, placement)) {
        if (known != nullptr) {
          memo->problems.push_back(*problem);
          known->problem = static_cast<std::uint32_t>(memo->problems.size());
        }
        findings.add(std::move(*problem));
        break;
      }
    }
  }
  return findings;
}

// The primary's snapshot of the replica's region and moment nearest in time, or nullptr.
const TableSnapshot* primary_of(const Observations& observations, const TableSnapshot& replica) {
  const TableSnapshot* best = nullptr;
  for (const TableSnapshot& snapshot : observations.snapshots) {
    if (snapshot.node != primary_node(replica.region) || snapshot.moment != replica.moment ||
        snapshot.table_name != replica.table_name) {
      continue;
    }
    if (best == nullptr || std::llabs(snapshot.time_us - replica.time_us) < std::llabs(best->time_us - replica.time_us)) {
      best = &snapshot;
    }
  }
  return best;
}

// The first column where two rows differ, or -1.
int first_difference(const std::vector<Value>& a, const std::vector<Value>& b) {
  for (std::size_t column = 0; column < std::max(a.size(), b.size()); ++column) {
    const Value* left = cell(a, static_cast<int>(column));
    const Value* right = cell(b, static_cast<int>(column));
    if (left == nullptr || right == nullptr || !(*left == *right)) return static_cast<int>(column);
  }
  return -1;
}

// Whether both tables have an id column holding the same integers row for row, strictly
// ascending: then matching rows by label (row_label) is matching them by position.
bool same_ids_in_order(const TableImage& a, const TableImage& b) {
  if (a.row_count() != b.row_count()) return false;
  const int a_id = a.column_index("id");
  const int b_id = b.column_index("id");
  if (a_id < 0 || b_id < 0) return false;
  std::int64_t previous = 0;
  for (std::size_t row = 0; row < a.row_count(); ++row) {
    const Value x = a.at(row, a_id);
    const Value y = b.at(row, b_id);
    if (x.kind() != Value::Kind::integer || y.kind() != Value::Kind::integer || x.as_int() != y.as_int()) return false;
    if (row > 0 && x.as_int() <= previous) return false;
    previous = x.as_int();
  }
  return true;
}

// The replica's table compared with its primary's, row by row (matched by id).
Findings compare_with_primary(const TableSnapshot& replica, const TableSnapshot& primary) {
  Findings findings;
  findings.events = {replica.event};
  if (primary.event != replica.event) findings.events.push_back(primary.event);
  const TableImage& mine = replica.table;
  const TableImage& theirs = primary.table;
  if (mine.columns != theirs.columns) {
    findings.add(fmt::format("replica has columns ({}) but its primary ({})", fmt::join(mine.columns, ", "),
                             fmt::join(theirs.columns, ", ")));
    return findings;
  }
  // The primary's row `row` against the replica's `replica_row`, which has the same label.
  const bool same_slots = mine.slots == theirs.slots;
  auto compare_row = [&](std::size_t replica_row, std::size_t row, auto label) {
    if (same_slots && mine.rows[replica_row].same_version(theirs.rows[row])) return;
    const std::vector<Value> held_values = mine.values(replica_row);
    const std::vector<Value> wanted_values = theirs.values(row);
    const int column = first_difference(held_values, wanted_values);
    if (column < 0) return;
    const Value* held = cell(held_values, column);
    const Value* wanted = cell(wanted_values, column);
    findings.add(fmt::format("replica differs from its primary at row {} column {} ({} instead of {})", label(),
                             theirs.columns[static_cast<std::size_t>(column)], held ? held->to_string() : "nothing",
                             wanted ? wanted->to_string() : "nothing"));
  };
  // The common case, in one pass: both hold the same integer ids, ascending, row for row (so
  // each label is unique and names the same row on both sides). Labels are spelled out only
  // for a finding.
  if (same_ids_in_order(mine, theirs)) {
    for (std::size_t row = 0; row < theirs.row_count(); ++row) {
      compare_row(row, row, [&] { return row_label(theirs, row); });
    }
    return findings;
  }
  std::map<std::string, std::size_t> replica_rows;
  for (std::size_t row = 0; row < mine.row_count(); ++row) replica_rows[row_label(mine, row)] = row;
  for (std::size_t row = 0; row < theirs.row_count(); ++row) {
    const std::string label = row_label(theirs, row);
    auto found = replica_rows.find(label);
    if (found == replica_rows.end()) {
      findings.add(fmt::format("replica lacks row {} of its primary", label));
      continue;
    }
    const std::size_t replica_row = found->second;
    replica_rows.erase(found);
    compare_row(replica_row, row, [&] { return label; });
  }
  for (const auto& [label, row] : replica_rows) findings.add(fmt::format("replica has row {} its primary lacks", label));
  return findings;
}

}  // namespace

std::size_t count_rows_off_plan(const Observations& observations, const TableSnapshot& snapshot) {
  return check_derived_columns(observations, snapshot).count;
}

std::vector<Violation> check_data_consistency(const Observations& observations) {
  std::vector<const TableSnapshot*> snapshots;
  for (const TableSnapshot& snapshot : observations.snapshots) snapshots.push_back(&snapshot);
  std::stable_sort(snapshots.begin(), snapshots.end(),
                   [](const TableSnapshot* a, const TableSnapshot* b) { return a->time_us < b->time_us; });
  std::set<std::string> reported;
  std::vector<Violation> violations;
  DerivedMemo memo;  // the primary's snapshots share most row versions from one moment to the next
  for (const TableSnapshot* snapshot : snapshots) {
    if (reported.count(snapshot->node + "/" + snapshot->table_name) > 0) continue;
    const bool replica = is_replica(snapshot->node);
    if (replica && !snapshot->drained) continue;  // still catching up: nothing to judge yet
    const TableSnapshot* primary = replica ? primary_of(observations, *snapshot) : nullptr;
    const Findings findings = primary != nullptr ? compare_with_primary(*snapshot, *primary)
                                                 : check_derived_columns(observations, *snapshot, &memo);
    if (findings.count == 0) continue;
    reported.insert(snapshot->node + "/" + snapshot->table_name);
    const char* noun = primary != nullptr ? "difference" : "row";
    const std::string where = snapshot->table_name.empty() ? snapshot->node : snapshot->node + " table " + snapshot->table_name;
    violations.push_back(Violation{"data-consistency", snapshot->time_us, snapshot->node,
                                   fmt::format("at {} in {}: {}", snapshot->moment, where, findings.summary(noun)),
                                   findings.events});
  }
  return violations;
}

namespace {

// ---- no-lost-writes -------------------------------------------------------------------------

// Groups of column names that derived columns tie together (new column, its final name, the
// old column and every column up and down read): a later write to any of them supersedes an
// earlier write to another.
class ColumnGroups {
 public:
  explicit ColumnGroups(const std::vector<DerivedColumn>& derived) {
    for (const DerivedColumn& column : derived) {
      join(column.column, column.final_name);
      if (!column.source.empty()) join(column.column, column.source);
      for (const std::string& read : column.up.columns()) join(column.column, read);
      for (const std::string& read : column.down.columns()) join(column.column, read);
    }
  }
  // The group's name (its root column): `column` itself when no derived column ties it.
  const std::string& group_of(const std::string& column) const {
    const std::string* current = &column;
    for (auto found = parent_.find(*current); found != parent_.end() && found->second != *current;
         found = parent_.find(*current)) {
      current = &found->second;
    }
    return *current;
  }

 private:
  void join(const std::string& a, const std::string& b) {
    const std::string root_a = group_of(a);
    const std::string root_b = group_of(b);
    if (root_a != root_b) parent_[root_a] = root_b;
  }
  std::map<std::string, std::string> parent_;
};

// The final primary snapshot of `table` in `region` (the latest at moment end), or nullptr.
const TableSnapshot* final_primary(const Observations& observations, const std::string& region, const std::string& table) {
  const TableSnapshot* latest = nullptr;
  for (const TableSnapshot& snapshot : observations.snapshots) {
    if (snapshot.moment != "end" || snapshot.node != primary_node(region) || snapshot.table_name != table) continue;
    if (latest == nullptr || snapshot.time_us >= latest->time_us) latest = &snapshot;
  }
  return latest;
}

// One acknowledged (column, value) judged against the final row of its region.
struct WrittenValue {
  const AcknowledgedWrite& write;
  const std::string& column;
  const Value& value;
  const TableImage& table;
  const RowView& row;
  int index = -1;  // the column's in the final table; -1 when it has none
  bool contracted = false;
};

// Looks columns up in the write first, then in the final row.
ColumnLookup write_lookup(const WrittenValue& written) {
  return [&written](const std::string& column) -> const Value* {
    auto found = written.write.values.find(column);
    if (found != written.write.values.end()) return &found->second;
    return written.row.at(written.table.column_index(column));
  };
}

std::string describe_write(const WrittenValue& written) {
  return fmt::format("row {}: the {} write of {} = {} acknowledged at {}", written.write.row_id,
                     written.write.new_code ? "new-code" : "old-code", written.column, written.value.to_string(),
                     duration_text(written.write.time_us, DurationStyle::compound));
}

// nullopt when final column `column` holds `expected`; else why the write is lost.
std::optional<std::string> expect_in(const WrittenValue& written, const std::string& column, const Value& expected,
                                     const char* how) {
  const Value* actual = written.row.at(&column == &written.column ? written.index : written.table.column_index(column));
  if (actual == nullptr) return fmt::format("{} is lost: column {} no longer exists", describe_write(written), column);
  if (*actual == expected) return std::nullopt;
  return fmt::format("{} is lost: {} holds {} where {} {} was expected", describe_write(written), column,
                     actual->to_string(), how, expected.to_string());
}

// The old column must carry an old-code write through up (after contract).
std::optional<std::string> through_up(const WrittenValue& written, const DerivedColumn& derived) {
  const EvalResult expected = evaluate(derived.up, write_lookup(written));
  if (!expected.ok) return std::nullopt;  // up fails on it: nothing to compare with
  return expect_in(written, derived.final_name, expected.value, "up(write) =");
}

// A new-code write to a column that was rolled back must survive in the old column through down.
std::optional<std::string> through_down(const WrittenValue& written, const DerivedColumn& derived) {
  if (derived.source.empty()) return std::nullopt;  // a new column without an old one: nothing keeps it
  if (derived.down.empty()) {
    const Value* old_value = written.row.at(written.table.column_index(derived.source));
    if (old_value != nullptr && *old_value == written.value) return std::nullopt;
    return fmt::format("{} is lost: {} was rolled back and no down expression carries it to {} (which holds {})",
                       describe_write(written), written.column, derived.source,
                       old_value ? old_value->to_string() : "nothing");
  }
  const EvalResult expected = evaluate(derived.down, write_lookup(written));
  if (!expected.ok) return std::nullopt;
  return expect_in(written, derived.source, expected.value, "down(write) =");
}

// What the derived columns make of a written column: the first derived column it is the new
// column of (not rewritten in place), and the first it is the old column of; nullptr for none.
struct DerivedRoles {
  const DerivedColumn* as_new = nullptr;
  const DerivedColumn* as_source = nullptr;
};

DerivedRoles derived_roles(const Observations& observations, const std::string& column) {
  DerivedRoles roles;
  for (const DerivedColumn& derived : observations.derived) {
    if (roles.as_new == nullptr && derived.column == column && derived.column != derived.source) roles.as_new = &derived;
    if (roles.as_source == nullptr && !derived.source.empty() && derived.source == column) roles.as_source = &derived;
  }
  return roles;
}

// Why one written (column, value) is not visible in the final row, if it is not. `roles`: the
// written column's (derived_roles).
std::optional<std::string> lost_value(const WrittenValue& written, const DerivedRoles& roles) {
  const bool present = written.index >= 0;
  if (const DerivedColumn* derived = roles.as_new) {
    if (present) return expect_in(written, written.column, written.value, "the written");
    if (written.contracted) return expect_in(written, derived->final_name, written.value, "the written");
    return through_down(written, *derived);
  }
  if (const DerivedColumn* derived = roles.as_source) {
    auto direct = present ? expect_in(written, written.column, written.value, "the written") : std::nullopt;
    // Once contracted, a write before contract survives through up; one after it, as written.
    if (present && (!written.contracted || !direct)) return direct;
    return through_up(written, *derived);
  }
  if (!present) return std::nullopt;  // a plainly dropped column need not survive
  return expect_in(written, written.column, written.value, "the written");
}

// A column group by number: groups numbered in the order of their names, so (row, group) pairs
// sort as (row, group name) would, without a string per key. With each column, what the judging
// of a value written to it needs: its index in the final table and its derived roles.
class GroupNumbers {
 public:
  struct Column {
    std::string name;
    int group = 0;
    int index = -1;  // in the final table; -1 when it has none
    DerivedRoles roles;
  };
  GroupNumbers(const ColumnGroups& groups, const Observations& observations, const TableImage& final_table)
      : groups_(groups), observations_(observations), final_table_(final_table) {}
  // `column`'s facts. Numbers are handed out as columns are met; ranks() ranks them by name
  // once every column was met. A table has a few columns: a short list beats a tree of strings
  // here (once per column of every acknowledged write), and the names rarely share a length.
  const Column& of(const std::string& column) {
    for (const Column& known : by_column_) {
      if (known.name == column) return known;
    }
    const std::string& group = groups_.group_of(column);
    auto [named, fresh] = by_group_.emplace(group, static_cast<int>(by_group_.size()));
    by_column_.push_back(Column{column, named->second, final_table_.column_index(column), derived_roles(observations_, column)});
    return by_column_.back();
  }
  int number_of(const std::string& column) { return of(column).group; }
  // Rank by group name of each number handed out.
  std::vector<int> ranks() const {
    std::vector<int> rank(by_group_.size());
    int next = 0;
    for (const auto& [name, number] : by_group_) rank[static_cast<std::size_t>(number)] = next++;
    return rank;
  }

 private:
  const ColumnGroups& groups_;
  const Observations& observations_;
  const TableImage& final_table_;
  std::deque<Column> by_column_;  // a deque: of() hands out references that outlive later columns
  std::map<std::string, int, std::less<>> by_group_;
};

// One acknowledged write's (row, column group) that no later write of the region superseded.
struct LastWrite {
  std::int64_t row_id = 0;
  int group_rank = 0;  // the group's rank by name
  int group = 0;       // its GroupNumbers number
  const AcknowledgedWrite* write = nullptr;
};

// The acknowledged writes of one (region, table): where they lie in Observations::acknowledged,
// in runs of neighbours (each server's writes come together), first to last.
using WriteRuns = std::vector<std::pair<std::size_t, std::size_t>>;  // [begin, end)

// The last acknowledged write per (row, column group) of one region's table, in (row, group)
// order: every (row, group, write) of its writes (`runs`) in one vector, sorted so each (row,
// group)'s latest write (the first met among equal orders) comes first.
std::vector<LastWrite> last_writes(const Observations& observations, GroupNumbers& numbers, const WriteRuns& runs) {
  std::vector<LastWrite> all;
  for (const auto& [begin, end] : runs) {
    for (std::size_t at = begin; at < end; ++at) {
      const AcknowledgedWrite& write = observations.acknowledged[at];
      for (const auto& [column, value] : write.values) {
        if (column == "id") continue;
        all.push_back(LastWrite{write.row_id, 0, numbers.number_of(column), &write});
      }
    }
  }
  const auto before = [](const LastWrite& a, const LastWrite& b) {
    if (a.row_id != b.row_id) return a.row_id < b.row_id;
    if (a.group != b.group) return a.group < b.group;
    return a.write->order > b.write->order;
  };
  // A server's writes come in row order, one per row: then only each row's few entries need
  // sorting (stably, by insertion); otherwise the whole vector.
  const auto by_row = [](const LastWrite& a, const LastWrite& b) { return a.row_id < b.row_id; };
  if (std::is_sorted(all.begin(), all.end(), by_row)) {
    for (std::size_t i = 1; i < all.size(); ++i) {
      for (std::size_t at = i; at > 0 && before(all[at], all[at - 1]); --at) std::swap(all[at], all[at - 1]);
    }
  } else {
    std::stable_sort(all.begin(), all.end(), before);
  }
  const std::vector<int> rank = numbers.ranks();
  std::vector<LastWrite> writes;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i > 0 && all[i].row_id == all[i - 1].row_id && all[i].group == all[i - 1].group) continue;
    writes.push_back(all[i]);
    writes.back().group_rank = rank[static_cast<std::size_t>(all[i].group)];
  }
  return writes;
}

// Apply order (ties in row, then group-name order): the order findings are reported in.
bool applied_before(const LastWrite& a, const LastWrite& b) {
  return std::tie(a.write->order, a.row_id, a.group_rank) < std::tie(b.write->order, b.row_id, b.group_rank);
}

// The final table's rows by id, for rows whose label is an integer's (row_label): ids from the
// id column, or the row's position where the table has none. Sorted by id; of rows with the
// same id, the last.
class RowsById {
 public:
  explicit RowsById(const TableImage& table) {
    const int id = table.column_index("id");
    if (id < 0) return;  // labelled "#N": no write's row id matches
    rows_.reserve(table.row_count());
    for (std::size_t row = 0; row < table.row_count(); ++row) {
      const Value value = table.at(row, id);
      if (value.kind() == Value::Kind::integer) {
        rows_.emplace_back(value.as_int(), row);
        continue;
      }
      const std::string label = value.to_string();  // a label that reads as an integer, exactly
      std::int64_t parsed = 0;
      const auto [end, error] = std::from_chars(label.data(), label.data() + label.size(), parsed);
      if (error == std::errc() && end == label.data() + label.size() && std::to_string(parsed) == label) {
        rows_.emplace_back(parsed, row);
      }
    }
    // Rows usually come in id order already: then there is nothing to sort.
    const auto by_id = [](const auto& a, const auto& b) { return a.first < b.first; };
    if (!std::is_sorted(rows_.begin(), rows_.end(), by_id)) std::stable_sort(rows_.begin(), rows_.end(), by_id);
  }
  // The row of `id`, or nullopt.
  std::optional<std::size_t> find(std::int64_t id) const {
    // Ids are nearly always dense from the first: then `id` sits at its offset from it, the last
    // of its id when the next holds another.
    if (!rows_.empty() && id >= rows_.front().first) {
      const auto guess = static_cast<std::uint64_t>(id - rows_.front().first);
      if (guess < rows_.size() && rows_[guess].first == id && (guess + 1 == rows_.size() || rows_[guess + 1].first != id)) {
        return rows_[guess].second;
      }
    }
    auto past = std::upper_bound(rows_.begin(), rows_.end(), id, [](std::int64_t key, const auto& row) { return key < row.first; });
    if (past == rows_.begin() || std::prev(past)->first != id) return std::nullopt;
    return std::prev(past)->second;
  }

 private:
  std::vector<std::pair<std::int64_t, std::size_t>> rows_;
};

// Lost writes of one region against its final primary snapshot.
Findings lost_writes_in(const Observations& observations, const std::string& region, const WriteRuns& runs,
                        const TableSnapshot& final_state) {
  const ColumnGroups groups(observations.derived);
  GroupNumbers numbers(groups, observations, final_state.table);
  const bool contracted = observed_state(observations, region) == RegionState::contracted;
  const RowsById rows(final_state.table);
  // The lost ones with why ("" when the row is gone), reported in apply order below.
  std::vector<std::pair<LastWrite, std::string>> lost;
  for (const LastWrite& last : last_writes(observations, numbers, runs)) {
    const AcknowledgedWrite* write = last.write;
    const std::optional<std::size_t> row = rows.find(write->row_id);
    if (!row) {
      lost.emplace_back(last, "");
      continue;
    }
    const RowView final_row(final_state.table, *row);
    for (const auto& [column, value] : write->values) {
      if (column == "id") continue;
      const GroupNumbers::Column& facts = numbers.of(column);
      if (facts.group != last.group) continue;
      const WrittenValue written{*write, column, value, final_state.table, final_row, facts.index, contracted};
      if (auto why = lost_value(written, facts.roles)) {
        lost.emplace_back(last, std::move(*why));
        break;  // one finding per (row, group)
      }
    }
  }
  std::sort(lost.begin(), lost.end(), [](const auto& a, const auto& b) { return applied_before(a.first, b.first); });
  std::set<std::int64_t> missing_reported;
  Findings findings;
  findings.events = {final_state.event};
  for (auto& [last, why] : lost) {
    const AcknowledgedWrite* write = last.write;
    if (!why.empty()) {
      findings.add(std::move(why));
    } else if (missing_reported.insert(write->row_id).second) {
      findings.add(fmt::format("row {} (written at {}) no longer exists", write->row_id,
                               duration_text(write->time_us, DurationStyle::compound)));
    }
  }
  return findings;
}

}  // namespace

std::vector<Violation> check_no_lost_writes(const Observations& observations) {
  std::map<std::pair<std::string, std::string>, WriteRuns> written;  // (region, table) -> its writes
  const std::vector<AcknowledgedWrite>& acknowledged = observations.acknowledged;
  for (std::size_t begin = 0; begin < acknowledged.size();) {  // writes come in runs of one region and table
    std::size_t end = begin + 1;
    while (end < acknowledged.size() && acknowledged[end].region == acknowledged[begin].region &&
           acknowledged[end].table == acknowledged[begin].table) {
      ++end;
    }
    written[{acknowledged[begin].region, acknowledged[begin].table}].emplace_back(begin, end);
    begin = end;
  }
  std::map<std::string, Violation> by_region;
  for (const auto& [key, runs] : written) {
    const auto& [region, table] = key;
    if (by_region.count(region) > 0) continue;  // one violation per region: its first table's
    const TableSnapshot* final_state = final_primary(observations, region, table);
    if (final_state == nullptr) continue;  // no final state recorded: nothing to judge against
    const Findings findings = lost_writes_in(observations, region, runs, *final_state);
    if (findings.count == 0) continue;
    const std::string where = table.empty() ? final_state->node : final_state->node + " table " + table;
    by_region[region] = Violation{"no-lost-writes", final_state->time_us, final_state->node,
                                  fmt::format("{} at the end: {}", where, findings.summary("write")),
                                  findings.events};
  }
  return in_region_order(observations, std::move(by_region));
}

namespace {

// ---- schema-convergence: each catalog against its region's recorded state ---------------------

// What `catalog` shows against what `claim` says it must, or "" when it agrees.
std::string catalog_disagreement(const TableCatalog& catalog, const SchemaClaim& claim) {
  std::vector<std::string> problems;
  for (const CatalogColumn& wanted : claim.present) {
    const CatalogColumn* found = catalog.column(wanted.name);
    if (found == nullptr) {
      problems.push_back(fmt::format("lacks column {} ({})", wanted.name, wanted.type));
    } else if (found->type != wanted.type) {
      problems.push_back(fmt::format("has column {} as {}, not {}", wanted.name, found->type, wanted.type));
    } else if (wanted.not_null && !found->not_null) {
      problems.push_back(fmt::format("has column {} nullable, not NOT NULL", wanted.name));
    }
  }
  for (const std::string& name : claim.absent) {
    if (catalog.column(name) != nullptr) problems.push_back(fmt::format("still has column {}", name));
  }
  auto has_index = [&catalog](const std::string& name) {
    return std::find(catalog.indexes.begin(), catalog.indexes.end(), name) != catalog.indexes.end();
  };
  for (const std::string& name : claim.indexes) {
    if (!has_index(name)) problems.push_back(fmt::format("lacks index {}", name));
  }
  for (const std::string& name : claim.absent_indexes) {
    if (has_index(name)) problems.push_back(fmt::format("still has index {}", name));
  }
  return fmt::format("{}", fmt::join(problems, ", "));
}

// Per region, the first end snapshot (primary, or a drained replica) whose catalog contradicts
// what the region's recorded state claims: `contracted` the plan's new schema, `rolled_back`
// the old one. States in between claim nothing this can judge.
std::vector<Violation> catalogs_against_states(const Observations& observations) {
  std::map<std::string, Violation> by_region;
  for (const TableSnapshot& snapshot : observations.snapshots) {
    if (snapshot.moment != "end" || !snapshot.catalog.known || !snapshot.drained || by_region.count(snapshot.region) > 0 ||
        !snapshot.table_name.empty()) {  // the claims are about the scenario's (first) table
      continue;
    }
    const std::optional<RegionState> state = observed_state(observations, snapshot.region);
    const SchemaClaim* claim = state == RegionState::contracted    ? &observations.contracted_schema
                               : state == RegionState::rolled_back ? &observations.old_schema
                                                                   : nullptr;
    if (claim == nullptr) continue;
    const std::string disagreement = catalog_disagreement(snapshot.catalog, *claim);
    if (disagreement.empty()) continue;
    by_region[snapshot.region] = Violation{
        "schema-convergence", snapshot.time_us, snapshot.node,
        fmt::format("{} is recorded {} but its catalog {}", snapshot.node, to_string(*state), disagreement), {snapshot.event}};
  }
  return in_region_order(observations, std::move(by_region));
}

// A catalog as text, for comparing two regions' copies of one table.
std::string describe_catalog(const TableCatalog& catalog) {
  std::vector<std::string> parts;
  for (const CatalogColumn& column : catalog.columns) {
    parts.push_back(fmt::format("{} {}{}", column.name, column.type, column.not_null ? " not null" : ""));
  }
  std::vector<std::string> indexes = catalog.indexes;
  std::vector<std::string> constraints = catalog.constraints;
  std::sort(indexes.begin(), indexes.end());
  std::sort(constraints.begin(), constraints.end());
  return fmt::format("columns ({}), indexes ({}), constraints ({})", fmt::join(parts, ", "), fmt::join(indexes, ", "),
                     fmt::join(constraints, ", "));
}

// Many tables: the plan's claims are about the scenario's first table; every other table must
// end the same in every region that finished the migration (`contracted`), on the primary and
// its drained replicas alike, and exist in all of them or in none.
std::vector<Violation> other_tables_agree(const Observations& observations) {
  auto contracted = [&observations](const std::string& region) {
    return observed_state(observations, region) == RegionState::contracted;
  };
  std::map<std::string, std::set<std::string>> tables_of;  // node -> its other tables at the end
  std::map<std::string, const TableSnapshot*> reference;   // table -> the first end snapshot of it
  std::map<std::string, std::string> region_of;            // node -> its region
  std::map<std::string, Violation> by_region;
  for (const TableSnapshot& snapshot : observations.snapshots) {
    if (snapshot.moment != "end" || !snapshot.catalog.known || !snapshot.drained || !contracted(snapshot.region)) continue;
    tables_of[snapshot.node];
    region_of[snapshot.node] = snapshot.region;
    if (snapshot.table_name.empty()) continue;
    tables_of[snapshot.node].insert(snapshot.table_name);
    const TableSnapshot*& first = reference[snapshot.table_name];
    if (first == nullptr) {
      first = &snapshot;
      continue;
    }
    const std::string mine = describe_catalog(snapshot.catalog);
    const std::string theirs = describe_catalog(first->catalog);
    if (mine == theirs || by_region.count(snapshot.region) > 0) continue;
    by_region[snapshot.region] = Violation{
        "schema-convergence", snapshot.time_us, snapshot.node,
        fmt::format("table {} in {} has {} but in {} {}", snapshot.table_name, snapshot.node, mine, first->node, theirs),
        {snapshot.event, first->event}};
  }
  for (const auto& [node, tables] : tables_of) {
    const auto& first = *tables_of.begin();
    if (tables == first.second) continue;
    const std::string& region = region_of[node];
    if (by_region.count(region) > 0) continue;
    by_region[region] = Violation{"schema-convergence", end_time(observations), node,
                                  fmt::format("{} ends with tables ({}) but {} with ({})", node, fmt::join(tables, ", "),
                                              first.first, fmt::join(first.second, ", ")),
                                  end_snapshot_events(observations)};
  }
  return in_region_order(observations, std::move(by_region));
}

}  // namespace

std::vector<Violation> check_schema_convergence(const Observations& observations) {
  std::vector<Violation> violations = catalogs_against_states(observations);  // judged even when time ran out
  for (Violation& violation : other_tables_agree(observations)) violations.push_back(std::move(violation));
  if (observations.time_ran_out) return violations;
  std::vector<std::string> regions = observations.regions;
  for (const auto& [region, state] : observations.final_states) {
    if (std::find(regions.begin(), regions.end(), region) == regions.end()) regions.push_back(region);
  }
  // 0: new schema, 1: old schema, 2: somewhere in between.
  auto schema_of = [&observations](const std::string& region) {
    auto found = observations.final_states.find(region);
    if (found == observations.final_states.end()) return 1;  // no state observed: pending
    const std::optional<RegionState> state = parse_region_state(found->second);
    if (state == RegionState::contracted) return 0;
    return state == RegionState::rolled_back || state == RegionState::pending ? 1 : 2;
  };
  for (const std::string& region : regions) {
    const int schema = schema_of(region);
    if (schema != 2 && schema == schema_of(regions.front())) continue;
    violations.push_back(Violation{"schema-convergence", end_time(observations), primary_node(region),
                                   fmt::format("regions ended on different schemas ({})", describe_states(observations)),
                                   end_snapshot_events(observations)});
    break;
  }
  return violations;
}

namespace {

// ---- validate-before-contract ---------------------------------------------------------------

bool is_contract_write(const Event& event) {
  return event.kind == EventKind::write && event.write == WriteKind::ddl && event.outcome == Outcome::applied &&
         event.detail.rfind("contract:", 0) == 0;
}

// What the latest validation in a region said, for the violation's detail.
std::string describe_validation(const Event* latest) {
  if (latest == nullptr) return "no validation ran";
  switch (latest->outcome) {
    case Outcome::ok: return fmt::format("validation passed under token {}", latest->token);
    case Outcome::skipped: return "validation was skipped";
    case Outcome::failed: return "validation failed";
    default: return fmt::format("validation ended {}", to_string(latest->outcome));
  }
}

Violation contract_without_validation(const Event& contract, const Event* latest_validation) {
  std::string what = contract.detail.substr(std::string("contract:").size());
  what.erase(0, what.find_first_not_of(' '));
  Violation violation{"validate-before-contract", contract.time_us, contract.node,
                      fmt::format("contract of {} ({}, token {}) ran without a passed validation by token {} ({})",
                                  contract.region, what, contract.token, contract.token,
                                  describe_validation(latest_validation)),
                      {contract.id}};
  if (latest_validation != nullptr) violation.events.push_back(latest_validation->id);
  return violation;
}

}  // namespace

std::vector<Violation> check_validate_before_contract(const History& history) {
  std::map<std::string, std::set<std::int64_t>> passed_tokens;  // region -> tokens that passed
  std::map<std::string, const Event*> latest_validation;
  std::set<std::string> contracted;
  std::vector<Violation> violations;
  for (const Event& event : history.events()) {
    if (event.kind == EventKind::validate) {
      latest_validation[event.region] = &event;
      if (event.outcome == Outcome::ok) passed_tokens[event.region].insert(event.token);
      continue;
    }
    if (!is_contract_write(event) || !contracted.insert(event.region).second) continue;
    if (passed_tokens[event.region].count(event.token) > 0) continue;
    auto latest = latest_validation.find(event.region);
    violations.push_back(
        contract_without_validation(event, latest == latest_validation.end() ? nullptr : latest->second));
  }
  return violations;
}

namespace {

// ---- availability and replica-staleness -----------------------------------------------------

// The earliest breach of a region, and how many there were of each kind.
struct Breaches {
  Violation first;
  bool any = false;
  std::size_t slow = 0;
  std::size_t windows = 0;
  void add(Violation violation) {
    if (!any || violation.time_us < first.time_us) first = std::move(violation);
    any = true;
  }
};

// Whether `slo.count` has the checkers judge this request (`migration`: only what the migration
// caused; `all`: every request).
bool counted(const SloSpec& slo, const RequestIncident& incident) {
  return slo.count == SloCount::all || incident.cause == Cause::migration;
}

// Why a request waited, after "waited 3.2s": the migration's obstruction as recorded, or the
// fault that caused it ("caused by a fault: ...").
std::string why_text(const RequestIncident& incident) {
  if (incident.why.empty()) return "";
  return incident.cause == Cause::fault ? ", caused by a fault: " + incident.why : " " + incident.why;
}

void add_slow_requests(const Observations& observations, const SloSpec& slo, std::map<std::string, Breaches>& regions) {
  if (slo.max_stall_us <= 0) return;
  for (const RequestIncident& incident : observations.slow_requests) {
    if (incident.waited_us <= slo.max_stall_us || !counted(slo, incident)) continue;
    Breaches& breaches = regions[incident.region];
    ++breaches.slow;
    breaches.add(Violation{"availability", incident.time_us, incident.node,
                           fmt::format("{} in {} waited {}{}{} (max_stall {})", incident.what, incident.region,
                                       duration_text(incident.waited_us, DurationStyle::compound),
                                       incident.failed ? " and failed" : "", why_text(incident),
                                       duration_text(slo.max_stall_us, DurationStyle::compound)),
                           {}});
  }
}

// The earliest recorded failed request of REGION in the 10 s window from START (the record keeps
// the first few incidents only, so there may be none).
const RequestIncident* first_failure(const Observations& observations, const SloSpec& slo, const std::string& region,
                                     TimeUs start_us) {
  const RequestIncident* first = nullptr;
  for (const RequestIncident& incident : observations.slow_requests) {
    if (!incident.failed || !counted(slo, incident) || incident.region != region || incident.time_us < start_us || incident.time_us >= start_us + kRequestWindowUs) continue;
    if (first == nullptr || incident.time_us < first->time_us) first = &incident;
  }
  return first;
}

void add_error_windows(const Observations& observations, const SloSpec& slo, std::map<std::string, Breaches>& regions) {
  for (const auto& [region, windows] : observations.windows) {
    for (const RequestWindow& window : windows) {
      if (window.requests <= 0) continue;
      const std::int64_t failed = slo.count == SloCount::all ? window.failed : window.failed - window.failed_by_fault;
      const double rate = static_cast<double>(failed) / static_cast<double>(window.requests);
      if (rate <= slo.max_error_rate) continue;
      Breaches& breaches = regions[region];
      ++breaches.windows;
      std::string detail = fmt::format(
          "{} of {} requests in {} failed{} in the 10 s window from {} ({:.2f}% > "
          "max_error_rate {:.2f}%)",
          failed, window.requests, region,
          slo.count == SloCount::all || window.failed_by_fault == 0
              ? ""
              : fmt::format(" because of the migration ({} more because of faults)", window.failed_by_fault),
          duration_text(window.start_us, DurationStyle::compound), rate * 100, slo.max_error_rate * 100);
      if (const RequestIncident* first = first_failure(observations, slo, region, window.start_us)) {
        detail += fmt::format(
            "; the first at {}: {}{}", duration_text(first->time_us, DurationStyle::compound), first->what,
            first->why.empty() || first->cause == Cause::fault ? why_text(*first) : ", which waited " + first->why);
      }
      breaches.add(Violation{"availability", window.start_us, "app:" + region, std::move(detail), {}});
    }
  }
}

}  // namespace

std::vector<Violation> check_availability(const Observations& observations, const SloSpec& slo) {
  std::map<std::string, Breaches> regions;
  add_slow_requests(observations, slo, regions);
  add_error_windows(observations, slo, regions);
  std::map<std::string, Violation> by_region;
  for (auto& [region, breaches] : regions) {
    Violation violation = std::move(breaches.first);
    if (breaches.slow + breaches.windows > 1) {
      violation.detail += fmt::format("; in all {} {} over max_stall and {} window{} over max_error_rate",
                                      breaches.slow, breaches.slow == 1 ? "request" : "requests", breaches.windows,
                                      breaches.windows == 1 ? "" : "s");
    }
    by_region[region] = std::move(violation);
  }
  return in_region_order(observations, std::move(by_region));
}

std::vector<Violation> check_replica_staleness(const Observations& observations, const SloSpec& slo) {
  if (slo.max_replica_lag_us <= 0) return {};
  std::map<std::string, Breaches> regions;
  for (const RequestIncident& incident : observations.stale_reads) {
    if (incident.staleness_us <= slo.max_replica_lag_us || !counted(slo, incident)) continue;
    Breaches& breaches = regions[incident.region];
    ++breaches.slow;
    breaches.add(Violation{"replica-staleness", incident.time_us, incident.node,
                           fmt::format("{} in {} served data {} old{} (max_replica_lag {})", incident.what,
                                       incident.region, duration_text(incident.staleness_us, DurationStyle::compound),
                                       why_text(incident), duration_text(slo.max_replica_lag_us, DurationStyle::compound)),
                           {}});
  }
  std::map<std::string, Violation> by_region;
  for (auto& [region, breaches] : regions) {
    Violation violation = std::move(breaches.first);
    if (breaches.slow > 1) violation.detail += fmt::format(", and {} more stale reads", breaches.slow - 1);
    by_region[region] = std::move(violation);
  }
  return in_region_order(observations, std::move(by_region));
}

std::vector<Violation> check_liveness(const Observations& observations) {
  if (observations.last_fault_end_us >= observations.duration_us) return {};  // faults never ended
  if (observations.outcome.empty()) return {};  // nothing recorded about the outcome
  if (observations.outcome == "completed" || observations.outcome == "rolled_back") return {};
  const std::string faults =
      observations.last_fault_end_us > 0
          ? fmt::format("faults ended at {}", duration_text(observations.last_fault_end_us, DurationStyle::compound))
          : std::string("no fault ran");
  const std::string how = observations.outcome == "halted" ? std::string("the migration halted")
                                                           : fmt::format("the migration is still {} at the end",
                                                                         observations.outcome);
  const TimeUs at = observations.time_ran_out ? observations.duration_us : end_time(observations);
  return {Violation{"liveness", at, "world",
                    fmt::format("{} but {} (regions: {})", faults, how, describe_states(observations)),
                    end_snapshot_events(observations)}};
}

std::vector<Violation> check_all(const History& history, const Observations& observations, const SloSpec& slo) {
  std::vector<Violation> all = check_mutual_exclusion(history);
  auto append = [&all](std::vector<Violation> more) {
    for (Violation& violation : more) all.push_back(std::move(violation));
  };
  append(check_data_consistency(observations));
  append(check_no_lost_writes(observations));
  append(check_schema_convergence(observations));
  append(check_validate_before_contract(history));
  append(check_availability(observations, slo));
  append(check_replica_staleness(observations, slo));
  append(check_liveness(observations));
  auto rank = [](const Violation& violation) {
    const auto begin = std::begin(kInvariantNames);
    return std::find_if(begin, std::end(kInvariantNames),
                        [&violation](const char* name) { return violation.invariant == name; }) - begin;
  };
  std::stable_sort(all.begin(), all.end(), [&rank](const Violation& a, const Violation& b) {
    if (a.time_us != b.time_us) return a.time_us < b.time_us;
    return rank(a) < rank(b);
  });
  return all;
}

}  // namespace rehearse
