// Names of the scenario model's enumerations, as written in scenario files and JSON, and the
// text of a fault's trigger.
#include "core/model.h"

#include <fmt/format.h>

namespace rehearse {

const char* to_string(TopologyMode v) { return v == TopologyMode::global ? "global" : "per-region"; }

const char* to_string(LockBackend v) {
  switch (v) {
    case LockBackend::redis: return "redis";
    case LockBackend::redlock: return "redlock";
    case LockBackend::etcd: return "etcd";
    case LockBackend::zookeeper: return "zookeeper";
    case LockBackend::app_database: return "app-database";
  }
  return "?";
}

const char* to_string(Fencing v) {
  switch (v) {
    case Fencing::none: return "none";
    case Fencing::client: return "client";
    case Fencing::storage: return "storage";
  }
  return "?";
}

const char* to_string(Jitter v) {
  switch (v) {
    case Jitter::full: return "full";
    case Jitter::equal: return "equal";
    case Jitter::none: return "none";
  }
  return "?";
}

const char* to_string(Rollout v) { return v == Rollout::all_at_once ? "all-at-once" : "region-by-region"; }
const char* to_string(OnFailure v) { return v == OnFailure::halt ? "halt" : "rollback"; }
const char* to_string(BackfillSource v) { return v == BackfillSource::replica ? "replica" : "primary"; }

const char* to_string(ColumnType v) {
  switch (v) {
    case ColumnType::bigint: return "bigint";
    case ColumnType::integer: return "integer";
    case ColumnType::numeric: return "numeric";
    case ColumnType::text: return "text";
    case ColumnType::boolean: return "boolean";
    case ColumnType::timestamp: return "timestamp";
  }
  return "?";
}

const char* to_string(DeployAfter v) {
  switch (v) {
    case DeployAfter::expand: return "expand";
    case DeployAfter::backfill: return "backfill";
    case DeployAfter::validate: return "validate";
  }
  return "?";
}

const char* to_string(Verdict v) { return v == Verdict::violation ? "violation" : "pass"; }
const char* to_string(SloCount v) { return v == SloCount::all ? "all" : "migration"; }

const char* to_string(OperationKind v) {
  switch (v) {
    case OperationKind::add_column: return "add_column";
    case OperationKind::drop_column: return "drop_column";
    case OperationKind::alter_column: return "alter_column";
    case OperationKind::rename_column: return "rename_column";
    case OperationKind::add_not_null: return "add_not_null";
    case OperationKind::create_index: return "create_index";
    case OperationKind::create_table: return "create_table";
    case OperationKind::drop_table: return "drop_table";
    case OperationKind::rename_table: return "rename_table";
    case OperationKind::drop_index: return "drop_index";
    case OperationKind::create_constraint: return "create_constraint";
    case OperationKind::drop_constraint: return "drop_constraint";
    case OperationKind::drop_multicolumn_constraint: return "drop_multicolumn_constraint";
    case OperationKind::rename_constraint: return "rename_constraint";
    case OperationKind::set_replica_identity: return "set_replica_identity";
    case OperationKind::sql: return "sql";
  }
  return "?";
}

const char* to_string(FaultKind v) {
  switch (v) {
    case FaultKind::pause: return "pause";
    case FaultKind::crash: return "crash";
    case FaultKind::partition: return "partition";
    case FaultKind::delay: return "delay";
    case FaultKind::drop: return "drop";
    case FaultKind::clock_jump: return "clock_jump";
    case FaultKind::clock_skew: return "clock_skew";
    case FaultKind::clock_drift: return "clock_drift";
    case FaultKind::replication_lag: return "replication_lag";
    case FaultKind::long_transaction: return "long_transaction";
    case FaultKind::failover: return "failover";
  }
  return "?";
}

std::string statement_phase(int statement) { return fmt::format("statement {}", statement); }

// "phase backfill in us-east-1 +1s", "statement 2 in us-east-1 +0s" or "at 5s": when `fault` is due.
std::string describe_trigger(const FaultSpec& fault) {
  auto text = [](TimeUs us) { return us % kSec == 0 ? fmt::format("{}s", us / kSec) : fmt::format("{}ms", us / kMs); };
  if (fault.at_phase) {
    return fmt::format("{}{} in {} +{}", fault.at_phase->statement > 0 ? "" : "phase ", trigger_phase(*fault.at_phase),
                       fault.at_phase->region, text(fault.at_phase->after_us));
  }
  return "at " + text(fault.at_us);
}

std::vector<const TableSpec*> all_tables(const Scenario& scenario) {
  std::vector<const TableSpec*> tables{&scenario.table};
  for (const TableSpec& table : scenario.more_tables) tables.push_back(&table);
  return tables;
}

const TableSpec* find_table(const Scenario& scenario, const std::string& name) {
  for (const TableSpec* table : all_tables(scenario)) {
    if (table->name == name) return table;
  }
  return nullptr;
}

const std::string& operation_table(const Scenario& scenario, const Operation& op) {
  return op.table.empty() ? scenario.table.name : op.table;
}

}  // namespace rehearse
