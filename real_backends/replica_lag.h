// How far behind its primary a live replica is, in time, as the simulated database reports it
// (sim/database.h replication_lag: from the flush of the oldest change the replica has not
// replayed) -- worked out from a record of when the primary flushed which WAL and what the
// replica says it has replayed now, not from pg_stat_replication.replay_lag alone, which is
// re-measured only when the standby replies (docs/live.md "The backfill throttle").
//
// PostgreSQL keeps no record of when it flushed a WAL position that a client can read (the
// walsender's lag tracker is internal), so `FlushSampler` keeps one: a thread beside the engine
// that reads the primary's flushed position every few milliseconds. `FlushTrack` is that
// record, pure.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/model.h"

namespace rehearse::live {

// The primary's flushed WAL position at one read, and the primary's clock then.
struct FlushSample {
  std::int64_t lsn = 0;
  TimeUs at_us = 0;
};

// The flush positions read (oldest first, positions growing), each with the first and the last
// read that saw it: the oldest unreplayed byte of a replica was flushed after the last read of
// the position before it and no later than the first read past it.
class FlushTrack {
 public:
  // Records the primary's position at `at_us`. A position already recorded last extends when it
  // was seen; an older one (a read that overtook another) adds nothing.
  void record(FlushSample sample);
  // Forgets positions every replica has passed (`slowest`: the least replay position), keeping
  // the newest of them.
  void forget_replayed(std::int64_t slowest);
  // The server's WAL page size (wal_block_size).
  void set_page_bytes(std::int64_t bytes) { page_bytes_ = bytes > 0 ? bytes : page_bytes_; }

  // The lag of a replica that replayed up to `replayed` at `now_us`:
  //   - nothing read is past `replayed`: 0; nor when all it has not replayed is the end of a
  //     position on a page boundary within a page of it (a flush of whole pages, the last
  //     record going on past it: the replica cannot replay it yet), then timed from the next;
  //   - else at least the time since the first read past it, and at most the time since the
  //     last read of the position before it, and (when the replica has replayed a commit) at
  //     most the time since that last replayed commit (`replayed_commit_us`, the primary's
  //     clock: what the replica has not replayed was committed after it);
  //   - behind even the first position read (no time for its oldest byte): the larger of the
  //     time since that read and the primary's own view (`reported`, replay_lag).
  TimeUs lag(std::int64_t replayed, std::optional<TimeUs> replayed_commit_us, TimeUs now_us, TimeUs reported) const;

  bool empty() const { return spans_.empty(); }
  std::size_t size() const { return spans_.size(); }

 private:
  struct Span {
    std::int64_t lsn = 0;
    TimeUs first_us = 0;
    TimeUs last_us = 0;
  };
  std::deque<Span> spans_;
  std::int64_t first_lsn_ = -1;
  std::int64_t page_bytes_ = 8192;  // PostgreSQL's default wal_block_size
};

// Reads the primary's flushed WAL position every `every_us` on its own connection, from its
// construction to its destruction, into a FlushTrack. Thread-safe. A primary that cannot be
// reached (a partition, a restart) is retried; a server in recovery is not sampled.
class FlushSampler {
 public:
  FlushSampler(std::string primary, TimeUs every_us);
  ~FlushSampler();
  FlushSampler(const FlushSampler&) = delete;
  FlushSampler& operator=(const FlushSampler&) = delete;

  void record(FlushSample sample);
  void forget_replayed(std::int64_t slowest);
  TimeUs lag(std::int64_t replayed, std::optional<TimeUs> replayed_commit_us, TimeUs now_us, TimeUs reported) const;

 private:
  void sample_until_stopped();

  std::string primary_;
  TimeUs every_us_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  FlushTrack track_;
  std::thread thread_;
};

}  // namespace rehearse::live
