// Coverage probes (FoundationDB's CODE_PROBE): named rare paths a run can reach, such as "a
// lease expired while its holder was paused". Each run counts how often it reached each probe
// (RunResult::probes); a sweep reports, per probe, how many seeds reached it, so a CI gate can
// show that its seeds exercised the paths that matter, not only that nothing broke.
//
// Probes are not history events: they never enter the trace hash, and adding one changes no
// run. The engine (core/) reports its probes through Recorder::probe; the simulator (sim/)
// counts the facts only it knows (a paused holder, a store's clock, a lost reply) itself.
// The list is closed and ordered: a probe's position is its index in every count array.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace rehearse {

enum class Probe : std::uint8_t {
  // Reached in the engine (core/engine.cc, core/lock_session.cc).
  backfill_throttled_by_lag,
  lock_lost_and_reacquired,
  resumed_from_checkpoint,
  backfill_resumed_from_cursor,
  validation_mismatch_rebackfilled,
  rollback_executed,
  client_check_refused_write,
  renewal_refused,
  transient_failure_retried,
  acquire_gave_up,
  // Reached in the simulator (sim/).
  stale_token_rejected,
  ddl_timed_out_behind_transaction,
  lease_expired_while_holder_paused,
  lease_expired_early_store_clock_ahead,
  ambiguous_outcome,
  engine_restarted_after_crash,
  lock_failover,
  app_write_waited_for_backfill_rows,
  backfill_waited_for_app_rows,
  message_cut_by_partition,
  message_held_for_paused_node,
};

constexpr std::size_t kProbeCount = static_cast<std::size_t>(Probe::message_held_for_paused_node) + 1;

struct ProbeInfo {
  Probe probe;
  const char* name;         // stable id, kebab-case: JSON keys and text output
  const char* description;  // one sentence: what was reached
};

// Every probe, in enum order. REQUIRES (checked at compile time): info(p).probe == p.
const std::array<ProbeInfo, kProbeCount>& all_probes();
const ProbeInfo& probe_info(Probe probe);
// The probe with this name, or nullopt.
std::optional<Probe> probe_named(std::string_view name);

// How often a run reached each probe. Ordered by Probe, so iteration is deterministic.
class ProbeCounts {
 public:
  void hit(Probe probe) { ++hits_[index(probe)]; }
  std::int64_t count(Probe probe) const { return hits_[index(probe)]; }
  bool reached(Probe probe) const { return count(probe) > 0; }
  // Adds every count of `other` (merging runs).
  void add(const ProbeCounts& other) {
    for (std::size_t i = 0; i < kProbeCount; ++i) hits_[i] += other.hits_[i];
  }

 private:
  static std::size_t index(Probe probe) { return static_cast<std::size_t>(probe); }
  std::array<std::int64_t, kProbeCount> hits_{};
};

}  // namespace rehearse
