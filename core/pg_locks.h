// PostgreSQL's eight table-level lock modes and their conflict table, exactly as the PostgreSQL 15
// documentation gives them (13.3.1 "Table-Level Locks", Table 13.2 "Conflicting Lock Modes"), and
// the names pg_locks prints for them. The statement model (core/statements.h) says which mode
// each statement takes; the simulated lock queue (sim/table_lock.h) grants by this table; the
// live suite compares both with what pg_locks shows.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace rehearse {

// In PostgreSQL's own order (lockdefs.h numbers them 1..8 in this order): a later mode is not
// always "stronger" (ROW EXCLUSIVE and SHARE do not conflict with themselves but with each
// other), so compare modes with conflicts(), never with <.
enum class LockMode : std::uint8_t {
  access_share,            // SELECT
  row_share,               // SELECT ... FOR UPDATE / FOR SHARE
  row_exclusive,           // INSERT, UPDATE, DELETE
  share_update_exclusive,  // VACUUM, CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT, COMMENT ON
  share,                   // CREATE INDEX (without CONCURRENTLY)
  share_row_exclusive,     // CREATE TRIGGER, ADD FOREIGN KEY
  exclusive,               // REFRESH MATERIALIZED VIEW CONCURRENTLY
  access_exclusive,        // most ALTER TABLE forms, DROP TABLE, TRUNCATE
};

inline constexpr std::size_t kLockModeCount = 8;
inline constexpr std::array<LockMode, kLockModeCount> kLockModes = {
    LockMode::access_share, LockMode::row_share, LockMode::row_exclusive, LockMode::share_update_exclusive,
    LockMode::share, LockMode::share_row_exclusive, LockMode::exclusive, LockMode::access_exclusive};

// Whether a request in `requested` must wait for a transaction holding (or, in the queue, asking
// for) `held`. Symmetric: conflicts(a, b) == conflicts(b, a).
bool conflicts(LockMode requested, LockMode held);
// Whether every mode `weaker` conflicts with also conflicts with `stronger`: holding `stronger`
// blocks everything holding `weaker` beside it would (a transaction holding both blocks exactly
// what `stronger` alone blocks).
bool subsumes(LockMode stronger, LockMode weaker);

// "ACCESS EXCLUSIVE", as the documentation and LOCK TABLE ... IN ... MODE spell it.
const char* sql_name(LockMode mode);
// "AccessExclusiveLock", as pg_locks.mode prints it.
const char* pg_locks_name(LockMode mode);
// The mode pg_locks prints as `name`; nullopt for a name that is not a table lock mode.
std::optional<LockMode> lock_mode_from_pg_locks(std::string_view name);

}  // namespace rehearse
