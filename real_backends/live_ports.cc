// The wall clock, seeded randomness, threads and the shared history of live runs.
#include "real_backends/live_ports.h"

#include <algorithm>

namespace rehearse::live {

namespace {
constexpr TimeUs kStoppedClockJumpUs = 24 * kHour;  // past every deadline of a stopping engine
constexpr TimeUs kSleepSliceUs = 50 * kMs;
constexpr TimeUs kStallTailUs = 300 * kMs;          // how often a sleeper looks at the stop flag

TimeUs steady_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

TimeUs RealClock::now() {
  const TimeUs wall = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  return stop_.stopping.load() ? wall + kStoppedClockJumpUs : wall;
}

void RealClock::maybe_start_stall(TimeUs duration_us) {
  if (stall_ == nullptr || stall_->for_us <= 0 || duration_us != stall_->trigger_sleep_us) return;
  std::lock_guard<std::mutex> guard(mutex_);
  if (++matching_sleeps_ != stall_->after_count) return;
  if (stall_->fired->exchange(true)) return;
  stalled_until_us_ = steady_now_us() + stall_->for_us;
  stalled_thread_ = std::this_thread::get_id();
}

void RealClock::sleep_for(TimeUs duration_us) {
  maybe_start_stall(duration_us);
  TimeUs until = steady_now_us() + std::max<TimeUs>(duration_us, 0);
  for (;;) {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      const TimeUs tail = std::this_thread::get_id() == stalled_thread_ ? 0 : kStallTailUs;
      if (stalled_until_us_ > 0) until = std::max(until, stalled_until_us_ + tail);  // a stalled process sleeps through it all
    }
    const TimeUs now = steady_now_us();
    if (now >= until || stop_.stopping.load()) return;
    std::this_thread::sleep_for(std::chrono::microseconds(std::min(until - now, kSleepSliceUs)));
  }
}

std::uint64_t RealRandom::next_u64() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

RealTasks::~RealTasks() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    threads.swap(threads_);
  }
  for (std::thread& thread : threads) thread.join();
}

void RealTasks::spawn(const std::string& /*name*/, std::function<void()> task) {
  std::lock_guard<std::mutex> guard(mutex_);
  threads_.emplace_back(std::move(task));
}

LiveHistory::LiveHistory() : start_(std::chrono::steady_clock::now()) {}

TimeUs LiveHistory::elapsed_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_).count();
}

std::uint64_t LiveHistory::append(Event event) {
  std::lock_guard<std::mutex> guard(mutex_);
  event.time_us = elapsed_us();
  return history_.append(std::move(event));
}

void LiveHistory::commit_in_order(const std::function<void()>& commit, Event event) {
  std::lock_guard<std::mutex> guard(commit_mutex_);
  commit();
  append(std::move(event));
}

History LiveHistory::take() {
  std::lock_guard<std::mutex> guard(mutex_);
  History taken = std::move(history_);
  history_ = History();
  return taken;
}

std::vector<Event> LiveHistory::copy() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return history_.events();
}

void LiveRecorder::record(Event event) {
  event.node = node_;
  if (event.actor.empty()) event.actor = node_;
  history_.append(std::move(event));
}

}  // namespace rehearse::live
