// core/topology.h: the lock's region, the one place its default is computed (the simulated
// world, the live runner, its network and its faults all ask lock_region()).
#include "core/topology.h"

#include <gtest/gtest.h>

namespace rehearse {
namespace {

Scenario two_regions() {
  Scenario scenario;
  scenario.topology.regions = {RegionSpec{.name = "us-east-1"}, RegionSpec{.name = "eu-west-1"}};
  return scenario;
}

TEST(Topology, LockRegionIsLockRegionElseTheFirstRegion) {
  Scenario scenario = two_regions();
  EXPECT_EQ(lock_region(scenario), "us-east-1");
  scenario.lock.region = "eu-west-1";
  EXPECT_EQ(lock_region(scenario), "eu-west-1");
  // Global mode: still lock.region / the first region, not the home.
  Scenario global = two_regions();
  global.topology.mode = TopologyMode::global;
  global.topology.home = "eu-west-1";
  EXPECT_EQ(lock_region(global), "us-east-1");
  EXPECT_EQ(writer_region(global, lock_region(global)), "eu-west-1");
}

TEST(Topology, WithoutRegionsTheLockIsInNoRegion) {
  // A Scenario built in code without regions (the loader always gives one): "" and no assertion.
  Scenario scenario;
  EXPECT_EQ(lock_region(scenario), "");
  scenario.lock.region = "us-east-1";
  EXPECT_EQ(lock_region(scenario), "us-east-1");
}

}  // namespace
}  // namespace rehearse
