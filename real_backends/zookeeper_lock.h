// The migration lock in a ZooKeeper ensemble through the multi-threaded C client
// (libzookeeper-mt), the recipe the simulated backend models (sim/lock_store_zookeeper.h,
// docs/lock-backends.md "zookeeper"):
//   - a session per client whose requested timeout is the lease TTL (the ensemble negotiates it
//     into its minSessionTimeout..maxSessionTimeout); the library pings every third of it and is
//     Disconnected after two thirds without hearing from a server; it learns that the session
//     Expired only when it reaches a server again;
//   - lock: an ephemeral sequential znode under /KEY holding the holder's value ("engine-N:<nonce>"),
//     created once per session: its name starts with the session id (Curator's protected mode),
//     so a create whose answer was lost is found and adopted by the next attempt; the lowest
//     sequence holds the lock; a waiter watches only its predecessor and waits for it up to a
//     third of the session timeout, then answers conflict (the engine retries with backoff);
//   - token: the znode's sequence number + 1 (ZooKeeper's first is 0; a token is positive), and
//     the parent's counter never goes back while /KEY lives;
//   - renew sends nothing: ok while connected, timeout while Disconnected (nothing is lost yet),
//     conflict once the session Expired; the lease's ttl_us is two thirds of the negotiated
//     timeout (the Disconnected point), so `fencing: client` stops there;
//   - release deletes our znode; close() ends the session (closeSession deletes its znodes).
// Every request waits for its answer at most 2 s (as the simulator's cluster requests), a new
// session at most 2 s for its establishment: an unreachable or partitioned ensemble is a
// timeout / unavailable answer, never a hang. One client per engine process; its calls are
// serialised by a mutex (the engine thread and its keepalive thread share it).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/ports.h"
#include "real_backends/live_ports.h"

namespace rehearse::live {

// Checks "HOST:PORT" of one ensemble member; invalid naming the text otherwise.
Status check_zookeeper_endpoint(const std::string& text);

class ZooKeeperLockClient final : public LockClient {
 public:
  // REQUIRES: at least one endpoint, each accepted by check_zookeeper_endpoint (all members of
  // one ensemble); `key` non-empty (the lock's znode is /KEY, '/' replaced by '_').
  ZooKeeperLockClient(std::vector<std::string> endpoints, std::string key, std::string holder, const StopSignal& stop);
  ~ZooKeeperLockClient() override;
  Result<Lease> try_acquire(TimeUs ttl_us) override;
  Status renew(const Lease& lease, TimeUs ttl_us) override;
  Status release(const Lease& lease) override;
  void close() override;
  // Opens a session (a quorum must accept it) and reads the root: unavailable when no member
  // serves within the timeouts.
  Status ping();
  // The value of the lowest-sequence znode under /KEY ("" when nobody holds or waits for the lock).
  Result<std::string> holder_value();

  struct Session;  // the library's handle and what its watchers learnt (zookeeper_lock.cc)

 private:
  Status connect(TimeUs timeout_us);
  Status ensure_lock_path();
  Status create_node();
  Result<std::int64_t> check(bool wait);
  Status status_of(int rc, const std::string& what);
  void close_session();

  std::string hosts_;      // "HOST:PORT,HOST:PORT,..."
  std::string lock_path_;  // "/KEY"
  std::string value_;
  const StopSignal& stop_;
  std::mutex mutex_;
  std::unique_ptr<Session> session_;  // none before the first call and after an expiry or close
  bool path_ready_ = false;           // /KEY exists
  std::string node_;                  // our lock znode's name under /KEY ("" = none)
  std::int64_t sequence_ = 0;         // its sequence number
  std::int64_t token_ = 0;            // the token of the lease handed out: sequence_ + 1 (0 = none)
};

}  // namespace rehearse::live
