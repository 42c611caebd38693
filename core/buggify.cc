// The names, descriptions and firing probabilities of the fault points.
#include "core/buggify.h"

#include "core/assert.h"

namespace rehearse {

namespace {

constexpr std::array<FaultSiteInfo, kFaultSiteCount> kSites{{
    {FaultSite::backfill_spurious_timeout, "backfill-spurious-timeout",
     "a backfill batch committed but the engine is told it timed out (it retries the batch)", 0.1},
    {FaultSite::checkpoint_write_delayed, "checkpoint-write-delayed",
     "a checkpoint write waits up to 2 s after the fence check before it is sent", 0.1},
    {FaultSite::renewal_delayed, "renewal-delayed", "the keepalive sends a renewal up to one TTL late", 0.1},
    {FaultSite::lock_answers_slowly, "lock-answers-slowly",
     "the lock store's answer reaches the engine up to 2 s late", 0.1},
    {FaultSite::ddl_lock_timeout, "ddl-lock-timeout",
     "a DDL statement is answered 'canceling statement due to lock timeout' without running", 0.25},
    {FaultSite::replication_apply_stall, "replication-apply-stall",
     "a replica stalls up to 3 s before applying a committed change", 0.05},
}};

constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < kFaultSiteCount; ++i) {
    if (static_cast<std::size_t>(kSites[i].site) != i) return false;
    if (kSites[i].fire_probability <= 0 || kSites[i].fire_probability > 1) return false;
  }
  return true;
}
static_assert(in_enum_order(), "kSites must list every fault site in enum order with a probability in (0, 1]");

}  // namespace

const std::array<FaultSiteInfo, kFaultSiteCount>& all_fault_sites() { return kSites; }

const FaultSiteInfo& fault_site_info(FaultSite site) {
  const std::size_t index = static_cast<std::size_t>(site);
  REHEARSE_ASSERT(index < kFaultSiteCount);
  return kSites[index];
}

}  // namespace rehearse
