// Tests of the live run's proxied network (real_backends/live_network.h), no database: libpq
// connection strings are read and rewritten to a proxy's port with their other settings kept;
// the links a partition, delay or drop reaches are exactly those between the nodes it names
// (one-way cuts in the named direction, `holder` read as the engine given); faults that would
// have to reach streaming replication are refused; each client is handed its own proxies.
#include "real_backends/live_network.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace rehearse::live {
namespace {

// Nothing needs to listen on these ports: a proxy connects upstream only when a client does. They lie
// below Linux's ephemeral range (32768-60999), so a proxy's own port, chosen by the kernel, can never
// equal one of them by chance (it once did: 56379, failing the "proxied, not direct" expectations).
const std::vector<RegionEndpoints> kRegions{
    {"us-east-1", "host=127.0.0.1 port=15432 dbname=app user=postgres", {"host=127.0.0.1 port=15433 dbname=app user=postgres"}},
    {"eu-west-1", "postgresql://postgres@127.0.0.1:15434/app?application_name=x", {}}};
const std::vector<std::string> kLock{"127.0.0.1:16379"};

Scenario two_engines() {
  Scenario scenario;
  scenario.topology.regions = {RegionSpec{.name = "us-east-1"}, RegionSpec{.name = "eu-west-1"}};
  scenario.engine.instances = 2;
  scenario.workload.all_regions = true;
  return scenario;
}

FaultSpec network_fault(FaultKind kind, std::vector<std::string> targets, std::vector<std::string> from = {}) {
  FaultSpec fault;
  fault.kind = kind;
  fault.line = 9;
  fault.targets = std::move(targets);
  fault.from = std::move(from);
  fault.for_us = 5 * kSec;
  fault.extra_us = 100 * kMs;
  fault.probability = 0.5;
  return fault;
}

std::vector<std::string> sorted(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  return names;
}

TEST(LiveNetworkTest, ConnectionStringsAreReadAndRewritten) {
  Result<std::pair<std::string, int>> endpoint = conninfo_endpoint(kRegions[0].primary);
  ASSERT_TRUE(endpoint.is_ok());
  EXPECT_EQ(endpoint.value(), (std::pair<std::string, int>{"127.0.0.1", 15432}));
  endpoint = conninfo_endpoint(kRegions[1].primary);
  ASSERT_TRUE(endpoint.is_ok()) << endpoint.status().to_string();
  EXPECT_EQ(endpoint.value(), (std::pair<std::string, int>{"127.0.0.1", 15434}));
  EXPECT_EQ(conninfo_endpoint("dbname=app").status().is_ok(), false) << "no host: a Unix-domain socket";
  EXPECT_FALSE(conninfo_endpoint("host=/var/run/postgresql dbname=app").is_ok());
  EXPECT_FALSE(conninfo_endpoint("host=a,b port=1,2").is_ok());

  Result<std::string> rewritten = conninfo_with_endpoint("host=db.example port=5433 dbname=app password='it\\'s x'", "127.0.0.1", 40001);
  ASSERT_TRUE(rewritten.is_ok()) << rewritten.status().to_string();
  EXPECT_EQ(conninfo_endpoint(rewritten.value()).value(), (std::pair<std::string, int>{"127.0.0.1", 40001}));
  EXPECT_NE(rewritten.value().find("dbname=app"), std::string::npos) << rewritten.value();
  // It reads back to the same settings, the quoted password included.
  EXPECT_EQ(conninfo_with_endpoint(rewritten.value(), "127.0.0.1", 40001).value(), rewritten.value());
  EXPECT_NE(rewritten.value().find(R"(password='it\'s x')"), std::string::npos) << rewritten.value();
  rewritten = conninfo_with_endpoint(kRegions[1].primary, "127.0.0.1", 40002);
  ASSERT_TRUE(rewritten.is_ok());
  EXPECT_EQ(rewritten.value(), "host=127.0.0.1 port=40002 user=postgres dbname=app application_name=x");
}

TEST(LiveNetworkTest, OnlyScenariosWithNetworkFaultsNeedProxies) {
  Scenario scenario = two_engines();
  EXPECT_FALSE(needs_proxies(scenario));
  FaultSpec pause = network_fault(FaultKind::pause, {"engine-1"});
  scenario.faults = {pause};
  EXPECT_FALSE(needs_proxies(scenario));
  scenario.faults.push_back(network_fault(FaultKind::delay, {"engine-1"}));
  EXPECT_TRUE(needs_proxies(scenario));
}

// Faults that reach streaming replication pass when the replica is on this machine (its
// primary_conninfo is pointed at a proxy, replica_redirect.h) and are refused, naming the pair,
// when it is not; malformed network faults are refused; what proxies can cut passes.
TEST(LiveNetworkTest, FaultsReachingReplicationNeedTheReplicaOnThisMachine) {
  const Scenario scenario = two_engines();
  auto refusal = [&](const FaultSpec& fault) { return network_fault_refusal(fault, scenario, kRegions, kLock); };
  EXPECT_EQ(refusal(network_fault(FaultKind::partition, {"db:us-east-1"})), "");
  EXPECT_EQ(refusal(network_fault(FaultKind::partition, {"db:us-east-1/replica-1"}, {"db:us-east-1"})), "");
  EXPECT_EQ(refusal(network_fault(FaultKind::delay, {"us-east-1"})), "");
  EXPECT_EQ(refusal(network_fault(FaultKind::drop, {"db:us-east-1/replica-1"})), "");
  std::vector<RegionEndpoints> remote = kRegions;
  remote[0].replicas = {"host=replica.example port=5432 dbname=app user=postgres"};
  const std::string refused = network_fault_refusal(network_fault(FaultKind::partition, {"db:us-east-1/replica-1"}, {"db:us-east-1"}),
                                                    scenario, remote, kLock);
  EXPECT_NE(refused.find("db:us-east-1/replica-1 streams from db:us-east-1"), std::string::npos) << refused;
  EXPECT_NE(refused.find("only for a replica on this machine"), std::string::npos) << refused;
  EXPECT_NE(refusal(network_fault(FaultKind::partition, {"nowhere"})).find("nowhere"), std::string::npos);
  FaultSpec forever = network_fault(FaultKind::partition, {"engine-1"});
  forever.for_us = 0;
  EXPECT_NE(refusal(forever), "");

  EXPECT_EQ(refusal(network_fault(FaultKind::partition, {"us-east-1"})), "") << "replication stays inside the side";
  EXPECT_EQ(refusal(network_fault(FaultKind::partition, {"holder"}, {"lock"})), "");
  EXPECT_EQ(refusal(network_fault(FaultKind::partition, {"eu-west-1"})), "");
  EXPECT_EQ(refusal(network_fault(FaultKind::delay, {"lock"})), "");
  EXPECT_EQ(refusal(network_fault(FaultKind::drop, {"db:eu-west-1"})), "");
}

class LiveNetworkLinks : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<LiveNetwork>> started = LiveNetwork::start(two_engines(), kRegions, kLock);
    ASSERT_TRUE(started.is_ok()) << started.status().to_string();
    network_ = std::move(started.value());
  }
  std::vector<std::string> impose(const FaultSpec& fault, const std::string& holder = "") {
    std::vector<std::string> links;
    const int id = network_->impose(fault, holder, links);
    if (id >= 0) network_->lift(id);
    return sorted(links);
  }
  std::unique_ptr<LiveNetwork> network_;
};

