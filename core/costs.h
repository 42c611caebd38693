// The cost profile of the simulated database (../shared/spec/calibration.md): what a statement,
// a row, a request and a replicated change cost in simulated time. Every value has its unit in
// its name (`_us`, `_per_row_us`). A scenario picks one with `costs:` (scenarios/costs.h);
// without it the built-in profile applies.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>


namespace rehearse {

struct CostProfile {
  std::string source = "builtin:pg15-loopback-2026-12-02";  // a file, "inline", or the built-in's name
  // What each statement, row, request and replicated change costs (docs/calibration.md says
  // where the simulator charges each one). The defaults are the built-in profile: measured by
  // `rehearse calibrate` on PostgreSQL 15.18 with one streaming replica on loopback (a 2-core
  // Intel Xeon VM, 2026-12-02), as profiles/builtin-pg15-loopback.yaml holds them.
  double statement_base_us = 43.335;  // fixed cost of any statement (a backfill batch, a checksum window)
  double ddl_us = 123.424;            // a catalog-only DDL once it holds its lock
  // UPDATE cost per row by batch size (rows, per-row cost), ascending rows: a batch of N rows
  // costs the entry of the largest size <= N (the first entry below it).
  std::vector<std::pair<std::int64_t, double>> update_per_row_us{{100, 6.846}, {1000, 7.296}, {10000, 7.137}, {100000, 7.024}};
  double insert_per_row_us = 3.812;          // one inserted row, index maintenance included
  double scan_per_row_us = 0.145;            // a sequential scan (a checksum window, SET NOT NULL's check)
  double index_build_per_row_us = 0.800;     // CREATE INDEX CONCURRENTLY
  double table_rewrite_per_row_us = 2.035;   // a rewriting ALTER COLUMN TYPE
  double trigger_per_row_us = 2.531;         // the dual-write trigger computing its column, per row an application writes
  // The dual-write trigger standing aside, per row of a backfill batch (the engine's backfill
  // sets rehearse.backfill = on and writes the new column itself; the trigger returns at once).
  double trigger_bypass_per_row_us = 1.713;
  double row_lock_hold_us = 130.251;         // a waiter's delay from the row lock holder's COMMIT to its grant
  // An application session's first statement after a DDL changed its table (relation cache
  // rebuilt, the trigger's function compiled), over the statement itself.
  double catalog_reload_us = 145.286;
  // An application session's first write through the dual-write trigger after it was created
  // (PL/pgSQL loaded, the function compiled), over the write itself.
  double trigger_first_call_us = 1366.284;
  // The engine's dual-write step creating the trigger on a table: CREATE OR REPLACE FUNCTION
  // (PL/pgSQL's validator loads the language into the engine's session and compiles the body;
  // no lock on the table) and CREATE OR REPLACE TRIGGER, in one transaction. Measured 2026-12-06
  // on a 2-core AMD EPYC VM.
  double trigger_create_us = 5877.592;
  // The part of trigger_create_us from the CREATE OR REPLACE TRIGGER to the COMMIT: the table's
  // SHARE ROW EXCLUSIVE lock is taken at its start and held to the commit (writes queue behind
  // it only for this long; the function's compiling before it takes no lock on the table).
  double trigger_ddl_us = 831.005;
  double app_write_us = 599.250;             // one application point UPDATE (without the trigger)
  double app_read_us = 576.798;              // one application point read
  // The part of app_write_us and app_read_us that is waiting, not work: a request reaching a
  // session idle since its last one waits for the server's backend and the client to be woken
  // (the same point UPDATE back to back takes ~85 us of the ~600). On a shared host
  // (sim/cpu_host.h, conform) it is latency, not the host's processors; elsewhere it is simply
  // part of the request's cost. Measured 2026-12-06 on a 2-core AMD EPYC VM.
  double app_idle_wake_us = 419.177;
  double lookup_us = 132.070;                // a small engine query (key range, checkpoint, flag, lag)
  // The rest of a backfill batch's transaction besides its UPDATE: the fence, the trigger
  // stood aside, the columns read, the checkpoint, BEGIN and COMMIT (real_backends/postgres.h
  // run_batch_transaction). Measured 2026-12-05 on a 2-core AMD EPYC VM (the other keys 2026-12-02).
  double batch_overhead_us = 1224.456;
  // The engine's replication-lag read before every batch (and while it waits on a lagging
  // replica), as the live engine runs it (real_backends/postgres.cc replication_lag): the
  // primary's flush position and pg_stat_replication, then each of the region's replicas'
  // replay position. Measured 2026-12-05 04:42 UTC on the 2-core AMD EPYC VM.
  double lag_read_us = 536.754;
  double lag_read_per_replica_us = 144.998;
  // A shared host's scheduling (rehearse conform: every server on one machine, sim/cpu_host.h):
  // how much longer an application request waits for a processor while a migration statement
  // runs beside it, as percentiles of the measured extra wait (paced point UPDATEs started
  // during 2,000-row batch UPDATEs, minus app_write_us). Charged only on a shared host.
  double busy_host_wait_p50_us = 0.000;
  double busy_host_wait_p90_us = 1098.631;
  double busy_host_wait_p99_us = 4169.664;
  double busy_host_wait_max_us = 8101.084;
  // A shared host's processors as the database's concurrent writes get them: two UPDATEs of
  // the same size on disjoint rows, each alone and then side by side, as (alone + alone) / the
  // pair's wall time; at most the host's cores. The simulated host (sim/cpu_host.h) runs
  // statements side by side at this many cores' speed. Measured 2026-12-05 on the 2-core AMD
  // EPYC VM: 1.17, not two free processors.
  double parallel_write_cores = 1.169;
  double replica_apply_per_row_us = 1.802;   // a replica replaying one changed row
  double replica_base_delay_us = 106.561;    // commit -> replayed on a replica, before the network's delay

  // The extra wait at quantile `q` (0..1) of busy_host_wait: the p50 up to q = 0.5 (the lower
  // half waits about nothing), then linear between the p50, p90, p99 and the max (taken as the
  // p99.75: calibrate's max is of about 400 samples), and past the p99 never less than an
  // exponential tail (each tenth of the probability adds the p90 -> p99 step) from the p99 and,
  // past the max, from the max: a run draws thousands of waits.
  double busy_host_wait_us_at(double q) const;
  // The UPDATE per-row cost for a batch of `rows` rows.
  double update_per_row_us_at(std::int64_t rows) const;
  // One application INSERT: the point write statement with its updated row's cost replaced by
  // an inserted row's (app_write_us - update_per_row_us_at(1) + insert_per_row_us), and never
  // less than a statement (statement_base_us).
  double app_insert_us() const;
  // `per_us` times `count`, rounded to whole simulated microseconds.
  static std::int64_t total_us(double per_us, std::int64_t count);
};

// The profile that applies without `costs:`: the measured one above (CostProfile's defaults).
const CostProfile& builtin_cost_profile();

// The keys of a profile file, in the order `rehearse calibrate` writes them.
const std::vector<std::string>& cost_profile_keys();
// The scalar value of `key` (not update_per_row_us); nullptr for an unknown key.
double* cost_field(CostProfile& profile, const std::string& key);

}  // namespace rehearse
