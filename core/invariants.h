// The invariant checkers of ../shared/spec/invariants.md other than mutual-exclusion (which is in
// checkers.h), and check_all() that runs every one of them. Each checker is a pure function of
// what a run recorded: its event history, its observations (table snapshots, acknowledged
// application writes, request windows and incidents, final states) and the scenario's SLO.
// A checker reports at most one violation per region or node; the detail counts the rest.
#pragma once

#include <cstddef>
#include <vector>

#include "core/checkers.h"
#include "core/history.h"
#include "core/model.h"
#include "core/observations.h"

namespace rehearse {

// data-consistency: in every snapshot, each derived column equals up(row) for rows last written
// by old code (or initially, or by the engine) while the columns up reads exist, and the old
// column equals down(row) for rows new code wrote last; a drained replica equals its primary's
// snapshot of the same moment row for row. The first broken snapshot per node is reported.
std::vector<Violation> check_data_consistency(const Observations& observations);

// The rows of `snapshot` that break a derived column in the way check_data_consistency judges
// (new != up(old) for old-code rows, old != down(new) for new-code rows): rehearse conform's
// traffic-independent digest of a table.
std::size_t count_rows_off_plan(const Observations& observations, const TableSnapshot& snapshot);

// no-lost-writes: the last acknowledged application write to each row (per group of columns
// that derived columns tie together) is visible in its region's final primary snapshot, in the
// columns of the schema in force there (through up after contract, through down after
// rollback). Writes to a plainly dropped column need not survive.
std::vector<Violation> check_no_lost_writes(const Observations& observations);

// schema-convergence: at the end every region is `contracted`, or every region is on the old
// schema (`rolled_back` or `pending`). Not judged when time ran out (liveness judges that).
// Always judged: each region's catalog at the end (primary and drained replicas, as the
// database itself describes the table) shows what its recorded state claims -- `contracted`
// the plan's new columns with their types and NOT NULL, its indexes, and none of the columns
// it dropped; `rolled_back` the old columns and none the plan added.
std::vector<Violation> check_schema_convergence(const Observations& observations);

// validate-before-contract: each region's first applied contract write is preceded by a passed
// validation in that region under the same fencing token.
std::vector<Violation> check_validate_before_contract(const History& history);

// availability: no request waited longer than slo.max_stall (0 = no limit), and no 10 s window
// of a region has failed / requests above slo.max_error_rate. With `slo.count: migration` (the
// default) only the requests the migration caused to stall or fail count (RequestIncident::cause,
// RequestWindow::failed_by_fault); with `all`, every request (the spec's meaning).
std::vector<Violation> check_availability(const Observations& observations, const SloSpec& slo);

// replica-staleness: no read was served staler than slo.max_replica_lag (0 = no limit); with
// `slo.count: migration` only reads the migration made stale count.
std::vector<Violation> check_replica_staleness(const Observations& observations, const SloSpec& slo);

// liveness: once every fault has ended before the time limit, the migration must end
// `completed` or `rolled_back`. Not judged when faults lasted until the end or no outcome was
// recorded.
std::vector<Violation> check_liveness(const Observations& observations);

// Every checker, mutual-exclusion included; violations sorted by time, then by the invariant's
// position in kInvariantNames.
std::vector<Violation> check_all(const History& history, const Observations& observations, const SloSpec& slo);

}  // namespace rehearse
