// sim::CpuHost: statements as work on a host's shared cores (processor sharing), to the
// microsecond.
#include <gtest/gtest.h>

#include <vector>

#include "sim/cpu_host.h"
#include "sim/kernel.h"

namespace rehearse::sim {
namespace {

struct HostTest : ::testing::Test {
  Kernel kernel{1};
  std::vector<TimeUs> done;
  void submit(CpuHost& host, TimeUs work) {
    host.run(work, [this] { done.push_back(kernel.now()); });
  }
};

TEST_F(HostTest, AStatementAloneTakesItsCost) {
  CpuHost host(kernel, 1);
  submit(host, 100);
  kernel.run_until(1000);
  EXPECT_EQ(done, (std::vector<TimeUs>{100}));
}

TEST_F(HostTest, NoMoreStatementsThanCoresRunAtFullSpeed) {
  CpuHost host(kernel, 2);
  submit(host, 100);
  submit(host, 40);
  kernel.run_until(1000);
  EXPECT_EQ(done, (std::vector<TimeUs>{40, 100}));
}

TEST_F(HostTest, MoreStatementsThanCoresShareThem) {
  CpuHost host(kernel, 2);
  for (int i = 0; i < 3; ++i) submit(host, 90);  // each at 2/3 speed
  kernel.run_until(1000);
  EXPECT_EQ(done, (std::vector<TimeUs>{135, 135, 135}));
}

TEST_F(HostTest, AStatementArrivingSlowsTheOneRunning) {
  CpuHost host(kernel, 1);
  submit(host, 100);
  kernel.run_until(50);  // 50 done, 50 left
  submit(host, 20);      // both at half speed: the short one done at 90, the long one alone from there
  kernel.run_until(1000);
  EXPECT_EQ(done, (std::vector<TimeUs>{90, 120}));
}

TEST_F(HostTest, TheSameSubmissionsFinishAtTheSameTimes) {
  auto run = [](std::vector<TimeUs>& out) {
    Kernel kernel{7};
    CpuHost host(kernel, 2);
    for (TimeUs work : {13, 977, 45, 45, 301, 2, 88}) host.run(work, [&out, &kernel] { out.push_back(kernel.now()); });
    kernel.run_until(10'000);
  };
  std::vector<TimeUs> first, second;
  run(first);
  run(second);
  EXPECT_EQ(first, second);
  EXPECT_EQ(first.size(), 7U);
}

}  // namespace
}  // namespace rehearse::sim
