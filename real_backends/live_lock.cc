// Live lock backends behind one factory: endpoint checks, the client per engine process, the
// reachability ping and the holder lookup for the `holder` fault target.
#include "real_backends/live_lock.h"

#include <functional>
#include <map>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/topology.h"
#include "real_backends/app_database_lock.h"
#include "real_backends/etcd_lock.h"
#include "real_backends/live_topology.h"
#include "real_backends/redis_lock.h"
#include "real_backends/redlock_lock.h"
#include "real_backends/zookeeper_lock.h"

namespace rehearse::live {

namespace {
std::vector<RedisEndpoint> redis_endpoints(const std::vector<std::string>& endpoints) {
  std::vector<RedisEndpoint> parsed;
  for (const auto& endpoint : endpoints) {
    Result<RedisEndpoint> one = parse_redis_endpoint(endpoint);
    REHEARSE_ASSERT(one.is_ok());
    parsed.push_back(one.value());
  }
  return parsed;
}

// The redis lock's servers: the first endpoint, or with a replica every one (master, replica).
std::vector<RedisEndpoint> redis_servers(const std::vector<std::string>& endpoints, bool replica) {
  std::vector<RedisEndpoint> servers = redis_endpoints(endpoints);
  if (!replica) servers.resize(1);
  return servers;
}

Status check_each(const std::vector<std::string>& endpoints, const std::function<Status(const std::string&)>& check) {
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    Status checked = check(endpoints[i]);
    if (!checked.is_ok()) return Status::invalid(fmt::format("lock.endpoints[{}]: {}", i, checked.message()));
  }
  return Status::ok();
}

const StopSignal& calm() {
  static const StopSignal never_stopping;
  return never_stopping;
}
}  // namespace

std::vector<std::string> lock_store_endpoints(const Scenario& scenario, const std::vector<RegionEndpoints>& regions,
                                              const std::vector<std::string>& configured) {
  if (scenario.lock.backend != LockBackend::app_database) return configured;
  // The lock region's primary; in a global topology the home's, the only one. None without a
  // lock region (a scenario without regions).
  const std::string& place = lock_region(scenario);
  if (place.empty()) return {};
  const RegionEndpoints* database = region_named(regions, writer_region(scenario, place));
  if (database == nullptr) return {};
  return {database->primary};
}

Status check_lock_endpoints(LockBackend backend, const std::vector<std::string>& endpoints) {
  if (backend == LockBackend::app_database) {
    if (endpoints.size() != 1 || endpoints.front().empty()) {
      return Status::invalid("lock.region: the app-database lock needs the lock region's primary, and no region of the config is the lock region");
    }
    return Status::ok();
  }
  if (endpoints.empty()) return Status::invalid("lock.endpoints is empty");
  switch (backend) {
    case LockBackend::redis:
    case LockBackend::redlock: {
      if (backend == LockBackend::redlock && (endpoints.size() < 3 || endpoints.size() % 2 == 0)) {
        return Status::invalid(fmt::format("lock.endpoints: redlock needs an odd number of independent masters, at least 3; got {}",
                                           endpoints.size()));
      }
      return check_each(endpoints, [](const std::string& text) { return parse_redis_endpoint(text).status(); });
    }
    case LockBackend::etcd:
      return check_each(endpoints, [](const std::string& text) { return parse_etcd_endpoint(text).status(); });
    case LockBackend::zookeeper: return check_each(endpoints, check_zookeeper_endpoint);
    case LockBackend::app_database: break;  // checked above
  }
  return Status::ok();
}

Status check_lock_replica(const LockSpec& lock, const std::vector<std::string>& endpoints) {
  if (!lock.replica) return Status::ok();
  if (lock.backend != LockBackend::redis) return Status::invalid("lock.replica: only the redis backend has a replica");
  if (endpoints.size() != 2) {
    return Status::invalid(fmt::format("lock.replica: true needs lock.endpoints [MASTER, REPLICA] (two HOST:PORT, the replica's "
                                       "REPLICAOF the master), got {}", endpoints.size()));
  }
  return Status::ok();
}

std::unique_ptr<LockClient> make_live_lock_client(const LockSpec& lock, const std::vector<std::string>& endpoints,
                                                  const std::string& key, const std::string& holder, const StopSignal& stop,
                                                  const LockRowSettings& row) {
  REHEARSE_ASSERT(check_lock_endpoints(lock.backend, endpoints).is_ok());
  switch (lock.backend) {
    case LockBackend::app_database:
      REHEARSE_ASSERT(!row.table.empty());
      return std::make_unique<AppDatabaseLockClient>(endpoints.front(), row.table, row.statement_timeout_us, key, holder, stop);
    case LockBackend::redlock:
      return std::make_unique<RedlockLockClient>(redis_endpoints(endpoints), key, holder, lock.drift_factor, stop);
    case LockBackend::etcd: return std::make_unique<EtcdLockClient>(endpoints, key, holder, stop);
    case LockBackend::zookeeper: return std::make_unique<ZooKeeperLockClient>(endpoints, key, holder, stop);
    default: return std::make_unique<RedisLockClient>(redis_servers(endpoints, lock.replica), key, holder, stop);
  }
}

Status ping_lock_store(LockBackend backend, const std::vector<std::string>& endpoints, bool replica) {
  REHEARSE_ASSERT(check_lock_endpoints(backend, endpoints).is_ok());
  switch (backend) {
    case LockBackend::redlock: return RedlockLockClient(redis_endpoints(endpoints), "rehearse:ping", "ping", 0.01, calm()).ping();
    case LockBackend::etcd: return EtcdLockClient(endpoints, "rehearse:ping", "ping", calm()).ping();
    case LockBackend::zookeeper: return ZooKeeperLockClient(endpoints, "rehearse:ping", "ping", calm()).ping();
    case LockBackend::app_database: return AppDatabaseLockClient(endpoints.front(), "ping", 0, "rehearse:ping", "ping", calm()).ping();
    default: return RedisLockClient(redis_servers(endpoints, replica), "rehearse:ping", "ping", calm()).ping();
  }
}

Result<std::string> current_holder(LockBackend backend, const std::vector<std::string>& endpoints, const std::string& key,
                                   bool replica) {
  REHEARSE_ASSERT(check_lock_endpoints(backend, endpoints).is_ok());
  if (backend == LockBackend::redis && replica) return RedisLockClient(redis_servers(endpoints, true), key, "lookup", calm()).holder_value(key);
  if (backend == LockBackend::etcd) return EtcdLockClient(endpoints, key, "lookup", calm()).holder_value();
  if (backend == LockBackend::zookeeper) return ZooKeeperLockClient(endpoints, key, "lookup", calm()).holder_value();
  if (backend == LockBackend::app_database) return AppDatabaseLockClient(endpoints.front(), "lookup", 0, key, "lookup", calm()).holder_value();
  const std::vector<RedisEndpoint> servers = redis_endpoints(endpoints);
  const std::size_t asked = backend == LockBackend::redlock ? servers.size() : 1;
  std::map<std::string, std::size_t> votes;
  Status last = Status::ok();
  for (std::size_t i = 0; i < asked; ++i) {
    Result<RedisValue> value = redis_command_once(servers[i], {"GET", key});
    if (value.is_ok() && !value.value().nil) ++votes[value.value().text];
    if (!value.is_ok()) last = value.status();
  }
  for (const auto& [value, count] : votes) {
    if (count >= asked / 2 + 1) return value;
  }
  return last.is_ok() ? Result<std::string>(std::string()) : Result<std::string>(last);
}

}  // namespace rehearse::live
