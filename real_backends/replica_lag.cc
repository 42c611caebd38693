#include "real_backends/replica_lag.h"

#include <algorithm>
#include <chrono>
#include <iterator>

#include "core/assert.h"
#include "real_backends/postgres.h"
#include "real_backends/reply_deadline.h"

namespace rehearse::live {

void FlushTrack::record(FlushSample sample) {
  if (first_lsn_ < 0) first_lsn_ = sample.lsn;
  if (spans_.empty() || sample.lsn > spans_.back().lsn) {
    spans_.push_back(Span{sample.lsn, sample.at_us, sample.at_us});
  } else if (sample.lsn == spans_.back().lsn) {
    spans_.back().last_us = std::max(spans_.back().last_us, sample.at_us);
  }
}

void FlushTrack::forget_replayed(std::int64_t slowest) {
  while (spans_.size() >= 2 && spans_[1].lsn <= slowest) spans_.pop_front();
}

TimeUs FlushTrack::lag(std::int64_t replayed, std::optional<TimeUs> replayed_commit_us, TimeUs now_us, TimeUs reported) const {
  auto behind = std::partition_point(spans_.begin(), spans_.end(), [replayed](const Span& span) { return span.lsn <= replayed; });
  // A flush of whole pages may end inside a record, which the replica replays only once a later
  // flush completes it: what it has not replayed of such a last page was not yet shipped whole.
  while (behind != spans_.end() && behind->lsn % page_bytes_ == 0 && behind->lsn - replayed < page_bytes_) ++behind;
  if (behind == spans_.end()) return 0;
  const TimeUs at_least = std::max<TimeUs>(now_us - behind->first_us, 0);
  if (replayed < first_lsn_) return std::max(at_least, reported);
  TimeUs at_most = behind == spans_.begin() ? at_least : now_us - std::prev(behind)->last_us;
  if (replayed_commit_us) at_most = std::min(at_most, now_us - *replayed_commit_us);
  return std::max(at_least, at_most);
}

namespace {
// A read of the flushed position answers in well under a millisecond; one that has not within
// this (a partition) is given up, and the sampler reconnects after kRetryUs.
constexpr TimeUs kSampleReplyTimeoutUs = 1 * kSec;
constexpr TimeUs kRetryUs = 200 * kMs;
}  // namespace

FlushSampler::FlushSampler(std::string primary, TimeUs every_us) : primary_(std::move(primary)), every_us_(every_us) {
  REHEARSE_ASSERT(every_us_ > 0);
  thread_ = std::thread([this] { sample_until_stopped(); });
}

FlushSampler::~FlushSampler() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void FlushSampler::record(FlushSample sample) {
  const std::lock_guard lock(mutex_);
  track_.record(sample);
}

void FlushSampler::forget_replayed(std::int64_t slowest) {
  const std::lock_guard lock(mutex_);
  track_.forget_replayed(slowest);
}

TimeUs FlushSampler::lag(std::int64_t replayed, std::optional<TimeUs> replayed_commit_us, TimeUs now_us, TimeUs reported) const {
  const std::lock_guard lock(mutex_);
  return track_.lag(replayed, replayed_commit_us, now_us, reported);
}

void FlushSampler::sample_until_stopped() {
  PostgresConnection primary(primary_);
  TimeUs pause_us = every_us_;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, std::chrono::microseconds(pause_us), [this] { return stopping_; })) return;
    }
    pause_us = every_us_;
    try {
      pqxx::connection& connection = primary.get();
      const ReplyDeadline deadline(connection.sock(), kSampleReplyTimeoutUs);
      pqxx::nontransaction tx(connection);
      const pqxx::row row = tx.exec1(
          "SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::bigint END, "
          "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint, current_setting('wal_block_size')::bigint");
      if (row[0].is_null()) {
        pause_us = kRetryUs;  // a server in recovery flushes no WAL of its own
        continue;
      }
      const std::lock_guard lock(mutex_);
      track_.set_page_bytes(row[2].as<std::int64_t>());
      track_.record(FlushSample{row[0].as<std::int64_t>(), row[1].as<std::int64_t>()});
    } catch (const std::exception&) {
      primary.reset();
      pause_us = kRetryUs;
    }
  }
}

}  // namespace rehearse::live
