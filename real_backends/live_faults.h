// The live faults of ../shared/spec/live.md, made real: `pause: engine-N|holder` (SIGSTOP and
// SIGCONT of the engine process), `crash: engine-N|holder` (SIGKILL, restart after
// `restart_after`), `crash: lock-N` (stop the Redis server, start it again on the same port
// and directory; stop the etcd / ZooKeeper member's process, start it again with the same
// command line: lock_members.h), `failover: lock` (etcd: leadership moved to another member;
// ZooKeeper: the leader restarted), `replication_lag: REGION` (pg_wal_replay_pause()/resume on its replicas),
// `long_transaction: db:REGION` (a session holding ACCESS SHARE on the table, which blocks
// DDL), and, through the fault-injecting proxies of live_network.h, `partition`, `delay` and
// `drop` (a connection reset), and with the redis lock's replica (`lock.replica: true`)
// `failover` (the master stopped, the replica promoted by REPLICAOF NO ONE) and a partition of
// lock-1 from lock-2 (the replica re-pointed at a proxy whose link is cut). Everything else is refused by check_live_faults() before the run starts. Driven from
// the runner's supervisor thread by tick(); every fault is recorded as fault_start/fault_end
// (and node_pause/node_resume/node_crash/node_restart) like the simulator records it.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/run_result.h"
#include "core/status.h"
#include "real_backends/engine_process.h"
#include "real_backends/live_network.h"
#include "real_backends/live_ports.h"
#include "real_backends/postgres.h"

namespace rehearse::live {

class TcpProxy;

struct LiveFaultContext {
  const Scenario& scenario;
  const std::vector<RegionEndpoints>& regions;
  const std::vector<std::string>& lock_endpoints;
  std::string lock_key;  // the lock store's key of the migration lock (for `holder`)
  LiveHistory& history;
  std::vector<std::unique_ptr<EngineProcess>>& engines;
  std::function<Status(EngineProcess&)> relaunch;  // a new incarnation of a crashed engine
  std::ostream* log = nullptr;
  LiveNetwork* network = nullptr;  // the proxies; set when the scenario has network faults
};

// Whether `fault` is a crash of an engine timed to the very start of a SQL file's statement
// (`at: {phase: expand, statement: N}` with no `after`): the engine process kills itself
// (SIGKILL) right after it reports that start, before it sends the statement -- a signal from
// the runner would land milliseconds late, after the statement. The runner then records the
// crash and restarts the engine as for any crash. `engine` (engine-N) is the process asking.
bool kills_itself(const FaultSpec& fault, const std::string& engine);

// Unavailable (exit code 3) naming the first fault that cannot be made real, and why.
Status check_live_faults(const Scenario& scenario, const std::vector<RegionEndpoints>& regions,
                         const std::vector<std::string>& lock_endpoints);

class LiveFaults {
 public:
  explicit LiveFaults(LiveFaultContext context);
  ~LiveFaults();  // heals whatever is still active
  LiveFaults(const LiveFaults&) = delete;
  LiveFaults& operator=(const LiveFaults&) = delete;

  // Starts and ends faults that are due; restarts crashed engines whose time came.
  void tick();
  // Starts the faults due at 0 s that need no engine (network faults, long transactions) before
  // any engine is launched: an engine's first lock call must already meet the partition the
  // scenario opens with (a tick after the launch can come after that call has replicated), and
  // its first DDL the long transaction (as in the simulator, where both exist at 0 s; a slow
  // first tick let the DDL run first). Engine faults wait for tick().
  void start_faults_at_zero();
  // Ends every active fault now (the run is over): SIGCONT, replay resumed, session rolled
  // back, lock server started.
  void heal_all();
  // Whether an engine restart is still to come (the run must not end before it).
  bool restart_pending() const;
  TimeUs last_fault_end_us() const { return last_end_us_; }
  int injected() const { return injected_; }
  // The faults that never took effect (phase never reached, time not reached, target absent)
  // and why; call after the run.
  std::vector<UnfiredFault> not_fired() const;

 private:
  struct Active;
  void start(Active& fault);
  void start_network(Active& fault);
  // failover of an etcd / ZooKeeper ensemble: leadership moved (etcd) or the leader restarted.
  void start_consensus_failover(Active& fault);
  int holder_engine() const;  // the engine the lock store names as holder; 0 = none
  void finish(Active& fault);
  // failover of the redis lock: stops the master the endpoints' ROLE names and promotes the replica.
  void start_redis_failover(Active& fault);
  // The redis replication link (master -> replica) cut at a proxy of ours, and restored directly.
  // cut_replication returns the link's description, or an error when there is no replica now.
  Result<std::string> cut_replication();
  void heal_replication(bool all);
  // Records a fault event; a fault_skipped one also keeps its reason for not_fired().
  void record(Active& fault, EventKind kind, const std::string& detail);
  void log(const std::string& line);

  LiveFaultContext context_;
  std::vector<std::unique_ptr<Active>> faults_;
  TimeUs last_end_us_ = 0;
  int injected_ = 0;
  // While the replication link is cut: the proxy the replica is pointed at (its link held), the
  // master it stands for, the replica (0 or 1: lock_endpoints' index), how many faults cut it.
  std::unique_ptr<TcpProxy> replication_proxy_;
  std::string replication_master_;
  std::size_t replication_replica_ = 0;
  int replication_cuts_ = 0;
};

}  // namespace rehearse::live
