// Lint of a scenario's settings: the unsafe choices that the scenario library rehearses as
// mistakes (no fencing, no lock_timeout, an unbatched backfill, ...), each reported as a finding
// with a stable short id, a severity and a sentence. It reads the settings and the compiled
// plan's statements (their lock modes from core/statements.h, the model the simulator and the
// PostgreSQL backend share) and runs nothing; `rehearse plan` prints the findings and the
// report writer reuses them.
#pragma once

#include <string>
#include <vector>

#include "core/model.h"

namespace rehearse {

enum class LintSeverity { warning, error };
const char* to_string(LintSeverity severity);

struct LintFinding {
  std::string id;  // stable: no-fencing, client-fencing, ttl-shorter-than-batch, ...
  LintSeverity severity = LintSeverity::warning;
  std::string message;
  // A SQL migration file's statement the finding is about (core/sql_migration.h); empty / 0 for
  // a finding about the scenario's settings.
  std::string file;
  int line = 0;
};

// One backfill batch as the simulated database costs it with the scenario's profile (used by
// the `ttl-shorter-than-batch` finding): statement_base_us + rows x (update_per_row_us at that
// size + trigger_bypass_per_row_us, the dual-write trigger being installed during the backfill
// and standing aside for its rows), rows
// being batch_size, or the whole table when batch_size is 0 (one unbatched UPDATE).
TimeUs estimated_batch_us(const Scenario& scenario);

// Every finding for `scenario`, in a fixed order (lock settings first, then the engine's).
std::vector<LintFinding> lint(const Scenario& scenario);

}  // namespace rehearse
