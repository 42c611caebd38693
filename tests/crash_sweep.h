// The as-written crash sweep (real-migrations.md, "SQL files"; issue 14 acceptance 4), shared by
// the simulated test (crash_sweep_test.cc) and the live one (live_test.cc): a mixed SQL file --
// an autocommitted ALTER, a BEGIN ... COMMIT block, a CREATE INDEX CONCURRENTLY, a NOT VALID
// constraint -- run as written while engine-1 is killed before, inside or after one of its
// statements and restarted. A re-run runs the file from its first statement, as Flyway re-runs a
// failed migration: it meets what the first run left.
#pragma once

#include <fmt/format.h>

#include <ostream>
#include <string>
#include <vector>

namespace rehearse::crash_sweep {

inline const char* kMixedFile =
    "SET lock_timeout = '1s';\n"
    "ALTER TABLE orders ADD COLUMN note text;\n"
    "BEGIN;\n"
    "ALTER TABLE orders ADD COLUMN status text;\n"
    "CREATE INDEX orders_status_idx ON orders (status);\n"
    "COMMIT;\n"
    "CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);\n"
    "ALTER TABLE orders ADD CONSTRAINT orders_amount_check CHECK (amount >= 0) NOT VALID;\n";

// A file whose CREATE INDEX CONCURRENTLY is its first statement to meet a transaction open from
// the start (ACCESS SHARE, holding a snapshot): it takes its lock and builds, then waits for that
// transaction past lock_timeout and leaves its index INVALID.
inline const char* kIndexFile =
    "SET lock_timeout = '1s';\n"
    "CREATE INDEX CONCURRENTLY orders_note_idx ON orders (amount);\n";

// What the table is at the end: each of the file's objects, and whether the migration completed.
struct State {
  std::vector<std::string> columns;  // of note and status, those present
  std::string status_index;          // absent | valid | invalid
  std::string note_index;            // absent | valid | invalid
  bool check = false;                // orders_amount_check present
  bool completed = false;
  bool operator==(const State&) const = default;
};

inline std::string to_string(const State& s) {
  return fmt::format("columns [{}], orders_status_idx {}, orders_note_idx {}, orders_amount_check {}, {}", fmt::join(s.columns, " "),
                     s.status_index, s.note_index, s.check ? "present" : "absent", s.completed ? "completed" : "not completed");
}

inline void PrintTo(const State& s, std::ostream* os) { *os << to_string(s); }

struct Case {
  const char* name;
  const char* file;  // the SQL file's text
  // The faults (YAML flow items) beside the crash; the crash of engine-1 at `crash_at` with a
  // restart 2 s later.
  const char* crash_at;
  const char* other_faults;
  State expected;  // as PostgreSQL leaves it
  // Whether the live suite can time it exactly: a crash at a statement's start, or a blocker
  // open from the run's start (before the engine starts); not a blocker timed to a statement.
  bool live = true;
};

// Statements are counted as `plan` lists them: 1 is the SET, 2 the ALTER, 3 the block, 4 the
// CREATE INDEX CONCURRENTLY, 5 the constraint. Before statement N: the statements before it
// applied, each autocommitted or committed as a block; the re-run fails on the first one (ADD
// COLUMN without IF NOT EXISTS). Inside a statement that waits behind a transaction and then runs:
// its engine is gone before COMMIT, so it rolls back although its work was done (inside the first
// ALTER the re-run then applies the whole file; inside the block the re-run fails on the ALTER
// before it). Inside a CREATE INDEX CONCURRENTLY that waits for an older transaction past
// lock_timeout: its index is left INVALID and the re-run fails on it. After the last statement the
// restarted engine resumes from the checkpoint and completes. The blocker of the first ALTER is
// open from the start for 2.8 s: the crash, 200 ms into the ALTER's wait, must find it still open
// however late the engine's process reaches the ALTER (600 ms, then 1.5 s, were too short for a
// loaded CI machine: the sanitizer build's engine reached the ALTER 1.42 s in, the blocker ended
// and the ALTER ran 24 ms before the crash landed, and the re-run failed on the column it had
// added), and the re-run's ALTER must not wait on it past lock_timeout (1 s): the restart comes 2 s
// after the crash, which is at least 2.2 s in, so that wait is at most 0.8 s less both startups.
inline std::vector<Case> cases() {
  const std::vector<std::string> none;
  const std::vector<std::string> note{"note"};
  const std::vector<std::string> both{"note", "status"};
  return {
      {"before statement 1", kMixedFile, "{phase: expand, statement: 1}", "", State{both, "valid", "valid", true, true}},
      {"before statement 2", kMixedFile, "{phase: expand, statement: 2}", "", State{both, "valid", "valid", true, true}},
      {"before statement 3", kMixedFile, "{phase: expand, statement: 3}", "", State{note, "absent", "absent", false, false}},
      {"before statement 4", kMixedFile, "{phase: expand, statement: 4}", "", State{both, "valid", "absent", false, false}},
      {"before statement 5", kMixedFile, "{phase: expand, statement: 5}", "", State{both, "valid", "valid", false, false}},
      {"after statement 5", kMixedFile, "{phase: dual_write}", "", State{both, "valid", "valid", true, true}},
      {"inside the ALTER, blocked from the start", kMixedFile, "{phase: expand, statement: 2, after: 200ms}",
       "{at: 0s, long_transaction: db:us-east-1, for: 2800ms}", State{both, "valid", "valid", true, true}},
      {"inside the block", kMixedFile, "{phase: expand, statement: 3, after: 300ms}",
       "{at: {phase: expand, statement: 3}, long_transaction: db:us-east-1, for: 500ms}", State{note, "absent", "absent", false, false},
       false},
      {"inside CREATE INDEX CONCURRENTLY", kIndexFile, "{phase: expand, statement: 2, after: 300ms}",
       "{at: 0s, long_transaction: db:us-east-1, for: 5s}", State{none, "absent", "invalid", false, false}},
  };
}

// The scenario of `c`: the file (written beside it as crash-sweep.sql), 1,000 rows, no traffic.
inline std::string scenario_yaml(const Case& c) {
  std::string faults = fmt::format("  - {{at: {}, crash: engine-1, restart_after: 2s}}\n", c.crash_at);
  if (*c.other_faults != '\0') faults += fmt::format("  - {}\n", c.other_faults);
  return fmt::format(
      "name: crash-sweep\n"
      "description: A mixed SQL file run as written, its engine killed and restarted.\n"
      "duration: 2m\n"
      "topology: {{regions: [{{name: us-east-1, replicas: 0}}]}}\n"
      "lock: {{backend: redis, ttl: 3s, renew_every: 1s, fencing: storage}}\n"
      "engine: {{instances: 1, lock_timeout: 1s, ddl_retries: 0, on_failure: halt}}\n"
      "table: {{name: orders, rows: 1000, columns: {{amount: {{type: integer, gen: \"0..100\"}}}}}}\n"
      "migration:\n  from: crash-sweep.sql\n"
      "workload: {{writes_per_s: 0, reads_per_s: 0}}\n"
      "faults:\n{}",
      faults);
}

}  // namespace rehearse::crash_sweep
