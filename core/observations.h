// What a run observed besides its event history, for the invariant checkers: snapshots of each
// region's table (primary and replicas) at validation, before contract and at the end; the
// application's acknowledged writes; request latencies and errors per 10 s window; and what
// the migration plan says about columns. Filled by the simulated world (or the live runner).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/expr.h"
#include "core/model.h"
#include "core/row.h"
#include "core/value.h"

namespace rehearse {

// One table as it stood at a moment: live columns and every row (ordered by id). Rows are
// shared with the table they were taken from (core/row.h), so a snapshot costs a handle per row.
// Each Row's writer says who wrote it last, for data-consistency ("wherever the row was last
// written by old code ... where new code wrote last").
struct TableImage {
  // A slot that reads the row's position + 1: the simulator keeps ids implicit.
  static constexpr int kRowPosition = -1;

  std::vector<std::string> columns;  // live column names, `id` first
  std::vector<int> slots;            // per column: its storage slot in the rows
  std::vector<Row> rows;

  // The index of `column` in `columns`, or -1.
  int column_index(const std::string& column) const {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == column) return static_cast<int>(i);
    }
    return -1;
  }
  std::size_t row_count() const { return rows.size(); }
  // Column `column` of row `row` (NULL when the column index is out of range).
  Value at(std::size_t row, int column) const;
  // The row's live columns in order.
  std::vector<Value> values(std::size_t row) const;
  Writer writer(std::size_t row) const { return rows[row].writer(); }

  // Building an image row by row (live mode, tests): `values` in column order.
  void add_row(const std::vector<Value>& values, Writer writer);
  void set(std::size_t row, int column, Value value);
  void set_writer(std::size_t row, Writer writer) { rows[row].set_writer(writer); }
};

// Same columns and the same values in every row (writers aside).
bool same_contents(const TableImage& a, const TableImage& b);

// One column as a database's catalog shows it.
struct CatalogColumn {
  std::string name;
  std::string type;  // to_string(ColumnType) for the types scenarios use, else the database's own name
  bool not_null = false;
};

// A table's catalog: what the database itself says the table is (PostgreSQL's
// information_schema / pg_indexes; the simulated table's own schema), not what the migration
// recorded about it.
struct TableCatalog {
  bool known = false;  // false: not read (snapshots built by hand in tests)
  std::vector<CatalogColumn> columns;
  std::vector<std::string> indexes;  // index names
  // Constraint names (CHECK, UNIQUE, FOREIGN KEY; not NOT NULL). Filled by the simulated table;
  // not yet compared by schema-convergence, nor read from PostgreSQL.
  std::vector<std::string> constraints;
  const CatalogColumn* column(const std::string& name) const {
    for (const CatalogColumn& c : columns) {
      if (c.name == name) return &c;
    }
    return nullptr;
  }
};

// What a region's recorded state claims its catalog shows (from the plan): columns present
// with their types (and NOT NULL where the plan sets it), columns absent, indexes present and
// absent. Columns and indexes the plan does not touch are not judged.
struct SchemaClaim {
  std::vector<CatalogColumn> present;     // not_null: must be NOT NULL (else not judged)
  std::vector<std::string> absent;
  std::vector<std::string> indexes;
  std::vector<std::string> absent_indexes;
};

struct TableSnapshot {
  std::string region;
  std::string node;     // db:REGION or db:REGION/replica-N
  std::string moment;   // validate | contract | end
  TimeUs time_us = 0;
  std::uint64_t event = 0;  // id of the history event at which it was taken
  bool drained = true;      // replica snapshots: taken after replication caught up
  TableImage table;
  TableCatalog catalog;     // the database's catalog of the table at the same moment
  std::string table_name;   // many tables: which; empty = the scenario's first table
};

// A column the migration computes from the old row (new = up(old)), and how to get the old
// value back from a new-code write (old = down(new)); empty `down` = none.
struct DerivedColumn {
  std::string column;       // the new column, as named while both exist
  std::string final_name;   // its name after contract (alter_column renames it back)
  std::string source;       // the old column it replaces (alter/rename), or "" (add_column)
  Expr up;
  Expr down;                // may be empty
  std::string table;        // the table it belongs to; empty = the migration's (MigrationPlan::table)
};

// An application write the application saw acknowledged.
struct AcknowledgedWrite {
  std::string region;
  std::int64_t row_id = 0;
  std::uint64_t order = 0;  // apply order at the primary (larger = later)
  TimeUs time_us = 0;       // when it was acknowledged
  bool new_code = false;
  ColumnValues values;  // column -> value as written (in the writer's schema)
  std::string table;                    // many tables: empty = the scenario's first table
};

// Who made an application request fail, stall or read stale data (docs/scenarios.md, `slo.count`):
// the migration (a lock held or queued by its DDL, rows locked by a backfill batch, a replica
// lagging behind the backfill) or an injected fault (a partitioned, paused, delayed or crashed
// node, an injected replication delay). A request a fault touched is the fault's unless the
// migration's own share of its wait would have breached the SLO without the fault.
enum class Cause { migration, fault };
constexpr int kCauses = 2;
const char* to_string(Cause cause);
inline int index_of(Cause cause) { return cause == Cause::fault ? 1 : 0; }

