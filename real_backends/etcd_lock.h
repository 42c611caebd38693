// The migration lock in etcd through its v3 HTTP/JSON gateway (etcd 3.4: `/v3/...`, keys and
// values base64, int64 fields as strings), as docs/lock-backends.md describes the simulated
// one: each attempt grants a fresh lease (TTL rounded up to whole seconds, at least 2 s: etcd's
// minimum) and puts the lock key with it in a transaction that succeeds only when the key does
// not exist (create_revision == 0); the token is the key's create revision, which the cluster
// never hands out twice. Renew is a lease keepalive plus a read of the key (still ours, same
// create revision). Release deletes the key if it is still on our lease, then revokes the lease.
// libcurl, one easy handle per client, a timeout on every request; requests go to the first
// endpoint that answers and fail over to the next. Calls are serialised by a mutex.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/ports.h"
#include "real_backends/live_ports.h"

namespace rehearse::live {

// Parses an etcd client URL "http://HOST:PORT" (no path); invalid naming the text otherwise.
Result<std::string> parse_etcd_endpoint(const std::string& text);

class EtcdLockClient final : public LockClient {
 public:
  // REQUIRES: at least one endpoint, each accepted by parse_etcd_endpoint.
  EtcdLockClient(std::vector<std::string> endpoints, std::string key, std::string holder, const StopSignal& stop);
  ~EtcdLockClient() override;
  // The lease's ttl_us is the TTL etcd granted (whole seconds, >= 2 s).
  Result<Lease> try_acquire(TimeUs ttl_us) override;
  // Keepalive of our lease, then the key must still hold our value at the lease's token.
  Status renew(const Lease& lease, TimeUs ttl_us) override;
  Status release(const Lease& lease) override;
  // Reaches one endpoint (maintenance status): unavailable when none answers.
  Status ping();
  // The lock key's value ("" when nobody holds the lock).
  Result<std::string> holder_value();

 private:
  Result<nlohmann::json> post(const std::string& path, const nlohmann::json& body);
  Result<nlohmann::json> post_to(const std::string& endpoint, const std::string& path, const std::string& body);
  void revoke(std::int64_t lease_id);

  std::vector<std::string> endpoints_;
  std::string key_;
  std::string value_;
  const StopSignal& stop_;
  std::mutex mutex_;
  void* curl_ = nullptr;      // CURL*, kept out of this header
  std::size_t current_ = 0;   // the endpoint that answered last
  std::int64_t lease_id_ = 0; // the lease our key is on (0 = none)
};

}  // namespace rehearse::live
