// The proxied network of a live run: the nodes and links of the run, the rewritten endpoints,
// and partitions, delays and drops turned into cuts and impairments of single links.
#include "real_backends/live_network.h"

#include <libpq-fe.h>

#include <algorithm>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/assert.h"
#include "core/topology.h"
#include "real_backends/redis_lock.h"

namespace rehearse::live {

namespace {
constexpr const char* kProxyHost = "127.0.0.1";
constexpr int kDefaultPostgresPort = 5432;

struct NodeInfo {
  std::string name;
  std::string region;
  bool client = false;    // engine-N, app:REGION: connects; otherwise a backend that is connected to
  std::string primary;    // a replica: its primary's node name
  std::string host;       // a backend: where its proxies connect
  int port = 0;
};

// Whether `host` is this machine: a replica can reach a proxy of the runner on 127.0.0.1 only then.
bool loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// A value for a libpq keyword=value string: as it is when it needs no quotes, else
// single-quoted with backslash escapes.
std::string conninfo_quote(const std::string& value) {
  if (!value.empty() && value.find_first_of(" \t\n\r\f\v'\\") == std::string::npos) return value;
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') quoted += '\\';
    quoted += c;
  }
  return quoted + "'";
}

struct ParsedConninfo {
  std::vector<std::pair<std::string, std::string>> settings;  // keyword, value (only those given)
};

Result<ParsedConninfo> parse_conninfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    const std::string why = error != nullptr ? error : "out of memory";
    if (error != nullptr) PQfreemem(error);
    return Status::invalid("connection string cannot be parsed: " + why);
  }
  ParsedConninfo parsed;
  for (const PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val != nullptr) parsed.settings.emplace_back(option->keyword, option->val);
  }
  PQconninfoFree(options);
  return parsed;
}

std::string setting(const ParsedConninfo& parsed, const std::string& keyword) {
  for (const auto& [key, value] : parsed.settings) {
    if (key == keyword) return value;
  }
  return "";
}
}  // namespace

Result<std::pair<std::string, int>> conninfo_endpoint(const std::string& conninfo) {
  Result<ParsedConninfo> parsed = parse_conninfo(conninfo);
  if (!parsed.is_ok()) return parsed.status();
  std::string host = setting(parsed.value(), "hostaddr");
  if (host.empty()) host = setting(parsed.value(), "host");
  const std::string port_text = setting(parsed.value(), "port");
  if (host.empty() || host.front() == '/' || host.front() == '@') return Status::invalid("a Unix-domain socket cannot be proxied (name a TCP host)");
  if (host.find(',') != std::string::npos || port_text.find(',') != std::string::npos) return Status::invalid("several hosts in one connection string cannot be proxied");
  int port = kDefaultPostgresPort;
  if (!port_text.empty()) {
    try {
      port = std::stoi(port_text);
    } catch (const std::exception&) {
      return Status::invalid("the port is not a number");
    }
  }
  if (port <= 0 || port >= 65536) return Status::invalid("the port is out of range");
  return std::pair<std::string, int>{host, port};
}

Result<std::string> conninfo_with_endpoint(const std::string& conninfo, const std::string& host, int port) {
  Result<ParsedConninfo> parsed = parse_conninfo(conninfo);
  if (!parsed.is_ok()) return parsed.status();
  std::string text = fmt::format("host={} port={}", conninfo_quote(host), port);
  for (const auto& [keyword, value] : parsed.value().settings) {
    if (keyword == "host" || keyword == "hostaddr" || keyword == "port") continue;
    text += fmt::format(" {}={}", keyword, conninfo_quote(value));
  }
  return text;
}

bool needs_proxies(const Scenario& scenario) {
  return std::any_of(scenario.faults.begin(), scenario.faults.end(), [](const FaultSpec& fault) {
    return fault.kind == FaultKind::partition || fault.kind == FaultKind::delay || fault.kind == FaultKind::drop;
  });
}

// The run's nodes (clients and backends) and which client connects to which backend.
struct LiveNetwork::Topology {
  std::vector<NodeInfo> nodes;
  std::vector<std::pair<std::string, std::string>> links;  // (client, backend)
  std::vector<RegionEndpoints> regions;
  std::vector<std::string> lock_endpoints;
  std::string lock_database;  // app-database: `lock` is the lock region's primary, db:REGION

