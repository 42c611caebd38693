// The names and descriptions of the coverage probes.
#include "core/probes.h"

#include "core/assert.h"

namespace rehearse {

namespace {

constexpr std::array<ProbeInfo, kProbeCount> kProbes{{
    {Probe::backfill_throttled_by_lag, "backfill-throttled-by-lag",
     "backfill paused because a replica lagged more than max_replication_lag"},
    {Probe::lock_lost_and_reacquired, "lock-lost-and-reacquired",
     "an engine lost its lease and acquired the lock again in the same process"},
    {Probe::resumed_from_checkpoint, "resumed-from-checkpoint",
     "a process's first acquisition found a region mid-migration and continued from its checkpoint"},
    {Probe::backfill_resumed_from_cursor, "backfill-resumed-from-cursor",
     "backfill started from a checkpointed cursor past the table's first id"},
    {Probe::validation_mismatch_rebackfilled, "validation-mismatch-rebackfilled",
     "validation found mismatched rows and re-backfilled the range"},
    {Probe::rollback_executed, "rollback-executed", "a failed region was rolled back"},
    {Probe::client_check_refused_write, "client-check-refused-write",
     "fencing: client refused a write because the lease expired on the engine's clock"},
    {Probe::renewal_refused, "renewal-refused", "the lock store refused a renewal: the lease was gone"},
    {Probe::transient_failure_retried, "transient-failure-retried",
     "a protected call timed out or found its server unavailable and was retried"},
    {Probe::acquire_gave_up, "acquire-gave-up", "an engine gave up acquiring the lock after acquire_timeout"},
    {Probe::stale_token_rejected, "stale-token-rejected",
     "a database rejected a protected write carrying a stale fencing token"},
    {Probe::ddl_timed_out_behind_transaction, "ddl-timed-out-behind-transaction",
     "DDL gave up waiting for the table lock (lock_timeout) behind another transaction"},
    {Probe::lease_expired_while_holder_paused, "lease-expired-while-holder-paused",
     "the lock store expired a lease while its holder was paused"},
    {Probe::lease_expired_early_store_clock_ahead, "lease-expired-early-store-clock-ahead",
     "a lease expired less than a TTL after its last confirmed refresh because the store's clock ran ahead (clock jump)"},
    {Probe::ambiguous_outcome, "ambiguous-outcome",
     "a request was applied at its server but the caller saw no reply (outcome unknown)"},
    {Probe::engine_restarted_after_crash, "engine-restarted-after-crash",
     "an engine process crashed and was restarted"},
    {Probe::lock_failover, "lock-failover", "the lock service failed over (a replica or new leader took over)"},
    {Probe::app_write_waited_for_backfill_rows, "app-write-waited-for-backfill-rows",
     "an application write waited for the row locks of a backfill batch"},
    {Probe::backfill_waited_for_app_rows, "backfill-waited-for-app-rows",
     "a backfill batch waited for a row an application write held locked"},
    {Probe::message_cut_by_partition, "message-cut-by-partition", "a network partition cut a message"},
    {Probe::message_held_for_paused_node, "message-held-for-paused-node",
     "a message arrived at a paused node and waited for it to resume"},
}};

constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < kProbeCount; ++i) {
    if (static_cast<std::size_t>(kProbes[i].probe) != i) return false;
  }
  return true;
}
static_assert(in_enum_order(), "kProbes must list every probe in enum order");

}  // namespace

const std::array<ProbeInfo, kProbeCount>& all_probes() { return kProbes; }

const ProbeInfo& probe_info(Probe probe) {
  const std::size_t index = static_cast<std::size_t>(probe);
  REHEARSE_ASSERT(index < kProbeCount);
  return kProbes[index];
}

std::optional<Probe> probe_named(std::string_view name) {
  for (const ProbeInfo& info : kProbes) {
    if (name == info.name) return info.probe;
  }
  return std::nullopt;
}

}  // namespace rehearse
