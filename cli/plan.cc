// `rehearse plan SCENARIO`: what the engine would do, without running it. Prints the rollout
// order, the expand / dual_write / backfill / validate / switch_reads / contract phases of every
// region as compiled from the migration (the DDL, the filled columns and their `up`, the NOT
// NULL checks, the rollback steps), and the lint findings of core/lint.h.
#include <cctype>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands_internal.h"
#include "core/duration.h"
#include "core/topology.h"
#include "core/lint.h"
#include "core/plan.h"
#include "core/sql_migration.h"
#include "core/statements.h"

namespace rehearse::cli {

namespace {

struct PhaseDescription {
  std::string name;
  std::vector<std::string> steps;
};

// An estimate: "45us", "12.3ms", "4.1s".
std::string estimate_text(TimeUs us) {
  if (us < kMs) return fmt::format("{}us", us);
  if (us < kSec) return fmt::format("{:.1f}ms", static_cast<double>(us) / static_cast<double>(kMs));
  return fmt::format("{:.1f}s", static_cast<double>(us) / static_cast<double>(kSec));
}

std::string relation_of(const DdlStatement& ddl, RelationRole role) {
  if (role == RelationRole::referenced_table) return ddl.ref_table;
  return role == RelationRole::index ? ddl.column : ddl.table;
}

std::string plain_name(const std::string& name) { return name; }

// The rows a statement's work covers: the scenario's table's rows for a compiled plan (as
// before), the statement's own table (a DML's id range) for a SQL file's.
std::int64_t statement_rows(const Scenario& scenario, const DdlStatement& ddl) {
  if (!ddl.as_written) return scenario.table.rows;
  const TableSpec* table = find_table(scenario, ddl.table);
  const std::int64_t rows = table == nullptr ? 0 : table->rows;
  if (ddl.kind != DdlStatement::Kind::dml || ddl.high_id < ddl.low_id) return rows;
  return std::max<std::int64_t>(0, std::min(rows, ddl.high_id) - std::max<std::int64_t>(1, ddl.low_id) + 1);
}

// A SQL file's statement text on one line, shortened.
std::string one_line(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  return out.size() > 110 ? out.substr(0, 107) + "..." : out;
}

std::string locks_of(const Scenario& scenario, const DdlStatement& ddl) {
  const StatementKind kind = statement_kind(ddl);
  const std::string locks = describe_locks(statement_model(kind), [&ddl](RelationRole role) { return relation_of(ddl, role); });
  return fmt::format("{}; ~{}", locks, estimate_text(statement_cost_us(scenario.costs, kind, statement_rows(scenario, ddl))));
}

// A DDL step: the statement as the PostgreSQL backend runs it, then what the statement model
// says it does: its lock mode on each relation, its scan or rewrite, and its estimated time once
// it holds its locks (the scenario's cost profile at the table's rows; lock waits not included).
// A SQL file's transaction block: a line for the block, then one per statement inside it.
std::vector<std::string> ddl_step(const Scenario& scenario, const DdlStatement& ddl) {
  if (ddl.kind == DdlStatement::Kind::transaction) {
    std::vector<std::string> lines = {fmt::format("{}:{}: one transaction of {} step{} (locks held to its end; all or nothing):",
                                                  ddl.file, ddl.line, ddl.steps.size(), ddl.steps.size() == 1 ? "" : "s")};
    for (const DdlStatement& step : ddl.steps) {
      lines.push_back(fmt::format("  {}:{}: {}  [{}]", step.file, step.line, one_line(statement_sql(step, plain_name)), locks_of(scenario, step)));
    }
    return lines;
  }
  if (ddl.as_written) return {fmt::format("{}:{}: {}  [{}]", ddl.file, ddl.line, one_line(statement_sql(ddl, plain_name)), locks_of(scenario, ddl))};
  return {fmt::format("{}  [{}]", statement_sql(ddl, plain_name), locks_of(scenario, ddl))};
}

// The same for --json: one object per DDL statement of the plan.
nlohmann::json ddl_json(const Scenario& scenario, const char* phase, const DdlStatement& ddl) {
  const StatementKind kind = statement_kind(ddl);
  const StatementModel& model = statement_model(kind);
  nlohmann::json locks = nlohmann::json::array();
  for (const RelationLock& lock : model.locks) {
    locks.push_back({{"relation", relation_of(ddl, lock.role)}, {"role", to_string(lock.role)}, {"mode", sql_name(lock.mode)},
                     {"pg_locks", pg_locks_name(lock.mode)}});
  }
  nlohmann::json json = {{"phase", phase},
                         {"sql", statement_sql(ddl, plain_name)},
                         {"kind", model.name},
                         {"locks", locks},
                         {"work", to_string(model.work)},
                         {"in_transaction", model.in_transaction},
                         {"waits_for_older_transactions", model.waits_for_older_transactions},
                         {"estimated_us", statement_cost_us(scenario.costs, kind, statement_rows(scenario, ddl))}};
  if (ddl.as_written) {  // a SQL file's: where it was written (a one-table plan's JSON stays as it was)
    json["file"] = ddl.file;
    json["line"] = ddl.line;
  }
  if (ddl.kind == DdlStatement::Kind::transaction) {
    json["kind"] = "transaction";
    nlohmann::json steps = nlohmann::json::array();
    for (const DdlStatement& step : ddl.steps) steps.push_back(ddl_json(scenario, phase, step));
    json["steps"] = steps;
  }
  return json;
}

nlohmann::json statements_json(const Scenario& scenario, const MigrationPlan& plan) {
  nlohmann::json statements = nlohmann::json::array();
  for (const DdlStatement& ddl : plan.expand) statements.push_back(ddl_json(scenario, "expand", ddl));
  for (const DdlStatement& ddl : plan.contract) statements.push_back(ddl_json(scenario, "contract", ddl));
  for (const DdlStatement& ddl : plan.rollback) statements.push_back(ddl_json(scenario, "rollback", ddl));
  return statements;
}

std::vector<std::string> ddl_steps(const Scenario& scenario, const std::vector<DdlStatement>& statements, const char* when_empty) {
  std::vector<std::string> steps;
  for (const DdlStatement& statement : statements) {
    for (std::string& line : ddl_step(scenario, statement)) steps.push_back(std::move(line));
  }
  if (steps.empty()) steps.emplace_back(when_empty);
  return steps;
}

// A SQL file's statements as read (core/sql_migration.h): where, what PostgreSQL does with each
// (its locks per relation, its work, its estimate) and the findings at its line.
std::vector<std::string> sql_statement_lines(const Scenario& scenario, const std::vector<SqlStatement>& statements,
                                             const std::vector<LintFinding>& findings) {
  std::vector<std::string> lines;
  for (const SqlStatement& s : statements) {
    std::string context;
    if (s.block > 0 && s.effect != SqlEffect::begin) context = fmt::format(" (in transaction block {})", s.block);
    if (s.block == 0 && s.effect != SqlEffect::begin && s.effect != SqlEffect::commit && s.effect != SqlEffect::rollback) {
      context = " (autocommit)";
    }
    lines.push_back(fmt::format("{}:{}:{}: {} -- {}{}", s.file, s.line, s.column, s.kind, to_string(s.effect), context));
    lines.push_back(fmt::format("    {}", one_line(s.text)));
    if (s.effect == SqlEffect::opaque) lines.push_back(fmt::format("    opaque ({}): ACCESS EXCLUSIVE assumed on {}", s.why, fmt::join(s.tables, ", ")));
    for (const DdlStatement& ddl : s.ddl) {
      lines.push_back(fmt::format("    {} {}  [{}]", statement_model(statement_kind(ddl)).name, ddl.table, locks_of(scenario, ddl)));
    }
    if (s.lock_timeout_us >= 0) {
      lines.push_back(fmt::format("    lock_timeout = {} for the statements after it",
                                  duration_text(s.lock_timeout_us, DurationStyle::whole)));
    }
    for (const LintFinding& finding : findings) {
      if (finding.file == s.file && finding.line == s.line) lines.push_back(fmt::format("    {} {}", to_string(finding.severity), finding.id));
    }
  }
  return lines;
}

nlohmann::json sql_statements_json(const Scenario& scenario, const std::vector<SqlStatement>& statements,
                                   const std::vector<LintFinding>& findings) {
  nlohmann::json out = nlohmann::json::array();
  for (const SqlStatement& s : statements) {
    nlohmann::json ddl = nlohmann::json::array();
    for (const DdlStatement& d : s.ddl) ddl.push_back(ddl_json(scenario, "expand", d));
    nlohmann::json ids = nlohmann::json::array();
    for (const LintFinding& finding : findings) {
      if (finding.file == s.file && finding.line == s.line) ids.push_back(finding.id);
    }
    nlohmann::json json = {{"file", s.file}, {"line", s.line}, {"column", s.column}, {"kind", s.kind},
                           {"effect", to_string(s.effect)}, {"text", s.text}, {"block", s.block},
                           {"in_transaction", s.in_transaction}, {"if_exists", s.if_exists}, {"statements", ddl},
                           {"findings", ids}};
    if (s.effect == SqlEffect::opaque) json["opaque"] = {{"why", s.why}, {"tables", s.tables}};
    out.push_back(json);
  }
  return out;
}

PhaseDescription dual_write_phase(const Scenario& scenario, const MigrationPlan& plan) {
  PhaseDescription phase{"dual_write", {"set flag dual_write = on: new application code writes both versions"}};
  // The PostgreSQL backend installs the trigger in the flag's transaction (CREATE FUNCTION, CREATE
  // OR REPLACE TRIGGER) and drops it in the rollback's (DROP TRIGGER); both worlds queue for the lock.
  auto on_table = [&plan](RelationRole) { return plan.table; };
  phase.steps.push_back(fmt::format("the trigger's DDL: CREATE OR REPLACE FUNCTION (no lock on the table), then CREATE OR "
                                    "REPLACE TRIGGER [{}], held to the flag's commit (a rollback's DROP TRIGGER: [{}])",
                                    describe_locks(statement_model(StatementKind::create_trigger), on_table),
                                    describe_locks(statement_model(StatementKind::drop_trigger), on_table)));
  for (const DerivedColumn& derived : plan.derived) {
    phase.steps.push_back(fmt::format("writes from old code fill {} = {}", derived.column, derived.up.text()));
    if (!derived.down.empty()) {
      phase.steps.push_back(fmt::format("writes from new code fill old column {} = {}", derived.source, derived.down.text()));
    } else if (!derived.source.empty()) {
      phase.steps.push_back(fmt::format("no `down`: new-code writes do not reach old column {}", derived.source));
    }
  }
  phase.steps.push_back(fmt::format("the application moves to the new code version after {}",
                                    to_string(scenario.workload.new_code_after)));
  return phase;
}

PhaseDescription backfill_phase(const Scenario& scenario, const MigrationPlan& plan) {
  const EngineSpec& engine = scenario.engine;
  PhaseDescription phase{"backfill", {}};
  for (const ColumnFill& fill : plan.fills) phase.steps.push_back(fmt::format("fill {} = {}", fill.column, fill.up.text()));
  if (plan.fills.empty()) phase.steps.emplace_back("no column to fill");
  if (engine.batch_size > 0) {
    phase.steps.push_back(fmt::format(
        "in id-range batches of {} rows, {} pause between batches, old values read from the {}", engine.batch_size,
        duration_text(engine.batch_pause_us, DurationStyle::whole), to_string(engine.backfill_source)));
  } else {
    phase.steps.push_back(fmt::format("one unbatched UPDATE of all {} rows, old values read from the {}",
                                      scenario.table.rows, to_string(engine.backfill_source)));
  }
  if (engine.max_replication_lag_us > 0) {
    phase.steps.push_back(fmt::format("pause while any replica lags more than {}",
                                      duration_text(engine.max_replication_lag_us, DurationStyle::whole)));
  } else {
    phase.steps.emplace_back("never pause for replication lag");
  }
  return phase;
}

PhaseDescription validate_phase(const Scenario& scenario, const MigrationPlan& plan) {
  PhaseDescription phase{"validate", {}};
  if (!scenario.engine.validate) {
    phase.steps.emplace_back("skipped (engine.validate: false)");
    return phase;
  }
  for (const ColumnFill& fill : plan.fills) {
    phase.steps.push_back(fmt::format("checksum {} against up(old values) and compare row counts; re-backfill mismatched ranges", fill.column));
  }
  for (const std::string& column : plan.not_null) phase.steps.push_back(fmt::format("check no NULL in {}", column));
  if (phase.steps.empty()) phase.steps.emplace_back("compare row counts");
  return phase;
}

PhaseDescription rollback_phase(const Scenario& scenario, const MigrationPlan& plan) {
  PhaseDescription phase{"rollback", {}};
  if (scenario.engine.on_failure == OnFailure::halt) {
    phase.steps.emplace_back("on failure the engine halts and leaves the region as it is (on_failure: halt); a rollback would be:");
  } else {
    phase.steps.emplace_back("on failure before contract (on_failure: rollback): flags off, then");
  }
  const std::vector<std::string> ddl = ddl_steps(scenario, plan.rollback, "nothing to undo");
  phase.steps.insert(phase.steps.end(), ddl.begin(), ddl.end());
  return phase;
}

std::vector<PhaseDescription> describe_phases(const Scenario& scenario, const MigrationPlan& plan) {
  if (plan.as_written) {  // a SQL file run as written: its statements are the migration
    return {PhaseDescription{"expand", ddl_steps(scenario, plan.expand, "no statement")},
            PhaseDescription{"dual_write", {"set flag dual_write = on (no derived column: the application is unchanged)"}},
            PhaseDescription{"backfill", {"nothing: a SQL file run as written fills what its own statements fill"}},
            PhaseDescription{"validate", {"nothing derived to validate (recorded as skipped)"}},
            PhaseDescription{"switch_reads", {"set flag read_new = on"}},
            PhaseDescription{"contract", {"no DDL"}},
            PhaseDescription{"rollback", {"on failure: flags off; the statements that applied stay applied (a runner does not undo a "
                                          "file; a failed BEGIN ... COMMIT block rolls back whole)"}}};
  }
  return {PhaseDescription{"expand", ddl_steps(scenario, plan.expand, "no DDL")},
          dual_write_phase(scenario, plan),
          backfill_phase(scenario, plan),
          validate_phase(scenario, plan),
          PhaseDescription{"switch_reads", {"set flag read_new = on: new code reads the new columns"}},
          PhaseDescription{"contract", ddl_steps(scenario, plan.contract, "no DDL")},
          rollback_phase(scenario, plan)};
}

std::vector<std::string> rollout_order(const Scenario& scenario) { return migrated_regions(scenario); }

void print_phases(std::ostream& out, const std::vector<PhaseDescription>& phases) {
  int number = 0;
  for (const PhaseDescription& phase : phases) {
    const std::string label = phase.name == "rollback" ? "   rollback" : fmt::format("{:>2}. {}", ++number, phase.name);
    out << fmt::format("  {:<18}{}\n", label, phase.steps.front());
    for (std::size_t step = 1; step < phase.steps.size(); ++step) out << fmt::format("  {:<18}{}\n", "", phase.steps[step]);
  }
}

// Global mode: where the one primary is, and where each region writes and reads.
void print_global_topology(std::ostream& out, const Topology& topology) {
  out << fmt::format("global topology: db:{} is the only primary; the migration runs once there and its DDL reaches "
                     "every replica by replication\n",
                     topology.home);
  for (const RegionSpec& region : topology.regions) {
    const bool home = region.name == topology.home;
    const std::string reads = region.replicas > 0
                                  ? fmt::format("reads from its {} replica{}{}", region.replicas,
                                                region.replicas == 1 ? "" : "s", home ? "" : " (replicating across regions)")
                                  : fmt::format("reads from db:{}{}", topology.home, home ? "" : " (across regions)");
    out << fmt::format("  {}: writes to db:{}{}, {}\n", region.name, topology.home, home ? "" : " (across regions)", reads);
  }
}

void print_rollout(std::ostream& out, const Scenario& scenario, const std::vector<std::string>& order) {
  const EngineSpec& engine = scenario.engine;
  out << fmt::format("rollout: {}, order {}\n", to_string(engine.rollout), fmt::join(order, " -> "));
  if (engine.rollout == Rollout::region_by_region && order.size() > 1) {
    out << fmt::format("health gate between regions: soak {}, max error rate {}, max replication lag {}\n",
                       duration_text(engine.health_gate.soak_us, DurationStyle::whole),
                       engine.health_gate.max_error_rate,
                       duration_text(engine.health_gate.max_replication_lag_us, DurationStyle::whole));
  }
  if (scenario.topology.mode == TopologyMode::global) print_global_topology(out, scenario.topology);
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// One line per table of a many-table scenario: its rows and key, then its indexes and
// constraints; and what the schema file held that was not simulated.
std::vector<std::string> constraint_texts(const TableSpec& table) {
  std::vector<std::string> texts;
  for (const ConstraintSpec& c : table.constraints) {
    const std::string state = c.validated ? "" : " NOT VALID";
    switch (c.kind) {
      case ConstraintKind::check: texts.push_back(fmt::format("{} CHECK ({}){}", c.name, c.check, state)); break;
      case ConstraintKind::unique: texts.push_back(fmt::format("{} UNIQUE ({})", c.name, fmt::join(c.columns, ", "))); break;
      case ConstraintKind::foreign_key:
        texts.push_back(fmt::format("{} FOREIGN KEY ({}) REFERENCES {}{}{}{}", c.name, fmt::join(c.columns, ", "), c.ref_table,
                                    c.ref_columns.empty() ? "" : fmt::format("({})", fmt::join(c.ref_columns, ", ")),
                                    c.on_delete.empty() ? "" : " ON DELETE " + upper(c.on_delete), state));
        break;
    }
  }
  return texts;
}

std::string index_text(const IndexSpec& index) {
  return fmt::format("{}{} ({}){}{}", index.unique ? "UNIQUE " : "", index.name, fmt::join(index.columns, ", "),
                     index.method.empty() ? "" : " USING " + index.method, index.predicate.empty() ? "" : " WHERE " + index.predicate);
}

void print_tables(std::ostream& out, const Scenario& scenario) {
  const std::vector<const TableSpec*> tables = all_tables(scenario);
  if (tables.size() < 2 && scenario.schema_path.empty()) return;
  out << fmt::format("tables ({}{}):\n", tables.size(), scenario.schema_path.empty() ? "" : ", from " + scenario.schema_path);
  for (const TableSpec* table : tables) {
    out << fmt::format("  {}: {} rows, primary key ({})\n", table->name, table->rows,
                       table->primary_key.empty() ? "id" : fmt::format("{}", fmt::join(table->primary_key, ", ")));
    for (const IndexSpec& index : table->indexes) out << fmt::format("    index {}\n", index_text(index));
    for (const std::string& text : constraint_texts(*table)) out << fmt::format("    constraint {}\n", text);
  }
  if (!scenario.schema_skipped.empty())
    out << fmt::format("schema statements read and not simulated: {}\n", fmt::join(scenario.schema_skipped, ", "));
}

nlohmann::json tables_json(const Scenario& scenario) {
  nlohmann::json tables = nlohmann::json::array();
  for (const TableSpec* table : all_tables(scenario)) {
    nlohmann::json indexes = nlohmann::json::array();
    for (const IndexSpec& index : table->indexes) indexes.push_back(index_text(index));
    tables.push_back({{"name", table->name},
                      {"rows", table->rows},
                      {"primary_key", table->primary_key.empty() ? std::vector<std::string>{"id"} : table->primary_key},
                      {"indexes", indexes},
                      {"constraints", constraint_texts(*table)}});
  }
  return tables;
}

void print_plan_text(std::ostream& out, const Scenario& scenario, const MigrationPlan& plan,
                     const std::vector<LintFinding>& findings) {
  const std::vector<std::string> order = rollout_order(scenario);
  const std::vector<PhaseDescription> phases = describe_phases(scenario, plan);
  out << fmt::format("plan {}: migration {} on table {} ({} rows)\n", scenario.name, plan.name, plan.table, scenario.table.rows);
  out << fmt::format("lock: {}, ttl {}, renew every {}, fencing {}; {} engine instance{}\n",
                     to_string(scenario.lock.backend), duration_text(scenario.lock.ttl_us, DurationStyle::whole),
                     duration_text(scenario.lock.renew_every_us, DurationStyle::whole),
                     to_string(scenario.lock.fencing), scenario.engine.instances,
                     scenario.engine.instances == 1 ? "" : "s");
  print_tables(out, scenario);
  print_rollout(out, scenario, order);
  for (std::size_t index = 0; index < order.size(); ++index) {
    out << fmt::format("\nregion {} ({} of {}):\n", order[index], index + 1, order.size());
    print_phases(out, phases);
  }
  if (scenario.migration.mode == MigrationMode::as_written && !scenario.migration.sql.empty()) {
    if (const Result<std::vector<SqlStatement>> statements = sql_statements(scenario); statements.is_ok()) {
      out << fmt::format("\nSQL migration run as written ({} statements; outside BEGIN ... COMMIT each autocommits, as Flyway "
                         "runs a non-transactional file):\n",
                         statements.value().size());
      for (const std::string& line : sql_statement_lines(scenario, statements.value(), findings)) out << "  " << line << "\n";
    }
  }
  out << fmt::format("\nfindings ({}):\n", findings.size());
  for (const LintFinding& finding : findings) {
    out << fmt::format("  {:<8} {:<24} {}\n", to_string(finding.severity), finding.id, finding.message);
  }
  if (findings.empty()) out << "  none\n";
}

nlohmann::json plan_json(const Scenario& scenario, const MigrationPlan& plan, const std::vector<LintFinding>& findings) {
  nlohmann::json phases = nlohmann::json::array();
  for (const PhaseDescription& phase : describe_phases(scenario, plan)) phases.push_back({{"name", phase.name}, {"steps", phase.steps}});
  nlohmann::json findings_json = nlohmann::json::array();
  for (const LintFinding& finding : findings) {
    nlohmann::json json = {{"id", finding.id}, {"severity", to_string(finding.severity)}, {"message", finding.message}};
    if (!finding.file.empty()) {
      json["file"] = finding.file;
      json["line"] = finding.line;
    }
    findings_json.push_back(json);
  }
  nlohmann::json json = {{"scenario", scenario.name},
                         {"migration", plan.name},
                         {"rollout", to_string(scenario.engine.rollout)},
                         {"regions", rollout_order(scenario)},
                         {"phases", phases},
                         {"statements", statements_json(scenario, plan)},
                         {"findings", findings_json}};
  if (scenario.migration.mode == MigrationMode::as_written && !scenario.migration.sql.empty()) {
    if (const Result<std::vector<SqlStatement>> statements = sql_statements(scenario); statements.is_ok()) {
      json["sql"] = {{"mode", "as-written"}, {"files", scenario.migration.from},
                     {"statements", sql_statements_json(scenario, statements.value(), findings)}};
    }
  }
  // Many tables only: a one-table plan's JSON stays as it was.
  if (all_tables(scenario).size() > 1 || !scenario.schema_path.empty()) {
    json["tables"] = tables_json(scenario);
    if (!scenario.schema_path.empty()) json["schema"] = {{"path", scenario.schema_path}, {"skipped", scenario.schema_skipped}};
  }
  return json;
}

}  // namespace

CLI::App* add_plan_command(CLI::App& app, PlanOptions& options) {
  CLI::App* command = app.add_subcommand(
      "plan", "Prints the per-region phase plan and the lint findings for unsafe settings, without running");
  command->add_option("scenario", options.scenario, "Scenario file, or the name of a built-in scenario")->required();
  command->add_flag("--json", options.json, "Print the plan and the findings as one JSON object");
  return command;
}

int command_plan(const PlanOptions& options) {
  std::optional<Scenario> scenario = load_or_report(options.scenario);
  if (!scenario) return kExitBadInput;
  Result<MigrationPlan> plan = compile_plan(*scenario);
  if (!plan.is_ok()) return kExitBadInput;  // load_or_report has compiled it once already
  const std::vector<LintFinding> findings = lint(*scenario);
  if (options.json) {
    std::cout << plan_json(*scenario, plan.value(), findings).dump(2) << "\n";
  } else {
    print_plan_text(std::cout, *scenario, plan.value(), findings);
  }
  return kExitPass;
}

}  // namespace rehearse::cli