TEST_F(LiveNetworkLinks, EachClientGetsItsOwnProxies) {
  const std::vector<RegionEndpoints> one = network_->regions_for("engine-1");
  const std::vector<RegionEndpoints> two = network_->regions_for("engine-2");
  ASSERT_EQ(one.size(), 2U);
  EXPECT_EQ(conninfo_endpoint(one[0].primary).value().first, "127.0.0.1");
  EXPECT_NE(conninfo_endpoint(one[0].primary).value().second, 15432);
  EXPECT_NE(one[0].primary, two[0].primary);
  EXPECT_NE(one[0].replicas[0], two[0].replicas[0]);
  EXPECT_NE(network_->lock_endpoints_for("engine-1"), network_->lock_endpoints_for("engine-2"));
  EXPECT_NE(network_->lock_endpoints_for("engine-1"), kLock);
  // The application of eu-west-1 has a proxy to its own primary only.
  const std::vector<RegionEndpoints> app = network_->regions_for("app:eu-west-1");
  EXPECT_EQ(app[0].primary, kRegions[0].primary);
  EXPECT_NE(app[1].primary, kRegions[1].primary);
  EXPECT_EQ(network_->lock_endpoints_for("app:eu-west-1"), kLock);
}

TEST_F(LiveNetworkLinks, PartitionsCutExactlyTheNamedPairs) {
  EXPECT_EQ(impose(network_fault(FaultKind::partition, {"holder"}, {"lock"}), "engine-2"), (std::vector<std::string>{"engine-2<->lock-1"}));
  EXPECT_EQ(impose(network_fault(FaultKind::partition, {"engine-1"}, {"eu-west-1"})), (std::vector<std::string>{"engine-1<->db:eu-west-1"}));
  FaultSpec oneway = network_fault(FaultKind::partition, {"engine-1"}, {"lock"});
  oneway.oneway = true;
  EXPECT_EQ(impose(oneway), (std::vector<std::string>{"engine-1->lock-1"}));
  oneway.targets = {"lock"};
  oneway.from = {"engine-1"};
  EXPECT_EQ(impose(oneway), (std::vector<std::string>{"engine-1<-lock-1"}));
  // eu-west-1 from everyone else: every engine's link to its primary, nothing of its own application.
  EXPECT_EQ(impose(network_fault(FaultKind::partition, {"eu-west-1"})),
            (std::vector<std::string>{"engine-1<->db:eu-west-1", "engine-2<->db:eu-west-1"}));
  // Two engines exchange no traffic: nothing to cut.
  EXPECT_TRUE(impose(network_fault(FaultKind::partition, {"engine-1"}, {"engine-2"})).empty());
}

TEST_F(LiveNetworkLinks, DelaysReachEveryLinkOfTheTarget) {
  EXPECT_EQ(impose(network_fault(FaultKind::delay, {"lock"})), (std::vector<std::string>{"engine-1<->lock-1", "engine-2<->lock-1"}));
  EXPECT_EQ(impose(network_fault(FaultKind::drop, {"app:eu-west-1"})), (std::vector<std::string>{"app:eu-west-1<->db:eu-west-1"}));
  EXPECT_EQ(impose(network_fault(FaultKind::delay, {"engine-2"})).size(), 4U);  // lock, two primaries, the replica
}

}  // namespace
}  // namespace rehearse::live
