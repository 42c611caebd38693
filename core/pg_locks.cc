// Table 13.2 of the PostgreSQL 15 documentation ("Conflicting Lock Modes"), one row per requested
// mode as a bit set of the modes it conflicts with; checked symmetric at compile time.
#include "core/pg_locks.h"

#include "core/assert.h"

namespace rehearse {

namespace {

constexpr std::uint8_t bit(LockMode mode) { return static_cast<std::uint8_t>(1U << static_cast<unsigned>(mode)); }

constexpr std::uint8_t kAccessShare = bit(LockMode::access_share);
constexpr std::uint8_t kRowShare = bit(LockMode::row_share);
constexpr std::uint8_t kRowExclusive = bit(LockMode::row_exclusive);
constexpr std::uint8_t kShareUpdateExclusive = bit(LockMode::share_update_exclusive);
constexpr std::uint8_t kShare = bit(LockMode::share);
constexpr std::uint8_t kShareRowExclusive = bit(LockMode::share_row_exclusive);
constexpr std::uint8_t kExclusive = bit(LockMode::exclusive);
constexpr std::uint8_t kAccessExclusive = bit(LockMode::access_exclusive);

// Row r: the modes a request in mode r conflicts with (an X in the documentation's table).
constexpr std::array<std::uint8_t, kLockModeCount> kConflicts = {
    /* ACCESS SHARE */ kAccessExclusive,
    /* ROW SHARE */ static_cast<std::uint8_t>(kExclusive | kAccessExclusive),
    /* ROW EXCLUSIVE */ static_cast<std::uint8_t>(kShare | kShareRowExclusive | kExclusive | kAccessExclusive),
    /* SHARE UPDATE EXCLUSIVE */
    static_cast<std::uint8_t>(kShareUpdateExclusive | kShare | kShareRowExclusive | kExclusive | kAccessExclusive),
    /* SHARE */ static_cast<std::uint8_t>(kRowExclusive | kShareUpdateExclusive | kShareRowExclusive | kExclusive | kAccessExclusive),
    /* SHARE ROW EXCLUSIVE */
    static_cast<std::uint8_t>(kRowExclusive | kShareUpdateExclusive | kShare | kShareRowExclusive | kExclusive | kAccessExclusive),
    /* EXCLUSIVE */
    static_cast<std::uint8_t>(kRowShare | kRowExclusive | kShareUpdateExclusive | kShare | kShareRowExclusive | kExclusive |
                              kAccessExclusive),
    /* ACCESS EXCLUSIVE */
    static_cast<std::uint8_t>(kAccessShare | kRowShare | kRowExclusive | kShareUpdateExclusive | kShare | kShareRowExclusive |
                              kExclusive | kAccessExclusive),
};

constexpr bool table_is_symmetric() {
  for (std::size_t a = 0; a < kLockModeCount; ++a) {
    for (std::size_t b = 0; b < kLockModeCount; ++b) {
      const bool ab = (kConflicts[a] >> b) & 1U;
      const bool ba = (kConflicts[b] >> a) & 1U;
      if (ab != ba) return false;
    }
  }
  return true;
}
static_assert(table_is_symmetric(), "a lock conflict is mutual");
static_assert(kConflicts[static_cast<std::size_t>(LockMode::access_share)] == kAccessExclusive,
              "a reader waits for ACCESS EXCLUSIVE only");
static_assert(kConflicts[static_cast<std::size_t>(LockMode::access_exclusive)] == 0xFF, "ACCESS EXCLUSIVE conflicts with all");

struct Names {
  const char* sql;
  const char* pg_locks;
};
constexpr std::array<Names, kLockModeCount> kNames = {{
    {"ACCESS SHARE", "AccessShareLock"},
    {"ROW SHARE", "RowShareLock"},
    {"ROW EXCLUSIVE", "RowExclusiveLock"},
    {"SHARE UPDATE EXCLUSIVE", "ShareUpdateExclusiveLock"},
    {"SHARE", "ShareLock"},
    {"SHARE ROW EXCLUSIVE", "ShareRowExclusiveLock"},
    {"EXCLUSIVE", "ExclusiveLock"},
    {"ACCESS EXCLUSIVE", "AccessExclusiveLock"},
}};

std::size_t index_of(LockMode mode) {
  const auto index = static_cast<std::size_t>(mode);
  REHEARSE_ASSERT(index < kLockModeCount);
  return index;
}

}  // namespace

bool conflicts(LockMode requested, LockMode held) { return ((kConflicts[index_of(requested)] >> index_of(held)) & 1U) != 0; }

bool subsumes(LockMode stronger, LockMode weaker) {
  const std::uint8_t strong = kConflicts[index_of(stronger)];
  const std::uint8_t weak = kConflicts[index_of(weaker)];
  return (strong & weak) == weak;
}

const char* sql_name(LockMode mode) { return kNames[index_of(mode)].sql; }

const char* pg_locks_name(LockMode mode) { return kNames[index_of(mode)].pg_locks; }

std::optional<LockMode> lock_mode_from_pg_locks(std::string_view name) {
  for (LockMode mode : kLockModes) {
    if (name == pg_locks_name(mode)) return mode;
  }
  return std::nullopt;
}

}  // namespace rehearse
