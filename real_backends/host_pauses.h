// The host's own pauses during a live run, measured as a hiccup meter (jHiccup) measures them: a
// thread of its own asks to sleep 1 ms at a time and notes every wake-up that comes at least
// kHostPauseMinUs late. On a shared VM that is the hypervisor taking the processors away (steal)
// or the kernel stopping the process; every thread of the host stops with it, so a request in
// flight then waits for the host, not for the database. `rehearse conform` measures the live
// world's stall and p99 net of these pauses (docs/calibration.md); the simulated world has none.
// The threshold is above the waits for a processor that CostProfile::busy_host_wait models (a
// runnable thread on a loaded two-core host waits up to one scheduler period, ~12 ms).
#pragma once

#include <atomic>
#include <thread>
#include <vector>

#include "core/observations.h"
#include "real_backends/live_ports.h"

namespace rehearse::live {

constexpr TimeUs kHostPauseMinUs = 20 * kMs;

class HostPauseMeter {
 public:
  explicit HostPauseMeter(const LiveHistory& history);
  ~HostPauseMeter();
  HostPauseMeter(const HostPauseMeter&) = delete;
  HostPauseMeter& operator=(const HostPauseMeter&) = delete;
  // Stops the meter (once) and returns the pauses it saw, in time order.
  std::vector<HostPause> stop();

 private:
  void run();
  const LiveHistory& history_;
  std::atomic<bool> stopping_{false};
  std::vector<HostPause> pauses_;  // the meter thread's until it is joined
  std::thread thread_;
};

}  // namespace rehearse::live
