// Application traffic of one region in a live run: writes (inserts and updates at
// workload.writes_per_s, old code or new code) and reads (at reads_per_s, from a replica where
// there is one, measuring its staleness). The application moves to the new code at
// workload.deploy.new_code_after by polling the region's checkpoint, and writes the new columns
// only while the dual_write or read_new flag is on, as sim/app.cc does. Both kinds are sent open
// loop by a pool of workers (kWorkers each, each with its connection), as the simulated
// application sends: each request is due at a time drawn from the rate whatever the previous
// ones did, its latency runs from that time (a request waiting for a free worker waits too), and
// one not answered within the client timeout (kAppRequestTimeoutUs, by statement_timeout or
// before it could be sent) fails.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/observations.h"
#include "core/plan.h"
#include "real_backends/live_ports.h"
#include "real_backends/postgres.h"

namespace rehearse::live {

class RegionTraffic {
 public:
  RegionTraffic(RegionEndpoints endpoints, const Scenario& scenario, const MigrationPlan& plan, LiveHistory& history,
                std::uint64_t seed);
  ~RegionTraffic();
  void start();
  void stop();  // joins the threads
  // Request windows, incidents and acknowledged writes into `observations`.
  void export_to(Observations& observations) const;
  // This application's last acknowledged write of a row (by id): its apply order at the primary
  // and whether old or new code wrote it (for the snapshots); none when it wrote none.
  struct LastWrite {
    std::uint64_t order = 0;
    Writer writer = Writer::initial;
  };
  std::optional<LastWrite> last_write(std::int64_t id) const;
  std::int64_t requests() const { return requests_.load(); }
  std::int64_t errors() const { return errors_.load(); }

 private:
  struct Request;
  // Requests of one kind: their due times, drawn from the rate, shared by the kind's workers.
  struct Schedule {
    std::mutex mutex;
    double per_second = 0;
    std::uint64_t state = 0;
    TimeUs next_us = -1;  // -1: not started
  };
  // Workers per kind, each with its own connection, as an application's connection pool: a
  // request held up (a lock queue, a row lock) does not hold up the ones due after it.
  static constexpr int kWorkers = kAppConnections;
  void write_loop(int worker);
  void read_loop(int worker);
  // The table's columns and the region's flags as the application sees them, refreshed by
  // schema_loop (and by a write that met a column gone): a write sends one statement, not the
  // catalog queries first.
  void schema_loop();
  void refresh_schema(pqxx::connection& primary);
  // Connects and runs the worker's statements once, then waits until every worker has: the
  // requests' latencies are the database's, not a fresh backend's start and cache warm-up.
  void warm_up(PostgresConnection& connection, bool write);
  void poll_deploy(PostgresConnection& connection, std::int64_t& next_poll_us);
  bool client_gave_up(TimeUs due_us) const;
  bool write_once(PostgresConnection& connection, std::uint64_t& rng_state, TimeUs due_us);
  void read_once(PostgresConnection& connection, std::uint64_t& rng_state, TimeUs due_us);
  // The next request's due time (open loop: drawn from the rate whatever the previous one did),
  // slept until; false when the traffic stops.
  bool next_due(Schedule& schedule, TimeUs& due_us);
  // A request whose client timeout passed before it could be sent fails unsent; true if so.
  bool gave_up(const std::string& what, TimeUs due_us, bool write);
  void finish(const std::string& what, TimeUs sent_us, bool failed, TimeUs staleness_us, bool write);
  TimeUs replica_staleness(std::int64_t received_lsn, std::int64_t replayed_lsn, TimeUs last_replayed_age_us);
  // With application writes: how long ago the oldest acknowledged write the replica has not
  // replayed (its position past `replayed_lsn`) was acknowledged; 0 when it shows every one.
  TimeUs staleness_behind_writes(std::int64_t replayed_lsn);

  RegionEndpoints endpoints_;  // the writer's primary, this region's replicas (live_topology.h)
  std::string writer_;         // the region whose primary this application writes to (global: the home)
  const Scenario& scenario_;
  const MigrationPlan& plan_;
  LiveHistory& history_;
  std::uint64_t seed_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> new_code_{false};
  std::atomic<std::int64_t> max_id_{0};
  std::atomic<std::int64_t> requests_{0};
  std::atomic<std::int64_t> errors_{0};
  Schedule writes_;
  Schedule reads_;
  std::vector<std::thread> threads_;
  std::mutex ready_mutex_;
  std::condition_variable ready_;
  int workers_ = 0;
  int warm_ = 0;  // workers warmed up
  mutable std::mutex mutex_;
  std::vector<std::string> columns_;  // the table's, as of the last refresh
  bool flags_on_ = false;
  std::map<TimeUs, RequestWindow> windows_;
  std::map<std::int64_t, AcknowledgedWrite> acknowledged_;
  std::map<std::int64_t, Writer> writers_;
  std::vector<RequestLatency> latencies_;
  std::deque<std::pair<std::int64_t, TimeUs>> received_;  // receive positions the reads saw, and when first
  // The application's acknowledged writes a replica may not show yet: the primary's WAL insert
  // position after the write's row (its commit record follows it) -> when it was acknowledged.
  std::map<std::int64_t, TimeUs> unreplayed_writes_;
  TimeUs max_stall_us_ = 0;
  TimeUs max_staleness_us_ = 0;
  std::int64_t errors_by_cause_[kCauses] = {0, 0};
  TimeUs max_stall_by_cause_us_[kCauses] = {0, 0};
  std::vector<RequestIncident> slow_;
  std::vector<RequestIncident> stale_;
};

}  // namespace rehearse::live