  const NodeInfo* find(const std::string& name) const {
    for (const auto& node : nodes) {
      if (node.name == name) return &node;
    }
    return nullptr;
  }
  bool linked(const std::string& client, const std::string& backend) const {
    return std::find(links.begin(), links.end(), std::pair{client, backend}) != links.end();
  }
  // The nodes a fault's name stands for; nullopt for an unknown name. `holder` is replaced first.
  std::optional<std::vector<std::string>> expand(const std::string& name) const {
    std::vector<std::string> names;
    for (const auto& node : nodes) {
      const bool lock = name == "lock" && (node.name.rfind("lock-", 0) == 0 || node.name == lock_database);
      if (node.name == name || node.region == name || lock) names.push_back(node.name);
    }
    if (names.empty()) return std::nullopt;
    return names;
  }
};

namespace {
Result<LiveNetwork::Topology> topology_of(const Scenario& scenario, const std::vector<RegionEndpoints>& regions,
                                          const std::vector<std::string>& lock_endpoints) {
  const std::string& lock_place = lock_region(scenario);
  if (regions.empty() || lock_place.empty()) return Status::invalid("the scenario names no region to place its nodes in");
  LiveNetwork::Topology topology{.regions = regions, .lock_endpoints = lock_endpoints};
  const std::string first = regions.front().name;
  const std::string engine_region = scenario.engine.region.empty() ? first : scenario.engine.region;
  if (scenario.lock.backend == LockBackend::app_database) topology.lock_database = "db:" + writer_region(scenario, lock_place);
  std::size_t lock_first = 0;
  while (lock_first < regions.size() && regions[lock_first].name != lock_place) ++lock_first;
  std::vector<std::string> backends;
  for (std::size_t i = 0; i < lock_endpoints.size(); ++i) {
    Result<RedisEndpoint> endpoint = parse_redis_endpoint(lock_endpoints[i]);
    if (!endpoint.is_ok()) return Status::invalid(fmt::format("lock endpoint {}: {}", i + 1, endpoint.status().message()));
    // Redis lives in the lock region; the nodes of the other backends round-robin from it (as sim/world.cc places them).
    const std::string region = scenario.lock.backend == LockBackend::redis ? lock_place : regions[(lock_first + i) % regions.size()].name;
    topology.nodes.push_back(NodeInfo{fmt::format("lock-{}", i + 1), region, false, "", endpoint.value().host, endpoint.value().port});
    backends.push_back(topology.nodes.back().name);
  }
  // Global topology: the home's primary is the only one, and every region's replicas stream from it.
  for (const auto& region : regions) {
    const std::string writer = "db:" + writer_region(scenario, region.name);
    if (writer == "db:" + region.name) {
      Result<std::pair<std::string, int>> primary = conninfo_endpoint(region.primary);
      if (!primary.is_ok()) return Status::invalid(fmt::format("db:{}: {}", region.name, primary.status().message()));
      topology.nodes.push_back(NodeInfo{"db:" + region.name, region.name, false, "", primary.value().first, primary.value().second});
      backends.push_back(topology.nodes.back().name);
    }
    for (std::size_t r = 0; r < region.replicas.size(); ++r) {
      const std::string name = fmt::format("db:{}/replica-{}", region.name, r + 1);
      Result<std::pair<std::string, int>> replica = conninfo_endpoint(region.replicas[r]);
      if (!replica.is_ok()) return Status::invalid(fmt::format("{}: {}", name, replica.status().message()));
      topology.nodes.push_back(NodeInfo{name, region.name, false, writer, replica.value().first, replica.value().second});
      backends.push_back(name);
    }
  }
  for (int n = 1; n <= scenario.engine.instances; ++n) {
    const std::string name = fmt::format("engine-{}", n);
    topology.nodes.push_back(NodeInfo{name, engine_region, true});
    for (const auto& backend : backends) topology.links.emplace_back(name, backend);
  }
  const auto& workload = scenario.workload;
  for (const auto& region : regions) {
    if (!workload.all_regions && !contains(workload.regions, region.name)) continue;
    const std::string name = "app:" + region.name;
    topology.nodes.push_back(NodeInfo{name, region.name, true});
    topology.links.emplace_back(name, "db:" + writer_region(scenario, region.name));
    for (std::size_t r = 0; r < region.replicas.size(); ++r) topology.links.emplace_back(name, fmt::format("db:{}/replica-{}", region.name, r + 1));
  }
  // Streaming replication: each replica is the client of its primary (its WAL receiver connects
  // to the primary's WAL sender). Proxied only when a fault reaches it (LiveNetwork::start).
  for (const auto& region : regions) {
    for (std::size_t r = 0; r < region.replicas.size(); ++r) {
      topology.links.emplace_back(fmt::format("db:{}/replica-{}", region.name, r + 1), "db:" + writer_region(scenario, region.name));
    }
  }
  return topology;
}

bool replication_link(const LiveNetwork::Topology& topology, const std::string& client, const std::string& backend) {
  const NodeInfo* node = topology.find(client);
  return node != nullptr && node->primary == backend;
}

// A fault that has to reach a replication link can do so only when the replica runs on this
// machine: its primary_conninfo is pointed at a proxy on 127.0.0.1 (replica_redirect.h).
Status check_replication_link(const LiveNetwork::Topology& topology, const std::string& replica) {
  const NodeInfo& node = *topology.find(replica);
  if (loopback(node.host)) return Status::ok();
  return Status::invalid(fmt::format("{} streams from {} over a connection the runner can proxy only for a replica on this machine "
                                     "(its primary_conninfo is pointed at a proxy on 127.0.0.1), and it is at {}",
                                     replica, node.primary, node.host));
}


struct LinkChange {
  std::string client;
  std::string backend;
  ProxyDirection direction = ProxyDirection::both;  // partition only
};

std::vector<std::string> replace_holder(const std::vector<std::string>& names, const std::string& holder) {
  std::vector<std::string> replaced;
  for (const auto& name : names) replaced.push_back(name == "holder" ? holder : name);
  return replaced;
}

// The nodes `names` stand for, or why a name stands for none.
Result<std::vector<std::string>> expand_all(const LiveNetwork::Topology& topology, const std::vector<std::string>& names) {
  std::vector<std::string> expanded;
  for (const auto& name : names) {
    std::optional<std::vector<std::string>> nodes = topology.expand(name);
    if (!nodes) return Status::invalid(fmt::format("{} is no node, region or lock of this live run", name));
    for (const auto& node : *nodes) {
      if (!contains(expanded, node)) expanded.push_back(node);
    }
  }
  return expanded;
}

// A partition as cuts of single links; refused where it would have to cut replication.
Result<std::vector<LinkChange>> plan_partition(const LiveNetwork::Topology& topology, const FaultSpec& fault, const std::string& holder) {
  Result<std::vector<std::string>> side = expand_all(topology, replace_holder(fault.targets, holder));
  if (!side.is_ok()) return side.status();
  std::vector<std::string> other;
  if (fault.from.empty()) {
    for (const auto& node : topology.nodes) {
      if (!contains(side.value(), node.name)) other.push_back(node.name);
    }
  } else {
    Result<std::vector<std::string>> from = expand_all(topology, replace_holder(fault.from, holder));
    if (!from.is_ok()) return from.status();
    other = from.value();
  }
  std::map<std::pair<std::string, std::string>, std::pair<bool, bool>> cut;  // link -> (to_upstream, to_client)
  for (const auto& a : side.value()) {
    for (const auto& b : other) {
      if (a == b) continue;
      const NodeInfo& x = *topology.find(a);
      const NodeInfo& y = *topology.find(b);
      if (x.primary == b || y.primary == a) {
        Status proxied = check_replication_link(topology, x.primary == b ? a : b);
        if (!proxied.is_ok()) return proxied;
      }
      if (topology.linked(a, b)) {
        cut[{a, b}].first = true;                       // a -> b is the client's requests
        if (!fault.oneway) cut[{a, b}].second = true;
      }
      if (topology.linked(b, a)) {
        cut[{b, a}].second = true;                      // a -> b is the backend's replies
        if (!fault.oneway) cut[{b, a}].first = true;
      }
    }
  }
  std::vector<LinkChange> changes;
  for (const auto& [link, directions] : cut) {
    const ProxyDirection direction = directions.first && directions.second ? ProxyDirection::both
                                     : directions.first                    ? ProxyDirection::to_upstream
                                                                           : ProxyDirection::to_client;
    changes.push_back(LinkChange{link.first, link.second, direction});
  }
  return changes;
}

// A delay or drop as impairments of every link of the target, streaming replication included
// (refused where the replica is not on this machine).
Result<std::vector<LinkChange>> plan_impairment(const LiveNetwork::Topology& topology, const FaultSpec& fault, const std::string& holder) {
  Result<std::vector<std::string>> targets = expand_all(topology, replace_holder(fault.targets, holder));
  if (!targets.is_ok()) return targets.status();
  std::vector<LinkChange> changes;
  for (const auto& [client, backend] : topology.links) {
    if (!contains(targets.value(), client) && !contains(targets.value(), backend)) continue;
    if (replication_link(topology, client, backend)) {
      Status proxied = check_replication_link(topology, client);
      if (!proxied.is_ok()) return proxied;
    }
    changes.push_back(LinkChange{client, backend});
  }
  return changes;
}

Result<std::vector<LinkChange>> plan(const LiveNetwork::Topology& topology, const FaultSpec& fault, const std::string& holder) {
  REHEARSE_ASSERT(fault.kind == FaultKind::partition || fault.kind == FaultKind::delay || fault.kind == FaultKind::drop);
  return fault.kind == FaultKind::partition ? plan_partition(topology, fault, holder) : plan_impairment(topology, fault, holder);
}
}  // namespace

