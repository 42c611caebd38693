// How far behind its primary a live replica is, in time, as the simulated database reports it
// (sim/database.h replication_lag: from the flush of the oldest change the replica has not
// replayed) -- worked out from what the servers say now, not from
// pg_stat_replication.replay_lag alone, which is re-measured only when the standby replies
// (docs/live.md "The backfill throttle"). Pure: PostgresRegionDatabase::replication_lag reads
// the servers and keeps the samples.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

#include "core/model.h"

namespace rehearse::live {

// The primary's flushed WAL position at one of the engine's lag reads, and the primary's clock
// then.
struct FlushSample {
  std::int64_t lsn = 0;
  TimeUs at_us = 0;
};

// The flush positions the engine has read (oldest first, positions growing) and when: the
// oldest unreplayed byte of a replica was flushed after the last read that had not reached it
// and no later than the first read that had.
class FlushTrack {
 public:
  // Records the primary's position at `at_us` (a position not past the last one adds nothing).
  void record(FlushSample sample);
  // Forgets reads every replica has passed (`slowest`: the least replay position), keeping the
  // newest of them.
  void forget_replayed(std::int64_t slowest);

  // The lag of a replica that replayed up to `replayed` at `now_us`:
  //   - nothing read is past `replayed`: 0;
  //   - else at least the time since the first read past it, and at most the time since the
  //     read before that, and (when the replica has replayed a commit) at most the time since
  //     that last replayed commit (`replayed_commit_us`, the primary's clock: what the replica
  //     has not replayed was committed after it) -- a replica that keeps up under commits is
  //     milliseconds behind however long ago the engine's last read was;
  //   - behind even the first read (no time for its oldest byte): the larger of the time since
  //     that read and the primary's own view (`reported`, replay_lag).
  TimeUs lag(std::int64_t replayed, std::optional<TimeUs> replayed_commit_us, TimeUs now_us, TimeUs reported) const;

  bool empty() const { return samples_.empty(); }
  std::size_t size() const { return samples_.size(); }

 private:
  std::deque<FlushSample> samples_;
  std::int64_t first_lsn_ = -1;
};

}  // namespace rehearse::live
