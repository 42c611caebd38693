// The lint rules of core/lint.h, one small function per group of settings.
#include "core/lint.h"

#include "core/sql_migration.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/duration.h"
#include "core/plan.h"
#include "core/statements.h"

namespace rehearse {

namespace {

void add(std::vector<LintFinding>& findings, const char* id, LintSeverity severity, std::string message) {
  findings.push_back(LintFinding{id, severity, std::move(message)});
}

// Every replica of the topology. In global mode they all replicate from the home primary (a
// region without replicas reads from that primary), so the count is the same sum.
int replica_count(const Topology& topology) {
  int replicas = 0;
  for (const RegionSpec& region : topology.regions) replicas += region.replicas;
  return replicas;
}

void lint_fencing(const Scenario& scenario, std::vector<LintFinding>& findings) {
  if (scenario.lock.fencing == Fencing::none) {
    add(findings, "no-fencing", LintSeverity::error,
        "lock.fencing is none: writes carry no token, so an engine that pauses past its lease keeps writing after "
        "another engine has taken the lock over; use fencing: storage.");
  } else if (scenario.lock.fencing == Fencing::client) {
    add(findings, "client-fencing", LintSeverity::warning,
        "lock.fencing is client: the engine checks its own idea of its lease before each write, a check that a "
        "process pause between the check and the write defeats; use fencing: storage.");
  }
}

void lint_lease(const Scenario& scenario, std::vector<LintFinding>& findings) {
  const LockSpec& lock = scenario.lock;
  const TimeUs batch_us = estimated_batch_us(scenario);
  if (lock.ttl_us < 2 * batch_us) {
    add(findings, "ttl-shorter-than-batch", LintSeverity::error,
        fmt::format("lock.ttl {} is shorter than twice the estimated longest backfill batch ({} for {} rows), so the "
                    "lease can run out while one batch is still writing.",
                    duration_text(lock.ttl_us, DurationStyle::estimate),
                    duration_text(batch_us, DurationStyle::estimate),
                    scenario.engine.batch_size > 0 ? scenario.engine.batch_size : scenario.table.rows));
  }
  if (lock.renew_every_us == 0) {
    add(findings, "no-renewal", LintSeverity::warning,
        fmt::format("lock.renew_every is 0: the lease is never renewed and runs out {} after it is taken, however "
                    "healthy its holder is.",
                    duration_text(lock.ttl_us, DurationStyle::estimate)));
  } else if (lock.renew_every_us >= lock.ttl_us) {
    add(findings, "no-renewal", LintSeverity::error,
        fmt::format("lock.renew_every {} is not shorter than lock.ttl {}: the lease expires before it is renewed.",
                    duration_text(lock.renew_every_us, DurationStyle::estimate),
                    duration_text(lock.ttl_us, DurationStyle::estimate)));
  }
  if (lock.backend == LockBackend::app_database) {
    add(findings, "lock-in-app-database", LintSeverity::warning,
        "lock.backend is app-database: the migration lock lives in the database being migrated, so the DDL, a "
        "failover or an overload of that database also decides who holds the lock.");
  }
}

// The plan's DDL whose lock (core/statements.h) the application's reads (ACCESS SHARE) or writes
// (ROW EXCLUSIVE) wait for, as "ADD COLUMN (nullable) amount_cents takes ACCESS EXCLUSIVE".
std::vector<std::string> statements_blocking_the_application(const Scenario& scenario) {
  std::vector<std::string> blocking;
  Result<MigrationPlan> plan = compile_plan(scenario);
  if (!plan.is_ok()) return blocking;
  for (const auto* step : {&plan.value().expand, &plan.value().contract}) {
    for (const DdlStatement& statement : *step) {
      const StatementModel& model = statement_model(statement_kind(statement));
      const std::optional<LockMode> mode = lock_on(model, RelationRole::table);
      if (!mode || (!conflicts(*mode, LockMode::access_share) && !conflicts(*mode, LockMode::row_exclusive))) continue;
      // What it is about: the column, else the constraint (ADD / VALIDATE CONSTRAINT), else the table.
      const std::string& subject = !statement.column.empty()       ? statement.column
                                   : !statement.constraint.empty() ? statement.constraint
                                                                   : statement.table;
      blocking.push_back(fmt::format("{} {} takes {}", model.name, subject, sql_name(*mode)));
    }
  }
  return blocking;
}

void lint_lock_timeout(const Scenario& scenario, std::vector<LintFinding>& findings) {
  const std::vector<std::string> blocking = statements_blocking_the_application(scenario);
  if (blocking.empty()) {
    add(findings, "no-lock-timeout", LintSeverity::warning,
        "engine.lock_timeout is 0: DDL waits forever for the table lock behind a conflicting transaction; no statement "
        "of this plan takes a lock the application's queries wait for, but the migration stalls.");
    return;
  }
  add(findings, "no-lock-timeout", LintSeverity::error,
      fmt::format("engine.lock_timeout is 0: DDL waits forever for the table lock, and every application query on the "
                  "table queues behind it while a long transaction holds the lock: {}.",
                  fmt::join(blocking, ", ")));
}

void lint_ddl_and_backfill(const Scenario& scenario, std::vector<LintFinding>& findings) {
  const EngineSpec& engine = scenario.engine;
  if (engine.lock_timeout_us == 0) lint_lock_timeout(scenario, findings);
  if (engine.batch_size == 0) {
    add(findings, "unbatched-backfill", LintSeverity::error,
        fmt::format("engine.batch_size is 0: the backfill is one UPDATE of all {} rows, holding row locks on the whole "
                    "table until it commits; use batches of about 1000 rows.",
                    scenario.table.rows));
  }
  if (engine.backfill_source == BackfillSource::replica) {
    add(findings, "replica-backfill-source", LintSeverity::warning,
        "engine.backfill_source is replica: the backfill computes new values from a replica that may lag behind the "
        "primary, so rows can be filled from stale old values.");
  }
  const int replicas = replica_count(scenario.topology);
  if (engine.max_replication_lag_us == 0 && replicas > 0) {
    add(findings, "no-lag-throttle", LintSeverity::warning,
        fmt::format("engine.max_replication_lag is 0 with {} replica{}: the backfill never pauses for replication "
                    "lag, so replicas can fall far behind and serve stale reads.",
                    replicas, replicas == 1 ? "" : "s"));
  }
}

void lint_rollout(const Scenario& scenario, std::vector<LintFinding>& findings) {
  const EngineSpec& engine = scenario.engine;
  // One migrated region (global mode) has nothing to roll out at once.
  const bool one_region_migrated = scenario.topology.mode == TopologyMode::global;
  if (engine.rollout == Rollout::all_at_once && !one_region_migrated) {
    add(findings, "all-at-once", LintSeverity::warning,
        "engine.rollout is all-at-once: a failing step hits every region at the same time instead of the first "
        "region only; use region-by-region with a health gate.");
  }
  if (!engine.validate) {
    add(findings, "validation-off", LintSeverity::warning,
        "engine.validate is false: nothing compares checksums or row counts of the new columns before contract "
        "drops the old ones.");
  }
  if (engine.backoff.jitter == Jitter::none) {
    add(findings, "no-jitter", LintSeverity::warning,
        "engine.backoff.jitter is none: competing engines and retried DDL back off in lockstep and collide again.");
  }
}

}  // namespace

const char* to_string(LintSeverity severity) { return severity == LintSeverity::error ? "error" : "warning"; }

TimeUs estimated_batch_us(const Scenario& scenario) {
  const std::int64_t rows = scenario.engine.batch_size > 0 ? scenario.engine.batch_size : scenario.table.rows;
  const CostProfile& costs = scenario.costs;
  return CostProfile::total_us(costs.statement_base_us, 1) +
         CostProfile::total_us(costs.update_per_row_us_at(rows) + costs.trigger_bypass_per_row_us, rows);
}

std::vector<LintFinding> lint(const Scenario& scenario) {
  std::vector<LintFinding> findings;
  lint_fencing(scenario, findings);
  lint_lease(scenario, findings);
  lint_ddl_and_backfill(scenario, findings);
  lint_rollout(scenario, findings);
  // A SQL file run as written: its statements' own findings (core/sql_migration.h).
  if (scenario.migration.mode == MigrationMode::as_written && !scenario.migration.sql.empty()) {
    if (const Result<std::vector<SqlStatement>> statements = sql_statements(scenario); statements.is_ok()) {
      for (LintFinding& finding : lint_sql(scenario, statements.value())) findings.push_back(std::move(finding));
    }
  }
  return findings;
}

}  // namespace rehearse