std::string network_fault_refusal(const FaultSpec& fault, const Scenario& scenario, const std::vector<RegionEndpoints>& regions,
                                  const std::vector<std::string>& lock_endpoints) {
  if (fault.kind != FaultKind::partition && fault.targets.size() != 1) return "delay and drop take exactly one target";
  if (fault.targets.empty()) return "a partition needs a target";
  if (fault.for_us <= 0) return fmt::format("{} needs `for`", to_string(fault.kind));
  if (fault.kind == FaultKind::delay && fault.extra_us <= 0) return "a delay needs a positive `extra`";
  if (fault.kind == FaultKind::drop && !(fault.probability > 0 && fault.probability <= 1)) return "a drop needs a probability in (0, 1]";
  Result<LiveNetwork::Topology> topology = topology_of(scenario, regions, lock_endpoints);
  if (!topology.is_ok()) return "cannot proxy " + topology.status().message();
  // Every engine has the same links, so engine-1 stands for the holder (read when the fault fires).
  Result<std::vector<LinkChange>> changes = plan(topology.value(), fault, "engine-1");
  return changes.is_ok() ? "" : changes.status().message();
}

struct LiveNetwork::Impairment {
  FaultSpec fault;
  std::vector<std::pair<TcpProxy*, ProxyDirection>> cuts;
  std::vector<TcpProxy*> impaired;  // delay or drop
};

