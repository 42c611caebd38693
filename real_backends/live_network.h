// The proxied network of a live run: when a scenario has network faults (`partition`, `delay`,
// `drop`), every client of the run (each engine process, each region's application traffic)
// reaches each backend it uses (each lock server, each region's primary and replicas) through a
// TcpProxy of its own (tcp_proxy.h), so that a fault can cut exactly the pairs of nodes the
// scenario names: `partition: [engine-1], from: [lock]` cuts engine-1's links to the lock
// servers and nothing else. Connection strings and lock endpoints handed to the clients are
// rewritten to the proxies' ports. A run without network faults creates no proxy: its clients
// connect directly (the benchmark path).
//
// Streaming replication is a link too: the replica is its client, the primary its backend. When a
// fault reaches it, the runner starts its proxy (proxy_replication) and points the replica's
// primary_conninfo at it for the run (replica_redirect.h); that needs the replica on this
// machine, else the fault is refused before the run (network_fault_refusal). Pairs that
// exchange no traffic at all (two engines, an application and the lock, two regions' primaries)
// need no cut.
//
// Called from the runner's supervisor thread (start, impose, lift, heal_all); regions_for and
// lock_endpoints_for are const and may be called from any thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/model.h"
#include "core/status.h"
#include "real_backends/postgres.h"
#include "real_backends/tcp_proxy.h"

namespace rehearse::live {

// Whether `scenario` has a fault that needs proxies.
bool needs_proxies(const Scenario& scenario);

// Empty when the network fault `fault` can be made real by proxies between this run's clients
// and backends; otherwise why not. REQUIRES: fault.kind is partition, delay or drop.
std::string network_fault_refusal(const FaultSpec& fault, const Scenario& scenario, const std::vector<RegionEndpoints>& regions,
                                  const std::vector<std::string>& lock_endpoints);

// The TCP host and port a libpq connection string names (keyword=value or URI form); invalid
// for a Unix-domain socket, several hosts, or a string libpq cannot parse.
Result<std::pair<std::string, int>> conninfo_endpoint(const std::string& conninfo);
// `conninfo` with its host and port replaced (keyword=value form, other settings kept).
Result<std::string> conninfo_with_endpoint(const std::string& conninfo, const std::string& host, int port);

class LiveNetwork {
 public:
  // One proxy per (client, backend) link of the run. Unavailable when a proxy cannot start.
  // REQUIRES: every network fault passed network_fault_refusal().
  static Result<std::unique_ptr<LiveNetwork>> start(const Scenario& scenario, const std::vector<RegionEndpoints>& regions,
                                                    const std::vector<std::string>& lock_endpoints);
  ~LiveNetwork();
  LiveNetwork(const LiveNetwork&) = delete;
  LiveNetwork& operator=(const LiveNetwork&) = delete;

  // The endpoints `client` (engine-N, app:REGION) is given: its proxies' ports on 127.0.0.1.
  std::vector<RegionEndpoints> regions_for(const std::string& client) const;
  std::vector<std::string> lock_endpoints_for(const std::string& client) const;

  // The replicas (db:REGION/replica-K) whose streaming replication a fault of `scenario` reaches:
  // each needs proxy_replication() and its primary_conninfo pointed at that proxy
  // (replica_redirect.h) before the faults start.
  std::vector<std::string> replicas_to_redirect(const Scenario& scenario) const;
  // Starts the proxy of `replica`'s replication link to its primary at host:port (where its
  // primary_conninfo pointed); returns the port it listens on, on 127.0.0.1.
  Result<int> proxy_replication(const std::string& replica, const std::string& host, int port);

  // Imposes the partition, delay or drop `fault`, the target `holder` read as `holder_engine`
  // (engine-N). Returns an id for lift() and, in `links`, the cut or impaired links as
  // "client->backend" ("<-" / "->" for one-way cuts). -1 when the fault reaches no link.
  int impose(const FaultSpec& fault, const std::string& holder_engine, std::vector<std::string>& links);
  // Ends what impose() returned `id` for. REQUIRES: id from impose(), not lifted yet.
  void lift(int id);
  // Ends everything imposed and not lifted yet.
  void heal_all();

  struct Topology;

 private:
  struct Impairment;
  LiveNetwork() = default;
  TcpProxy& proxy(const std::string& client, const std::string& backend);

  std::unique_ptr<Topology> topology_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<TcpProxy>> proxies_;  // (client, backend)
  std::map<int, std::unique_ptr<Impairment>> active_;
  int next_id_ = 1;
  std::uint64_t next_seed_ = 0;  // the replication proxies' drop draws
};

}  // namespace rehearse::live
