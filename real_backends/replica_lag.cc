#include "real_backends/replica_lag.h"

#include <algorithm>

namespace rehearse::live {

void FlushTrack::record(FlushSample sample) {
  if (first_lsn_ < 0) first_lsn_ = sample.lsn;
  if (samples_.empty() || sample.lsn > samples_.back().lsn) samples_.push_back(sample);
}

void FlushTrack::forget_replayed(std::int64_t slowest) {
  while (samples_.size() >= 2 && samples_[1].lsn <= slowest) samples_.pop_front();
}

TimeUs FlushTrack::lag(std::int64_t replayed, std::optional<TimeUs> replayed_commit_us, TimeUs now_us, TimeUs reported) const {
  const auto behind =
      std::find_if(samples_.begin(), samples_.end(), [replayed](const FlushSample& sample) { return sample.lsn > replayed; });
  if (behind == samples_.end()) return 0;
  const TimeUs at_least = std::max<TimeUs>(now_us - behind->at_us, 0);
  if (replayed < first_lsn_) return std::max(at_least, reported);
  TimeUs at_most = behind == samples_.begin() ? at_least : now_us - std::prev(behind)->at_us;
  if (replayed_commit_us) at_most = std::min(at_most, now_us - *replayed_commit_us);
  return std::max(at_least, at_most);
}

}  // namespace rehearse::live
