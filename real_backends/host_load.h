// How busy the host's processors were during a live run, and how much of that was the database
// servers' client backends -- the statements the simulator runs on its shared host
// (sim/cpu_host.h). The rest is the host's load besides them: the application's and live
// traffic's client threads, the engines, the lock stores, the replicas' replay and WAL senders.
// `rehearse conform` gives the simulated host that load (docs/calibration.md), as it gives it the
// network latency it measures. Linux only (/proc); a thread samples every kHostLoadSampleUs.
#pragma once

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/observations.h"
#include "real_backends/live_ports.h"
#include "real_backends/postgres.h"

namespace rehearse::live {

constexpr TimeUs kHostLoadSampleUs = 200 * kMs;

// The postmasters of these servers (each one's process id, read from /proc as the parent of a
// backend that reports pg_backend_pid()); the servers must run on this machine. Empty when one
// cannot be reached or read.
std::vector<int> local_postmasters(const std::vector<RegionEndpoints>& databases);

// Whether a PostgreSQL process title (/proc/PID/cmdline) is a client backend's (`postgres: user
// database host(port) state`, or a parallel worker of one), not an auxiliary process's
// (checkpointer, walwriter, walsender, startup, walreceiver, autovacuum, ...).
bool client_backend_title(const std::string& title);

// The rest of an open /proc file's text; "" when read() fails (the process exited and was
// reaped: ESRCH). Never throws.
std::string read_text(int fd);

class HostLoadMeter {
 public:
  explicit HostLoadMeter(std::vector<int> postmasters);
  ~HostLoadMeter();
  HostLoadMeter(const HostLoadMeter&) = delete;
  HostLoadMeter& operator=(const HostLoadMeter&) = delete;
  // Stops the meter (once) and returns what it measured from its first sample to its last.
  HostLoad stop();

 private:
  void run();
  void sample();
  std::set<int> postmasters_;
  std::atomic<bool> stopping_{false};
  // The meter thread's until it is joined.
  std::set<int> client_;                  // the postmasters' children seen titled as client backends
  std::map<int, std::int64_t> ticks_;     // a client backend's processor ticks at the last sample
  std::int64_t busy_ticks_start_ = -1, busy_ticks_ = 0, statement_ticks_ = 0;
  std::int64_t first_ns_ = 0, last_ns_ = 0;
  std::thread thread_;
};

}  // namespace rehearse::live