Result<std::unique_ptr<LiveNetwork>> LiveNetwork::start(const Scenario& scenario, const std::vector<RegionEndpoints>& regions,
                                                        const std::vector<std::string>& lock_endpoints) {
  Result<Topology> topology = topology_of(scenario, regions, lock_endpoints);
  if (!topology.is_ok()) return Status::unavailable(topology.status().message());
  std::unique_ptr<LiveNetwork> network(new LiveNetwork());
  network->topology_ = std::make_unique<Topology>(std::move(topology.value()));
  std::uint64_t seed = scenario.seed * 0x9e3779b97f4a7c15ULL + 17;
  network->next_seed_ = seed + 1000003ULL;
  for (const auto& [client, backend] : network->topology_->links) {
    if (replication_link(*network->topology_, client, backend)) continue;  // proxy_replication(), on demand
    const NodeInfo& node = *network->topology_->find(backend);
    Result<std::unique_ptr<TcpProxy>> proxy = TcpProxy::start(client + "->" + backend, node.host, node.port, ++seed);
    if (!proxy.is_ok()) return proxy.status();
    network->proxies_[{client, backend}] = std::move(proxy.value());
  }
  return network;
}

LiveNetwork::~LiveNetwork() { heal_all(); }

std::vector<std::string> LiveNetwork::replicas_to_redirect(const Scenario& scenario) const {
  std::vector<std::string> replicas;
  for (const FaultSpec& fault : scenario.faults) {
    if (fault.kind != FaultKind::partition && fault.kind != FaultKind::delay && fault.kind != FaultKind::drop) continue;
    // engine-1 stands for the holder: an engine has no replication link, whichever it is.
    Result<std::vector<LinkChange>> changes = plan(*topology_, fault, "engine-1");
    if (!changes.is_ok()) continue;
    for (const LinkChange& change : changes.value()) {
      if (replication_link(*topology_, change.client, change.backend) && !contains(replicas, change.client)) replicas.push_back(change.client);
    }
  }
  return replicas;
}

