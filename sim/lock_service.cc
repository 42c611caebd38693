// Choosing the simulated lock backend of a run.
#include "sim/lock_service.h"

#include "core/assert.h"
#include "sim/lock_store_app_database.h"
#include "sim/lock_store_etcd.h"
#include "sim/lock_store_redis.h"
#include "sim/lock_store_redlock.h"
#include "sim/lock_store_zookeeper.h"

namespace rehearse::sim {

std::unique_ptr<LockService> make_lock_service(LockServiceContext context) {
  switch (context.spec.backend) {
    case LockBackend::redis: return std::make_unique<RedisLockService>(std::move(context));
    case LockBackend::redlock: return std::make_unique<RedlockService>(std::move(context));
    case LockBackend::etcd: return std::make_unique<EtcdCluster>(std::move(context));
    case LockBackend::zookeeper: return std::make_unique<ZooKeeperEnsemble>(std::move(context));
    case LockBackend::app_database: return std::make_unique<AppDatabaseLockService>(std::move(context));
  }
  REHEARSE_ASSERT(false);
  return nullptr;
}

}  // namespace rehearse::sim