// The application's client timeout: a request not answered this long after it was due fails
// (the simulated application, sim/app.cc, and live traffic, real_backends/live_traffic.cc).
constexpr TimeUs kAppRequestTimeoutUs = 10 * kSec;
// The application's connection pool per region and request kind (writes, reads): the live
// traffic's workers, and the sessions whose first statement after a DDL on the table pays
// catalog_reload_us in the simulated database.
constexpr int kAppConnections = 8;

// Application requests per region in one 10 s window.
constexpr TimeUs kRequestWindowUs = 10 * kSec;
struct RequestWindow {
  TimeUs start_us = 0;
  std::int64_t requests = 0;
  std::int64_t failed = 0;
  std::int64_t failed_by_fault = 0;  // of `failed`, those an injected fault caused
};

// One slow, failed or stale request, worth naming in a violation.
struct RequestIncident {
  std::string region;
  std::string node;        // app:REGION
  TimeUs time_us = 0;      // when the request was sent
  TimeUs waited_us = 0;    // how long it waited (latency, or until it gave up)
  TimeUs staleness_us = 0; // reads: how far behind its primary the replica was
  bool failed = false;
  std::string what;        // "write row 17", "read from db:eu-west-1/replica-1"
  Cause cause = Cause::migration;
  // What it waited on, as a phrase after "waited 3.2s" (or after "served data 12s old"):
  // "on the ACCESS EXCLUSIVE lock queued by the migration's ADD COLUMN amount_cents in
  // us-east-1"; empty = not known.
  std::string why;
};

// One application request as the application timed it (rehearse conform's stall and write
// latency during the migration).
struct RequestLatency {
  std::string region;
  TimeUs sent_us = 0;
  TimeUs waited_us = 0;
  bool failed = false;
  bool write = false;
};

// A stretch in which the host ran none of a live run's threads (real_backends/host_pauses.h).
struct HostPause {
  TimeUs start_us = 0;
  TimeUs end_us = 0;
};

// A live run's use of the host's processors (real_backends/host_load.h): over window_us, the
// host's processors were busy for busy_us in all (steal included: time the VM's processors were
// taken away), statements_us of it in the database servers' client backends (the statements
// the simulator runs on its host).
struct HostLoad {
  TimeUs window_us = 0;
  TimeUs busy_us = 0;
  TimeUs statements_us = 0;
  // The host's load besides those statements, in cores (0 for an empty window).
  double background_cores() const {
    return window_us <= 0 ? 0.0 : static_cast<double>(std::max<TimeUs>(0, busy_us - statements_us)) / static_cast<double>(window_us);
  }
};

struct Observations {
  // The arena of the texts the simulated run generated (core/value.h): kept while any copy of
  // its observations is, since their snapshots and acknowledged writes hold those texts. Null
  // for live runs and observations built by hand.
  std::shared_ptr<TextArena> texts;
  std::vector<std::string> regions;       // topology order
  std::vector<DerivedColumn> derived;     // from the plan
  std::vector<std::string> old_columns;   // the table's columns before the migration (no id)
  std::vector<TableSnapshot> snapshots;   // in time order
  std::vector<AcknowledgedWrite> acknowledged;
  std::map<std::string, std::vector<RequestWindow>> windows;  // per region, in time order
  std::vector<RequestIncident> slow_requests;   // waited longer than slo.max_stall (first few)
  std::vector<RequestIncident> stale_reads;     // staler than slo.max_replica_lag (first few)
  TimeUs max_stall_us = 0;
  TimeUs max_staleness_us = 0;
  // By cause (index_of): failed requests, the longest wait and the stalest read. A request no
  // fault touched counts as the migration's.
  std::int64_t errors_by_cause[kCauses] = {0, 0};
  TimeUs max_stall_by_cause_us[kCauses] = {0, 0};
  TimeUs max_staleness_by_cause_us[kCauses] = {0, 0};
  // Every application request's latency, in the order they finished: live runs always keep
  // them; the simulator only when asked (sim::WorldOptions::keep_request_latencies), as they
  // cost memory.
  bool keep_request_latencies = false;
  std::vector<RequestLatency> request_latencies;
  // Live runs: the host's pauses of at least kHostPauseMinUs (real_backends/host_pauses.h), in
  // time order; rehearse conform measures the live requests net of them. Empty in simulation.
  std::vector<HostPause> host_pauses;
  // Live runs asked for it (LiveOptions::measure_host_load): the host's processors over the run.
  std::optional<HostLoad> host_load;
  TimeUs last_fault_end_us = 0;   // when the last fault ended (0 = none)
  TimeUs duration_us = 0;         // the scenario's time limit
  bool time_ran_out = false;      // engines still running at duration
  std::string outcome;            // completed | rolled_back | halted | incomplete
  std::map<std::string, std::string> final_states;  // region -> state of cli.md
  // What `contracted` and `rolled_back` claim about each region's catalog (the plan's).
  SchemaClaim contracted_schema;
  SchemaClaim old_schema;
};

}  // namespace rehearse
