// Tests of the global topology live (issue 16; docs/live.md, "Global topology"), no database: a
// live config's `topology: {mode, home}` beside `regions:`, whose regions other than the home list
// only replicas (bad input names the file, line and key); the databases the runner and the engine
// see (the home primary with every region's replicas, named by their own regions, numbered as the
// simulator numbers them); what each region's application uses; which replicas a replication_lag
// pauses; where the app-database lock lives; and the proxied links of a global run.
#include "real_backends/live_topology.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/topology.h"
#include "real_backends/live_lock.h"
#include "real_backends/live_network.h"
#include "scenarios/live_config.h"

namespace rehearse::live {
namespace {

const std::string kRest =
    "lock: {backend: redis, endpoints: [\"127.0.0.1:16379\"], ttl: 10s}\n"
    "table: {name: t, rows: 10, columns: {amount: {type: numeric}}}\n"
    "migration: {name: m, operations: [{add_column: {column: c, type: bigint, up: \"round(amount * 100)\"}}]}\n";

std::string first_error(const LiveConfigResult& loaded) { return loaded.errors.empty() ? "" : loaded.errors.front().to_string(); }

TEST(LiveTopologyConfigTest, GlobalRegionsListOnlyReplicasOutsideTheHome) {
  const std::string text =
      "name: g\n"
      "description: d\n"
      "topology: {mode: global, home: us-east-1}\n"
      "regions:\n"
      "  - {name: us-east-1, primary: \"host=127.0.0.1 port=15432 dbname=app\", replicas: []}\n"
      "  - name: eu-west-1\n"
      "    replicas: [\"host=127.0.0.1 port=15433 dbname=app\"]\n" +
      kRest;
  LiveConfigResult loaded = load_live_config_text(text, "g.yaml");
  ASSERT_TRUE(loaded.ok()) << first_error(loaded);
  const Scenario& scenario = loaded.config->scenario;
  EXPECT_EQ(scenario.topology.mode, TopologyMode::global);
  EXPECT_EQ(scenario.topology.home, "us-east-1");
  ASSERT_EQ(scenario.topology.regions.size(), 2U);
  EXPECT_EQ(scenario.topology.regions[1].replicas, 1);
  EXPECT_EQ(loaded.config->regions[1].primary, "");
  EXPECT_EQ(migrated_regions(scenario), std::vector<std::string>{"us-east-1"});

  // The home defaults to the first region, as in a scenario.
  std::string defaulted = text;
  defaulted.replace(defaulted.find(", home: us-east-1"), std::string(", home: us-east-1").size(), "");
  LiveConfigResult first = load_live_config_text(defaulted, "g.yaml");
  ASSERT_TRUE(first.ok()) << first_error(first);
  EXPECT_EQ(first.config->scenario.topology.home, "us-east-1");
}

TEST(LiveTopologyConfigTest, BadTopologiesNameFileLineAndKey) {
  const std::string regions =
      "regions:\n"
      "  - {name: us-east-1, primary: \"host=127.0.0.1 port=15432 dbname=app\"}\n"
      "  - {name: eu-west-1, primary: \"host=127.0.0.1 port=15434 dbname=app\", replicas: []}\n";
  // A primary outside the home: the operator believes that region has a writer of its own.
  LiveConfigResult loaded = load_live_config_text("name: g\ndescription: d\ntopology: {mode: global, home: us-east-1}\n" + regions + kRest, "g.yaml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(first_error(loaded).find("g.yaml:6: regions[1].primary"), std::string::npos) << first_error(loaded);
  EXPECT_NE(first_error(loaded).find("db:us-east-1 (the home region's) is the only primary"), std::string::npos) << first_error(loaded);

  // The home without a primary.
  loaded = load_live_config_text("name: g\ndescription: d\ntopology: {mode: global, home: eu-west-1}\nregions:\n"
                                 "  - {name: us-east-1, replicas: [\"host=127.0.0.1 port=15433 dbname=app\"]}\n"
                                 "  - {name: eu-west-1, replicas: []}\n" + kRest, "g.yaml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(first_error(loaded).find("g.yaml:6: regions[1].primary: required key missing"), std::string::npos) << first_error(loaded);

  // Per region (the default), every region needs its primary.
  loaded = load_live_config_text("name: g\ndescription: d\nregions:\n  - {name: us-east-1, replicas: []}\n" + kRest, "g.yaml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(first_error(loaded).find("g.yaml:4: regions[0].primary: required key missing"), std::string::npos) << first_error(loaded);

  // The simulated topology's keys are not a live config's.
  loaded = load_live_config_text("name: g\ndescription: d\ntopology:\n  mode: per-region\n  latency: {intra_region: 1ms}\n" + regions + kRest, "g.yaml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(first_error(loaded).find("g.yaml:5: topology.latency: unknown key in a live config"), std::string::npos)
      << first_error(loaded);
  loaded = load_live_config_text("name: g\ndescription: d\ntopology: global\n" + regions + kRest, "g.yaml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(first_error(loaded).find("g.yaml:3: topology: expected a mapping {mode, home}"), std::string::npos) << first_error(loaded);

  // mode and home are the loader's to judge, as in a scenario.
  loaded = load_live_config_text("name: g\ndescription: d\ntopology: {mode: everywhere}\n" + regions + kRest, "g.yaml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(first_error(loaded).find("g.yaml:3: topology.mode"), std::string::npos) << first_error(loaded);
  loaded = load_live_config_text("name: g\ndescription: d\ntopology: {mode: global, home: mars}\n" + regions + kRest, "g.yaml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(first_error(loaded).find("topology.home"), std::string::npos) << first_error(loaded);
}

// Three regions, the home the second; each has replicas of the home's primary.
Scenario global_scenario() {
  Scenario scenario;
  scenario.topology.mode = TopologyMode::global;
  scenario.topology.home = "eu-west-1";
  scenario.topology.regions = {RegionSpec{.name = "us-east-1", .replicas = 1}, RegionSpec{.name = "eu-west-1", .replicas = 1},
                               RegionSpec{.name = "ap-south-1", .replicas = 2}};
  scenario.engine.instances = 1;
  scenario.workload.all_regions = true;
  return scenario;
}

const std::vector<RegionEndpoints> kGlobal{
    {"us-east-1", "", {"host=127.0.0.1 port=15441 dbname=app"}},
    {"eu-west-1", "host=127.0.0.1 port=15440 dbname=app", {"host=127.0.0.1 port=15442 dbname=app"}},
    {"ap-south-1", "", {"host=127.0.0.1 port=15443 dbname=app", "host=127.0.0.1 port=15444 dbname=app"}}};

TEST(LiveTopologyTest, OneDatabaseWithEveryRegionsReplicasInTopologyOrder) {
  const std::vector<LiveDatabase> databases = live_databases(global_scenario(), kGlobal);
  ASSERT_EQ(databases.size(), 1U);
  EXPECT_EQ(databases[0].endpoints.name, "eu-west-1");
  EXPECT_EQ(databases[0].endpoints.primary, kGlobal[1].primary);
  EXPECT_EQ(databases[0].endpoints.replicas,
            (std::vector<std::string>{kGlobal[0].replicas[0], kGlobal[1].replicas[0], kGlobal[2].replicas[0], kGlobal[2].replicas[1]}));
  EXPECT_EQ(databases[0].replica_nodes, (std::vector<std::string>{"db:us-east-1/replica-1", "db:eu-west-1/replica-1",
                                                                  "db:ap-south-1/replica-1", "db:ap-south-1/replica-2"}));
  EXPECT_EQ(database_endpoints(global_scenario(), kGlobal).size(), 1U);

  // Each application writes to the home primary and reads its own region's replicas.
  const RegionEndpoints app = application_endpoints(global_scenario(), kGlobal, "ap-south-1");
  EXPECT_EQ(app.name, "ap-south-1");
  EXPECT_EQ(app.primary, kGlobal[1].primary);
  EXPECT_EQ(app.replicas, kGlobal[2].replicas);

  // A replication_lag on the home delays every replica; on another region its own (sim/faults.cc).
  EXPECT_EQ(replicas_delayed_by(global_scenario(), kGlobal, "eu-west-1").size(), 4U);
  EXPECT_EQ(replicas_delayed_by(global_scenario(), kGlobal, "ap-south-1"), kGlobal[2].replicas);
  EXPECT_TRUE(replicas_delayed_by(global_scenario(), kGlobal, "mars").empty());
}

TEST(LiveTopologyTest, PerRegionDatabasesAreTheRegions) {
  Scenario scenario = global_scenario();
  scenario.topology.mode = TopologyMode::per_region;
  std::vector<RegionEndpoints> regions = kGlobal;
  regions[0].primary = "host=127.0.0.1 port=15450 dbname=app";
  regions[2].primary = "host=127.0.0.1 port=15451 dbname=app";
  const std::vector<LiveDatabase> databases = live_databases(scenario, regions);
  ASSERT_EQ(databases.size(), 3U);
  for (std::size_t i = 0; i < regions.size(); ++i) {
    EXPECT_EQ(databases[i].endpoints.name, regions[i].name);
    EXPECT_EQ(databases[i].endpoints.primary, regions[i].primary);
    EXPECT_EQ(databases[i].endpoints.replicas, regions[i].replicas);
  }
  EXPECT_EQ(databases[2].replica_nodes, (std::vector<std::string>{"db:ap-south-1/replica-1", "db:ap-south-1/replica-2"}));
  EXPECT_EQ(application_endpoints(scenario, regions, "ap-south-1").primary, regions[2].primary);
  EXPECT_EQ(replicas_delayed_by(scenario, regions, "eu-west-1"), regions[1].replicas);
}

// The app-database lock's row is in the lock region's primary; in a global topology the home's,
// wherever lock.region places the lock (as sim/world.cc build_lock_service does).
TEST(LiveTopologyTest, AppDatabaseLockIsInTheHomePrimary) {
  Scenario scenario = global_scenario();
  scenario.lock.backend = LockBackend::app_database;
  EXPECT_EQ(lock_store_endpoints(scenario, kGlobal, {}), std::vector<std::string>{kGlobal[1].primary});
  scenario.lock.region = "ap-south-1";
  EXPECT_EQ(lock_store_endpoints(scenario, kGlobal, {}), std::vector<std::string>{kGlobal[1].primary});
  // The engine is handed the databases only: the home is among them.
  EXPECT_EQ(lock_store_endpoints(scenario, database_endpoints(scenario, kGlobal), {}), std::vector<std::string>{kGlobal[1].primary});
}

FaultSpec partition(std::vector<std::string> targets, std::vector<std::string> from) {
  FaultSpec fault;
  fault.kind = FaultKind::partition;
  fault.line = 3;
  fault.targets = std::move(targets);
  fault.from = std::move(from);
  fault.for_us = 5 * kSec;
  return fault;
}

// Every region's replicas stream from the home primary, and every application writes to it: a
// region partitioned from the home loses both (its replication redirected through a proxy for the
// run); a region's application reaches the home primary through its own proxy.
TEST(LiveTopologyTest, GlobalLinksLeadToTheHomePrimary) {
  Scenario scenario = global_scenario();
  const std::vector<std::string> lock{"127.0.0.1:16379"};
  scenario.faults = {partition({"ap-south-1"}, {"eu-west-1"})};
  EXPECT_EQ(network_fault_refusal(scenario.faults[0], scenario, kGlobal, lock), "");
  EXPECT_NE(network_fault_refusal(partition({"db:ap-south-1"}, {"eu-west-1"}), scenario, kGlobal, lock).find("db:ap-south-1"),
            std::string::npos)
      << "no such node: ap-south-1 has no primary";
  Result<std::unique_ptr<LiveNetwork>> started = LiveNetwork::start(scenario, kGlobal, lock);
  ASSERT_TRUE(started.is_ok()) << started.status().to_string();
  LiveNetwork& network = *started.value();
  EXPECT_EQ(network.replicas_to_redirect(scenario), (std::vector<std::string>{"db:ap-south-1/replica-1", "db:ap-south-1/replica-2"}));
  const RegionEndpoints app = application_endpoints(scenario, network.regions_for("app:ap-south-1"), "ap-south-1");
  EXPECT_NE(app.primary, kGlobal[1].primary) << "the application writes through its proxy";
  EXPECT_EQ(conninfo_endpoint(app.primary).value().first, "127.0.0.1");
  EXPECT_NE(app.replicas[0], kGlobal[2].replicas[0]);
  const std::vector<RegionEndpoints> engine = database_endpoints(scenario, network.regions_for("engine-1"));
  ASSERT_EQ(engine.size(), 1U);
  EXPECT_EQ(engine[0].replicas.size(), 4U);
  EXPECT_NE(engine[0].primary, kGlobal[1].primary);
}

}  // namespace
}  // namespace rehearse::live