Result<int> LiveNetwork::proxy_replication(const std::string& replica, const std::string& host, int port) {
  const NodeInfo* node = topology_->find(replica);
  REHEARSE_ASSERT(node != nullptr && !node->primary.empty());
  Result<std::unique_ptr<TcpProxy>> proxy = TcpProxy::start(replica + "->" + node->primary, host, port, ++next_seed_);
  if (!proxy.is_ok()) return proxy.status();
  const int listening = proxy.value()->port();
  proxies_[{replica, node->primary}] = std::move(proxy.value());
  return listening;
}

TcpProxy& LiveNetwork::proxy(const std::string& client, const std::string& backend) {
  auto it = proxies_.find({client, backend});
  REHEARSE_ASSERT(it != proxies_.end());
  return *it->second;
}

std::vector<RegionEndpoints> LiveNetwork::regions_for(const std::string& client) const {
  std::vector<RegionEndpoints> regions = topology_->regions;
  auto rewrite = [&](std::string& conninfo, const std::string& backend) {
    auto it = proxies_.find({client, backend});
    if (it == proxies_.end()) return;  // this client does not use that server: left as it is
    Result<std::string> rewritten = conninfo_with_endpoint(conninfo, kProxyHost, it->second->port());
    REHEARSE_ASSERT(rewritten.is_ok());  // it parsed when the topology was built
    conninfo = rewritten.value();
  };
  for (auto& region : regions) {
    rewrite(region.primary, "db:" + region.name);
    for (std::size_t r = 0; r < region.replicas.size(); ++r) rewrite(region.replicas[r], fmt::format("db:{}/replica-{}", region.name, r + 1));
  }
  return regions;
}

std::vector<std::string> LiveNetwork::lock_endpoints_for(const std::string& client) const {
  std::vector<std::string> endpoints = topology_->lock_endpoints;
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    auto it = proxies_.find({client, fmt::format("lock-{}", i + 1)});
    if (it != proxies_.end()) endpoints[i] = fmt::format("{}:{}", kProxyHost, it->second->port());
  }
  return endpoints;
}

int LiveNetwork::impose(const FaultSpec& fault, const std::string& holder_engine, std::vector<std::string>& links) {
  Result<std::vector<LinkChange>> changes = plan(*topology_, fault, holder_engine);
  REHEARSE_ASSERT(changes.is_ok());  // checked by network_fault_refusal before the run
  if (changes.value().empty()) return -1;
  auto impairment = std::make_unique<Impairment>();
  impairment->fault = fault;
  for (const LinkChange& change : changes.value()) {
    TcpProxy& link = proxy(change.client, change.backend);
    if (fault.kind == FaultKind::partition) {
      link.cut(change.direction);
      impairment->cuts.emplace_back(&link, change.direction);
      const char* arrow = change.direction == ProxyDirection::both ? "<->" : change.direction == ProxyDirection::to_upstream ? "->" : "<-";
      links.push_back(fmt::format("{}{}{}", change.client, arrow, change.backend));
      continue;
    }
    if (fault.kind == FaultKind::delay) link.add_delay(fault.extra_us);
    if (fault.kind == FaultKind::drop) link.add_drop(fault.probability);
    impairment->impaired.push_back(&link);
    links.push_back(fmt::format("{}<->{}", change.client, change.backend));
  }
  const int id = next_id_++;
  active_[id] = std::move(impairment);
  return id;
}

void LiveNetwork::lift(int id) {
  auto it = active_.find(id);
  REHEARSE_ASSERT(it != active_.end());
  const Impairment& impairment = *it->second;
  for (const auto& [link, direction] : impairment.cuts) link->uncut(direction);
  for (TcpProxy* link : impairment.impaired) {
    if (impairment.fault.kind == FaultKind::delay) link->remove_delay(impairment.fault.extra_us);
    if (impairment.fault.kind == FaultKind::drop) link->remove_drop(impairment.fault.probability);
  }
  active_.erase(it);
}

void LiveNetwork::heal_all() {
  while (!active_.empty()) lift(active_.begin()->first);
}

}  // namespace rehearse::live
