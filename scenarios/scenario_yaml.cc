// The scenario emitter of scenarios/scenario_yaml.h, on yaml-cpp's YAML::Emitter; one function
// per section of scenario-format.md.
#include "scenarios/scenario_yaml.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/assert.h"
#include "core/duration.h"

namespace rehearse {

namespace {

std::string range_text(const DurationRange& range) {
  if (range.low_us == range.high_us) return duration_text(range.low_us, DurationStyle::scenario);
  return duration_text(range.low_us, DurationStyle::scenario) + ".." +
         duration_text(range.high_us, DurationStyle::scenario);
}

std::string signed_text(TimeUs us) {
  return (us < 0 ? "-" : "+") + duration_text(us < 0 ? -us : us, DurationStyle::scenario);
}

// The shortest decimal that reads back as the same double.
std::string number_text(double value) { return fmt::format("{}", value); }

// "50/s", "1/30s", "3/20s": the rate with the smallest whole number of events per duration.
std::string rate_text(double per_second) {
  if (per_second <= 0) return "0/s";
  for (int events = 1; events <= 1000; ++events) {
    const double period_us = static_cast<double>(events) * static_cast<double>(kSec) / per_second;
    if (std::abs(period_us - std::round(period_us)) < 1e-3) {
      const auto period = static_cast<TimeUs>(std::llround(period_us));
      return period == kSec ? fmt::format("{}/s", events)
                            : fmt::format("{}/{}", events, duration_text(period, DurationStyle::scenario));
    }
  }
  return fmt::format("1/{}", duration_text(static_cast<TimeUs>(std::llround(static_cast<double>(kSec) / per_second)),
                                           DurationStyle::scenario));
}

// A block of text as it reads back: plain when it is one line, a literal block when it ends with
// exactly one newline (as a folded description does), double-quoted with escapes otherwise.
void emit_text(YAML::Emitter& out, const std::string& text) {
  const bool one_line = text.find('\n') == std::string::npos;
  const bool one_trailing_newline = text.size() >= 2 && text.back() == '\n' && text[text.size() - 2] != '\n';
  if (one_line) {
    out << text;
  } else if (one_trailing_newline) {
    out << YAML::Literal << text;
  } else {
    out << YAML::DoubleQuoted << text;
  }
}

// `costs:` inline with every key, unless the built-in profile applies (calibration.md).
void emit_costs(YAML::Emitter& out, CostProfile costs) {
  if (costs.source == builtin_cost_profile().source) return;
  out << YAML::Key << "costs" << YAML::Value << YAML::BeginMap;
  for (const std::string& key : cost_profile_keys()) {
    out << YAML::Key << key << YAML::Value;
    if (key != "update_per_row_us") {
      out << number_text(*cost_field(costs, key));
      continue;
    }
    out << YAML::Flow << YAML::BeginMap;
    for (const auto& [rows, per_row_us] : costs.update_per_row_us) out << YAML::Key << rows << YAML::Value << number_text(per_row_us);
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
}

void emit_topology(YAML::Emitter& out, const Topology& topology) {
  out << YAML::Key << "topology" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "mode" << YAML::Value << to_string(topology.mode);
  if (topology.mode == TopologyMode::global) out << YAML::Key << "home" << YAML::Value << topology.home;
  out << YAML::Key << "regions" << YAML::Value << YAML::BeginSeq;
  for (const RegionSpec& region : topology.regions) {
    out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << region.name << YAML::Key << "replicas"
        << YAML::Value << region.replicas << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "latency" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "intra_region" << YAML::Value << range_text(topology.intra_region);
  out << YAML::Key << "inter_region" << YAML::Value << range_text(topology.inter_region) << YAML::EndMap;
  out << YAML::Key << "replication_lag" << YAML::Value << range_text(topology.replication_lag);
  out << YAML::Key << "clocks" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "max_skew" << YAML::Value << duration_text(topology.clocks.max_skew_us, DurationStyle::scenario);
  out << YAML::Key << "max_drift_ppm" << YAML::Value << topology.clocks.max_drift_ppm << YAML::EndMap;
  out << YAML::EndMap;
}

void emit_lock(YAML::Emitter& out, const LockSpec& lock) {
  out << YAML::Key << "lock" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "backend" << YAML::Value << to_string(lock.backend);
  if (lock.backend != LockBackend::app_database) out << YAML::Key << "nodes" << YAML::Value << lock.nodes;
  if (!lock.region.empty()) out << YAML::Key << "region" << YAML::Value << lock.region;
  out << YAML::Key << "ttl" << YAML::Value << duration_text(lock.ttl_us, DurationStyle::scenario);
  out << YAML::Key << "renew_every" << YAML::Value << duration_text(lock.renew_every_us, DurationStyle::scenario);
  out << YAML::Key << "fencing" << YAML::Value << to_string(lock.fencing);
  out << YAML::Key << "drift_factor" << YAML::Value << number_text(lock.drift_factor);
  out << YAML::Key << "persistence" << YAML::Value << lock.persistence;
  out << YAML::Key << "replica" << YAML::Value << lock.replica;
  out << YAML::Key << "max_ops_per_s" << YAML::Value << lock.max_ops_per_s;
  out << YAML::Key << "delayed_restart" << YAML::Value << lock.delayed_restart;
  out << YAML::EndMap;
}

void emit_engine_timing(YAML::Emitter& out, const EngineSpec& engine) {
  out << YAML::Key << "max_replication_lag" << YAML::Value
      << duration_text(engine.max_replication_lag_us, DurationStyle::scenario);
  out << YAML::Key << "lock_timeout" << YAML::Value << duration_text(engine.lock_timeout_us, DurationStyle::scenario);
  out << YAML::Key << "statement_timeout" << YAML::Value
      << duration_text(engine.statement_timeout_us, DurationStyle::scenario);
  out << YAML::Key << "ddl_retries" << YAML::Value << engine.ddl_retries;
  out << YAML::Key << "acquire_timeout" << YAML::Value
      << duration_text(engine.acquire_timeout_us, DurationStyle::scenario);
  out << YAML::Key << "backoff" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "base" << YAML::Value << duration_text(engine.backoff.base_us, DurationStyle::scenario);
  out << YAML::Key << "max" << YAML::Value << duration_text(engine.backoff.max_us, DurationStyle::scenario);
  out << YAML::Key << "jitter" << YAML::Value << to_string(engine.backoff.jitter) << YAML::EndMap;
}

void emit_engine(YAML::Emitter& out, const EngineSpec& engine) {
  out << YAML::Key << "engine" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "instances" << YAML::Value << engine.instances;
  if (!engine.region.empty()) out << YAML::Key << "region" << YAML::Value << engine.region;
  out << YAML::Key << "start_jitter" << YAML::Value << range_text(engine.start_jitter);
  out << YAML::Key << "batch_size" << YAML::Value << engine.batch_size;
  out << YAML::Key << "batch_pause" << YAML::Value << duration_text(engine.batch_pause_us, DurationStyle::scenario);
  out << YAML::Key << "backfill_source" << YAML::Value << to_string(engine.backfill_source);
  emit_engine_timing(out, engine);
  out << YAML::Key << "rollout" << YAML::Value << to_string(engine.rollout);
  if (!engine.order.empty()) out << YAML::Key << "order" << YAML::Value << YAML::Flow << engine.order;
  out << YAML::Key << "health_gate" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "soak" << YAML::Value << duration_text(engine.health_gate.soak_us, DurationStyle::scenario);
  out << YAML::Key << "max_error_rate" << YAML::Value << number_text(engine.health_gate.max_error_rate);
  out << YAML::Key << "max_replication_lag" << YAML::Value
      << duration_text(engine.health_gate.max_replication_lag_us, DurationStyle::scenario) << YAML::EndMap;
  out << YAML::Key << "validate" << YAML::Value << engine.validate;
  out << YAML::Key << "on_failure" << YAML::Value << to_string(engine.on_failure);
  out << YAML::EndMap;
}

// A column as `table:` / `tables:` write it; `schema_column` writes only what a scenario may
// add to a column of its schema file (gen, nullable, scale), and nothing when it adds nothing.
void emit_column(YAML::Emitter& out, const ColumnSpec& column, bool schema_column) {
  if (schema_column && column.gen.empty() && column.nullable == 0 && column.scale == 0) return;
  out << YAML::Key << column.name << YAML::Value << YAML::Flow << YAML::BeginMap;
  if (!schema_column) out << YAML::Key << "type" << YAML::Value << (column.sql_type.empty() ? to_string(column.type) : column.sql_type);
  if (!column.gen.empty()) out << YAML::Key << "gen" << YAML::Value << YAML::DoubleQuoted << column.gen;
  if (column.scale != 0) out << YAML::Key << "scale" << YAML::Value << column.scale;
  if (column.nullable != 0) out << YAML::Key << "nullable" << YAML::Value << number_text(column.nullable);
  if (!schema_column && column.not_null) out << YAML::Key << "not_null" << YAML::Value << true;
  if (!schema_column && !column.default_sql.empty())
    out << YAML::Key << "default" << YAML::Value << YAML::DoubleQuoted << column.default_sql;
  out << YAML::EndMap;
}

void emit_columns(YAML::Emitter& out, const TableSpec& table, bool schema_columns) {
  const bool any = std::any_of(table.columns.begin(), table.columns.end(), [&](const ColumnSpec& c) {
    return !schema_columns || !c.gen.empty() || c.nullable != 0 || c.scale != 0;
  });
  if (!any) return;
  out << YAML::Key << "columns" << YAML::Value << YAML::BeginMap;
  for (const ColumnSpec& column : table.columns) emit_column(out, column, schema_columns);
  out << YAML::EndMap;
}

void emit_table(YAML::Emitter& out, const TableSpec& table) {
  out << YAML::Key << "table" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << table.name;
  out << YAML::Key << "rows" << YAML::Value << table.rows;
  emit_columns(out, table, false);
  out << YAML::EndMap;
}

// A table's key, indexes and constraints as `tables:` declares them (without a schema file).
void emit_table_shape(YAML::Emitter& out, const TableSpec& table) {
  if (!table.primary_key.empty()) out << YAML::Key << "primary_key" << YAML::Value << YAML::Flow << table.primary_key;
  if (!table.indexes.empty()) {
    out << YAML::Key << "indexes" << YAML::Value << YAML::BeginSeq;
    for (const IndexSpec& index : table.indexes) {
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << index.name;
      out << YAML::Key << "columns" << YAML::Value << YAML::Flow << index.columns;
      if (index.unique) out << YAML::Key << "unique" << YAML::Value << true;
      if (!index.method.empty()) out << YAML::Key << "method" << YAML::Value << index.method;
      if (!index.predicate.empty()) out << YAML::Key << "where" << YAML::Value << YAML::DoubleQuoted << index.predicate;
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  std::vector<const ConstraintSpec*> constraints, references;
  for (const ConstraintSpec& c : table.constraints) (c.kind == ConstraintKind::foreign_key ? references : constraints).push_back(&c);
  if (!constraints.empty()) {
    out << YAML::Key << "constraints" << YAML::Value << YAML::BeginSeq;
    for (const ConstraintSpec* c : constraints) {
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << c->name;
      if (c->kind == ConstraintKind::check) out << YAML::Key << "check" << YAML::Value << YAML::DoubleQuoted << c->check;
      else out << YAML::Key << "unique" << YAML::Value << YAML::Flow << c->columns;
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  if (!references.empty()) {
    out << YAML::Key << "references" << YAML::Value << YAML::BeginSeq;
    for (const ConstraintSpec* c : references) {
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << c->name;
      out << YAML::Key << "columns" << YAML::Value << YAML::Flow << c->columns;
      out << YAML::Key << "table" << YAML::Value << c->ref_table;
      if (!c->ref_columns.empty()) out << YAML::Key << "to" << YAML::Value << YAML::Flow << c->ref_columns;
      if (!c->on_delete.empty()) out << YAML::Key << "on_delete" << YAML::Value << c->on_delete;
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
}

// Whether the scenario needs the many-table form to be written whole.
bool many_tables(const Scenario& scenario) {
  const TableSpec& t = scenario.table;
  return !scenario.more_tables.empty() || !scenario.schema_path.empty() || !t.primary_key.empty() || !t.indexes.empty() ||
         !t.constraints.empty() ||
         std::any_of(t.columns.begin(), t.columns.end(), [](const ColumnSpec& c) { return c.not_null || !c.default_sql.empty(); });
}

// `table:`, or `schema:` and `tables:`. With a schema file, the file gives the tables' shape
// and `tables:` their sizes and draws (the path is written absolute so that the scenario loads
// from wherever it is written).
void emit_tables(YAML::Emitter& out, const Scenario& scenario) {
  if (!many_tables(scenario)) return emit_table(out, scenario.table);
  const bool schema = !scenario.schema_path.empty();
  if (schema) out << YAML::Key << "schema" << YAML::Value << std::filesystem::absolute(scenario.schema_path).lexically_normal().string();
  out << YAML::Key << "tables" << YAML::Value << YAML::BeginSeq;
  for (const TableSpec* table : all_tables(scenario)) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << table->name;
    out << YAML::Key << "rows" << YAML::Value << table->rows;
    emit_columns(out, *table, schema);
    if (!schema) emit_table_shape(out, *table);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

void emit_operation(YAML::Emitter& out, const Operation& operation) {
  out << YAML::BeginMap << YAML::Key << to_string(operation.kind) << YAML::Value << YAML::Flow << YAML::BeginMap;
  if (operation.kind == OperationKind::create_index) {
    out << YAML::Key << "columns" << YAML::Value << YAML::Flow << operation.columns;
  } else {
    out << YAML::Key << "column" << YAML::Value << operation.column;
  }
  if (operation.type) out << YAML::Key << "type" << YAML::Value << to_string(*operation.type);
  if (!operation.up.empty()) out << YAML::Key << "up" << YAML::Value << YAML::DoubleQuoted << operation.up;
  if (!operation.down.empty()) out << YAML::Key << "down" << YAML::Value << YAML::DoubleQuoted << operation.down;
  if (!operation.to.empty()) out << YAML::Key << "to" << YAML::Value << operation.to;
  if (!operation.table.empty()) out << YAML::Key << "table" << YAML::Value << operation.table;
  out << YAML::EndMap << YAML::EndMap;
}

void emit_migration(YAML::Emitter& out, const MigrationSpec& migration) {
  out << YAML::Key << "migration" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << migration.name;
  if (migration.mode == MigrationMode::as_written) {
    // The SQL files themselves, by absolute path: the statements are their text, not operations
    // (a live engine process, a shrunk scenario and a report's scenario.yaml read them again).
    std::vector<std::string> paths;
    for (const SqlFile& file : migration.sql) paths.push_back(std::filesystem::absolute(file.path).lexically_normal().string());
    out << YAML::Key << "from" << YAML::Value << YAML::Flow << paths;
    out << YAML::Key << "mode" << YAML::Value << "as-written" << YAML::EndMap;
    return;
  }
  out << YAML::Key << "operations" << YAML::Value << YAML::BeginSeq;
  for (const Operation& operation : migration.operations) emit_operation(out, operation);
  out << YAML::EndSeq << YAML::EndMap;
}

void emit_workload_and_slo(YAML::Emitter& out, const WorkloadSpec& workload, const SloSpec& slo) {
  out << YAML::Key << "workload" << YAML::Value << YAML::BeginMap;
  if (workload.all_regions) {
    out << YAML::Key << "regions" << YAML::Value << "all";
  } else {
    out << YAML::Key << "regions" << YAML::Value << YAML::Flow << workload.regions;
  }
  if (!workload.tables.empty()) {
    out << YAML::Key << "tables" << YAML::Value << YAML::BeginSeq;
    for (const TableWorkload& table : workload.tables) {
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "table" << YAML::Value << table.table;
      out << YAML::Key << "writes_per_s" << YAML::Value << number_text(table.writes_per_s);
      out << YAML::Key << "reads_per_s" << YAML::Value << number_text(table.reads_per_s) << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::Key << "writes_per_s" << YAML::Value << number_text(workload.writes_per_s);
  out << YAML::Key << "reads_per_s" << YAML::Value << number_text(workload.reads_per_s);
  out << YAML::Key << "update_ratio" << YAML::Value << number_text(workload.update_ratio);
  out << YAML::Key << "hot_rows" << YAML::Value << number_text(workload.hot_rows);
  out << YAML::Key << "deploy" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "new_code_after"
      << YAML::Value << to_string(workload.new_code_after) << YAML::EndMap;
  out << YAML::EndMap;
  out << YAML::Key << "slo" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "max_stall" << YAML::Value << duration_text(slo.max_stall_us, DurationStyle::scenario);
  out << YAML::Key << "max_error_rate" << YAML::Value << number_text(slo.max_error_rate);
  out << YAML::Key << "max_replica_lag" << YAML::Value
      << duration_text(slo.max_replica_lag_us, DurationStyle::scenario);
  out << YAML::EndMap;
}

void emit_fault_at(YAML::Emitter& out, const FaultSpec& fault) {
  out << YAML::Key << "at" << YAML::Value;
  if (!fault.at_phase) {
    out << duration_text(fault.at_us, DurationStyle::scenario);
    return;
  }
  out << YAML::Flow << YAML::BeginMap << YAML::Key << "phase" << YAML::Value << fault.at_phase->phase;
  if (!fault.at_phase->region.empty()) out << YAML::Key << "region" << YAML::Value << fault.at_phase->region;
  if (fault.at_phase->statement > 0) out << YAML::Key << "statement" << YAML::Value << fault.at_phase->statement;
  out << YAML::Key << "after" << YAML::Value << duration_text(fault.at_phase->after_us, DurationStyle::scenario)
      << YAML::EndMap;
}

void emit_fault_parameters(YAML::Emitter& out, const FaultSpec& fault) {
  auto duration = [&out](const char* key, TimeUs us) {
    out << YAML::Key << key << YAML::Value << duration_text(us, DurationStyle::scenario);
  };
  switch (fault.kind) {
    case FaultKind::pause:
    case FaultKind::long_transaction: return duration("for", fault.for_us);
    case FaultKind::crash:
      if (fault.restart_after_us) duration("restart_after", *fault.restart_after_us);
      return;
    case FaultKind::partition:
      if (!fault.from.empty()) out << YAML::Key << "from" << YAML::Value << YAML::Flow << fault.from;
      if (fault.oneway) out << YAML::Key << "oneway" << YAML::Value << true;
      return duration("for", fault.for_us);
    case FaultKind::delay:
    case FaultKind::replication_lag: duration("extra", fault.extra_us); return duration("for", fault.for_us);
    case FaultKind::drop:
      out << YAML::Key << "probability" << YAML::Value << number_text(fault.probability);
      return duration("for", fault.for_us);
    case FaultKind::clock_jump: out << YAML::Key << "by" << YAML::Value << signed_text(fault.by_us); return;
    case FaultKind::clock_skew: out << YAML::Key << "offset" << YAML::Value << signed_text(fault.offset_us); return;
    case FaultKind::clock_drift:
      out << YAML::Key << "ppm" << YAML::Value << fault.ppm;
      return duration("for", fault.for_us);
    case FaultKind::failover: return;
  }
}

// One `faults:` entry as a flow map: {at: 12s, pause: engine-1, for: 15s}.
void emit_fault(YAML::Emitter& out, const FaultSpec& fault) {
  out << YAML::Flow << YAML::BeginMap;
  emit_fault_at(out, fault);
  out << YAML::Key << to_string(fault.kind) << YAML::Value;
  if (fault.kind == FaultKind::partition) {
    out << YAML::Flow << fault.targets;
  } else {
    out << (fault.targets.empty() ? std::string() : fault.targets.front());
  }
  emit_fault_parameters(out, fault);
  out << YAML::EndMap;
}

void emit_random_faults(YAML::Emitter& out, const RandomFaultsSpec& spec) {
  std::vector<std::string> kinds;
  for (const FaultKind kind : spec.kinds) kinds.push_back(to_string(kind));
  out << YAML::Key << "random_faults" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "rate" << YAML::Value << rate_text(spec.rate_per_s);
  out << YAML::Key << "kinds" << YAML::Value << YAML::Flow << kinds;
  out << YAML::Key << "targets" << YAML::Value << YAML::Flow << spec.targets;
  out << YAML::Key << "max_duration" << YAML::Value << duration_text(spec.max_duration_us, DurationStyle::scenario);
  if (spec.quiet_after_us) {
    out << YAML::Key << "quiet_after" << YAML::Value << duration_text(*spec.quiet_after_us, DurationStyle::scenario);
  }
  out << YAML::EndMap;
}

void emit_faults(YAML::Emitter& out, const Scenario& scenario) {
  out << YAML::Key << "faults" << YAML::Value;
  if (scenario.faults.empty()) out << YAML::Flow;
  out << YAML::BeginSeq;
  for (const FaultSpec& fault : scenario.faults) emit_fault(out, fault);
  out << YAML::EndSeq;
  if (scenario.random_faults) emit_random_faults(out, *scenario.random_faults);
}

void emit_expect(YAML::Emitter& out, const ExpectSpec& expect) {
  out << YAML::Key << "expect" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "verdict" << YAML::Value << to_string(expect.verdict);
  if (!expect.invariants.empty()) out << YAML::Key << "invariants" << YAML::Value << YAML::Flow << expect.invariants;
  if (expect.within_seeds > 0) out << YAML::Key << "within_seeds" << YAML::Value << expect.within_seeds;
  out << YAML::EndMap;
}

// The faults random_faults drew in this run, from the history: fault events whose line is not
// one of the scenario's explicit faults.
std::string drawn_faults_comment(const Scenario& scenario, const History& history) {
  if (!scenario.random_faults) return "";
  std::string lines;
  for (const Event& event : history.events()) {
    if (event.kind != EventKind::fault_start && event.kind != EventKind::fault_skipped) continue;
    const bool explicit_fault = std::any_of(scenario.faults.begin(), scenario.faults.end(),
                                            [&event](const FaultSpec& fault) { return fault.line != 0 && fault.line == event.a; });
    if (explicit_fault) continue;
    lines += fmt::format("#   - at {}: {}{}\n", duration_text(event.time_us, DurationStyle::clock_spaced), event.detail,
                         event.kind == EventKind::fault_skipped ? " (skipped)" : "");
  }
  if (lines.empty()) return "# random_faults drew no fault that fired in this run.\n";
  return "# The faults random_faults drew for this seed, as they fired (from the history's fault events):\n" + lines;
}

// Every section of the scenario, with `seed:` set to `seed`; no comments.
std::string scenario_document(const Scenario& scenario, std::uint64_t seed) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << scenario.name;
  out << YAML::Key << "description" << YAML::Value;
  emit_text(out, scenario.description);
  out << YAML::Key << "seed" << YAML::Value << seed;
  out << YAML::Key << "duration" << YAML::Value << duration_text(scenario.duration_us, DurationStyle::scenario);
  emit_topology(out, scenario.topology);
  emit_lock(out, scenario.lock);
  emit_engine(out, scenario.engine);
  emit_tables(out, scenario);
  emit_migration(out, scenario.migration);
  emit_workload_and_slo(out, scenario.workload, scenario.slo);
  emit_faults(out, scenario);
  if (scenario.buggify) out << YAML::Key << "buggify" << YAML::Value << true;  // an extension (docs/scenarios.md)
  emit_costs(out, scenario.costs);
  emit_expect(out, scenario.expect);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace

std::string scenario_yaml(const Scenario& scenario, std::uint64_t seed, const History& history) {
  const std::string header = fmt::format(
      "# The scenario as run (from {}), seed {}, every setting written out.\n"
      "# Reproduce: rehearse run scenario.yaml --seed {}\n",
      scenario.source_path.empty() ? "memory" : scenario.source_path, seed, seed);
  return header + scenario_document(scenario, seed) + drawn_faults_comment(scenario, history);
}

std::string scenario_yaml_with_header(const Scenario& scenario, std::uint64_t seed, const std::string& header) {
  REHEARSE_ASSERT(header.empty() || header.front() == '#');
  REHEARSE_ASSERT(header.empty() || header.back() == '\n');
  return header + scenario_document(scenario, seed);
}

std::string fault_yaml(const FaultSpec& fault) {
  YAML::Emitter out;
  emit_fault(out, fault);
  return out.c_str();
}

}  // namespace rehearse
