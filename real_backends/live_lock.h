// The live lock store, whichever `lock.backend` the config names: redis (one server, the first
// endpoint), redlock (one independent master per endpoint), etcd (client URLs of one cluster),
// zookeeper (HOST:PORT of each member of one ensemble) or app-database (a row in the lock
// region's primary: its "endpoints" here are that primary's connection string, which
// lock_store_endpoints() takes from the regions; the config names none). The live runner
// validates the endpoints and pings the store through here, every
// engine process gets its LockClient from make_live_lock_client(), and the live faults learn
// who holds the lock (`holder`) from current_holder().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/ports.h"
#include "real_backends/live_ports.h"
#include "real_backends/postgres.h"

namespace rehearse::live {

// What the app-database lock needs besides its database: the migrated table, whose lock queue
// its statements join, and the engine's statement timeout that bounds them (0 = 35 s).
struct LockRowSettings {
  std::string table;
  TimeUs statement_timeout_us = 0;
};

// The lock store's endpoints as the functions below take them: the configured `lock.endpoints`,
// or for app-database the primary of the lock region (`lock.region`, default the first region;
// in a global topology the home's, the only primary) -- the engine's view of it when `regions` are an engine's (proxied) endpoints.
// Empty when that region is not among `regions`.
std::vector<std::string> lock_store_endpoints(const Scenario& scenario, const std::vector<RegionEndpoints>& regions,
                                              const std::vector<std::string>& configured);

// Ok when `backend` runs live and every endpoint has its format (redis, redlock, zookeeper:
// HOST:PORT; etcd: http://HOST:PORT); invalid naming lock.endpoints[i] or the backend otherwise. Redlock
// needs an odd number of masters, at least 3 (as the simulator does); app-database exactly one
// libpq connection string (lock_store_endpoints).
Status check_lock_endpoints(LockBackend backend, const std::vector<std::string>& endpoints);

// REQUIRES: check_lock_endpoints(lock.backend, endpoints) is ok; for app-database row.table is set.
std::unique_ptr<LockClient> make_live_lock_client(const LockSpec& lock, const std::vector<std::string>& endpoints,
                                                  const std::string& key, const std::string& holder, const StopSignal& stop,
                                                  const LockRowSettings& row = {});

// Reaches the store: redis its server (with `replica`, the master and its replica), redlock
// every master, etcd one member, zookeeper a session (accepted by a quorum of the ensemble),
// app-database its primary. Unavailable
// naming what could not be reached. REQUIRES: the endpoints were checked.
Status ping_lock_store(LockBackend backend, const std::vector<std::string>& endpoints, bool replica = false);

// The value of the lock's current holder ("engine-N:<nonce>"; "" when the lock is free):
// redis the server's key (with `replica`, the key of the endpoint that answers ROLE master),
// redlock the value a majority of masters hold, etcd the lock key, zookeeper the data of the
// lowest-sequence znode under the lock's path, app-database the lock row's unexpired holder
// (read without queueing for the migrated table).
// REQUIRES: the endpoints were checked.
Result<std::string> current_holder(LockBackend backend, const std::vector<std::string>& endpoints, const std::string& key,
                                   bool replica = false);

// Ok unless `lock.replica: true` is asked of a live lock without exactly two redis endpoints
// (the master, then its replica): invalid naming what was found.
Status check_lock_replica(const LockSpec& lock, const std::vector<std::string>& endpoints);

}  // namespace rehearse::live
