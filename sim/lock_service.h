// The simulated migration-lock service of one run, whatever its backend (redis, redlock, etcd,
// zookeeper, app-database; docs/lock-backends.md): it owns the store state on the lock nodes,
// hands each engine process its LockClient, says who holds the lock as the store sees it (the
// `holder` fault target), and applies the lock-side faults: `failover`, and how long a crashed
// lock node stays down. The world (sim/world.cc) builds one with make_lock_service(); the fault
// injector (sim/faults.cc) reaches failover() through the world.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/history.h"
#include "core/model.h"
#include "core/ports.h"
#include "core/random.h"
#include "sim/kernel.h"
#include "sim/network.h"

namespace rehearse::sim {

class SimDatabase;

// Everything a lock service is built from.
struct LockServiceContext {
  Kernel& kernel;
  Network& network;
  LockSpec spec;
  std::vector<Node*> nodes;          // lock-1..lock-N (none for app-database)
  Node* database_node = nullptr;     // app-database: the lock region's primary
  SimDatabase* database = nullptr;   // app-database: its database
  std::uint64_t seed = 0;
  std::function<void(Event event)> append;  // appends to the run's history (time is stamped there)
};

// What a `failover` fault did: applied, or skipped with the reason.
struct FailoverOutcome {
  bool applied = false;
  std::string detail;
};

class LockService {
 public:
  LockService() = default;
  LockService(const LockService&) = delete;
  LockService& operator=(const LockService&) = delete;
  virtual ~LockService() = default;

  // The client of one engine process running on `engine`; `stream` names its random stream
  // (lock values, endpoint choice). The client lives as long as the process.
  virtual std::unique_ptr<LockClient> make_client(Node& engine, const std::string& stream) = 0;
  // The engine instance holding the lock as the store sees it now, or nullopt.
  virtual std::optional<std::string> holder() = 0;
  // `failover: lock`: the backend's own failover (see docs/lock-backends.md).
  virtual FailoverOutcome failover() = 0;
  // How long a crashed lock node stays down when a fault restarts it after `requested_us`.
  virtual TimeUs restart_delay(const Node& node, TimeUs requested_us) const {
    (void)node;
    return requested_us;
  }
  // The nodes that make up the service (`lock` as a fault target).
  virtual std::vector<Node*> nodes() const = 0;
};

// Builds the service of `context.spec.backend`. REQUIRES: the nodes the backend needs.
std::unique_ptr<LockService> make_lock_service(LockServiceContext context);

// Timeouts and costs shared by the simulated lock clients and stores.
inline constexpr TimeUs kLockRequestTimeoutUs = 1 * kSec;     // one request to a single store
inline constexpr TimeUs kClusterRequestTimeoutUs = 2 * kSec;  // one request to etcd / ZooKeeper
// A statement on the app-database lock row waits like the engine's other statements (the
// database client's timeout), not like a call to a dedicated lock store.
inline constexpr TimeUs kLockRowStatementTimeoutUs = 35 * kSec;
inline constexpr TimeUs kLockCommandUs = 100;                  // server time of one lock command

}  // namespace rehearse::sim
