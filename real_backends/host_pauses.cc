#include "real_backends/host_pauses.h"

#include <chrono>

namespace rehearse::live {

namespace {
constexpr TimeUs kTickUs = kMs;
}

HostPauseMeter::HostPauseMeter(const LiveHistory& history) : history_(history), thread_([this] { run(); }) {}

HostPauseMeter::~HostPauseMeter() { stop(); }

std::vector<HostPause> HostPauseMeter::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  return pauses_;
}

void HostPauseMeter::run() {
  while (!stopping_) {
    const TimeUs asked = history_.elapsed_us();
    std::this_thread::sleep_for(std::chrono::microseconds(kTickUs));
    const TimeUs woke = history_.elapsed_us();
    // The late part of the sleep: the host ran none of this process's threads for it, and it
    // ended when this one ran again.
    const TimeUs late = woke - asked - kTickUs;
    if (late >= kHostPauseMinUs) pauses_.push_back(HostPause{woke - late, woke});
  }
}

}  // namespace rehearse::live
