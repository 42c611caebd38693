// Non-virtual helpers of the ports.
#include "core/ports.h"

#include <fmt/format.h>

#include "core/assert.h"

namespace rehearse {

std::int64_t Random::uniform(std::int64_t low, std::int64_t high) {
  REHEARSE_ASSERT(low <= high);
  const auto span = static_cast<std::uint64_t>(high - low) + 1;
  if (span == 0) return static_cast<std::int64_t>(next_u64());  // the whole 64-bit range
  // Lemire's unbiased bounded draw would be faster; modulo with rejection keeps it exact.
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  std::uint64_t draw = next_u64();
  while (draw >= limit) draw = next_u64();
  return low + static_cast<std::int64_t>(draw % span);
}

}  // namespace rehearse

namespace rehearse {

namespace {
// Live runs: no fault point ever fires, so no duration is ever drawn.
class NeverFaultPoints final : public FaultPoints {
 public:
  bool fires(FaultSite site) override {
    (void)site;
    return false;
  }
  TimeUs draw_us(FaultSite site, TimeUs low_us, TimeUs high_us) override {
    (void)site;
    REHEARSE_ASSERT(0 <= low_us && low_us <= high_us);
    return low_us;
  }
};
}  // namespace

FaultPoints& FaultPoints::never() {
  static NeverFaultPoints instance;  // stateless: safe to share between threads
  return instance;
}

namespace {
class NoApplicationMonitor final : public ApplicationMonitor {
 public:
  Result<RequestCounts> requests(const std::string& region) override {
    return Status::unavailable("no application monitor for " + region);
  }
};
}  // namespace

ApplicationMonitor& ApplicationMonitor::none() {
  static NoApplicationMonitor instance;  // stateless: safe to share between threads
  return instance;
}

}  // namespace rehearse

namespace rehearse {

std::string checkpoint_conflict(const CheckpointKey& wanted, const CheckpointKey& found) {
  if (found.plan_digest.empty()) {
    return fmt::format(
        "migration {}: the checkpoint in this database was written by an older rehearse that did not record what it "
        "migrated, so it cannot be told apart from another plan of the same name; if it is this plan's progress on "
        "table {}, adopt it with UPDATE rehearse_checkpoint SET tables = '{}', plan_digest = '{}' WHERE migration = '{}' "
        "in every region; otherwise give this migration another name (migration.name)",
        wanted.migration, wanted.tables, wanted.tables, wanted.plan_digest, wanted.migration);
  }
  const std::string what = found.tables != wanted.tables
                               ? fmt::format("table {}, not {}", found.tables, wanted.tables)
                               : fmt::format("table {} under another plan (digest {}, this plan's is {})", found.tables,
                                             found.plan_digest, wanted.plan_digest);
  return fmt::format(
      "migration {}: this database holds a checkpoint of a migration of that name for {}; it is not this plan's "
      "progress. Give this migration another name (migration.name), or, if that migration is finished and forgotten, "
      "delete its checkpoint (DELETE FROM rehearse_checkpoint WHERE migration = '{}') in every region, and its fence "
      "row (DELETE FROM rehearse_fence WHERE migration = '{}') if the lock store's token counter was lost since",
      wanted.migration, what, wanted.migration, wanted.migration);
}

}  // namespace rehearse
