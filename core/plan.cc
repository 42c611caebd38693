// Compiles migration operations into the expand / backfill / contract steps of a plan.
#include "core/plan.h"

#include <fmt/format.h>

namespace rehearse {

namespace {

Status add_operation(const Operation& op, const std::string& table, MigrationPlan& plan) {
  switch (op.kind) {
    case OperationKind::add_column: {
      if (!op.type) return Status::invalid(fmt::format("line {}: add_column {} needs a type", op.line, op.column));
      plan.expand.push_back(DdlStatement{DdlStatement::Kind::add_column, table, op.column, *op.type});
      if (!op.up.empty()) {
        // Assignment to the column casts to its type, as PostgreSQL does on UPDATE.
        const std::string assigned = fmt::format("CAST(({}) AS {})", op.up, to_string(*op.type));
        ExprParseError error;
        auto expr = parse_expression(assigned, &error);
        if (!expr) return Status::invalid(fmt::format("line {}: up: {} at position {}", op.line, error.message, error.position));
        plan.fills.push_back(ColumnFill{op.column, *expr});
      }
      return Status::ok();
    }
    case OperationKind::drop_column:
      plan.contract.push_back(DdlStatement{DdlStatement::Kind::drop_column, table, op.column, ColumnType::text});
      return Status::ok();
    default:
      return Status::invalid(fmt::format("line {}: operation {} is not supported by this engine version",
                                         op.line, to_string(op.kind)));
  }
}

}  // namespace

Result<MigrationPlan> compile_plan(const Scenario& scenario) {
  MigrationPlan plan;
  plan.name = scenario.migration.name;
  plan.table = scenario.table.name;
  for (const Operation& op : scenario.migration.operations) {
    Status status = add_operation(op, plan.table, plan);
    if (!status.is_ok()) return status;
  }
  return plan;
}

int region_state_rank(const std::string& state) {
  int rank = 0;
  for (const char* name : kRegionStates) {
    if (state == name) return rank;
    ++rank;
  }
  return -1;
}

}  // namespace rehearse
