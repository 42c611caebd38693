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

TEST_F(HostTest, FractionalCoresShareAsTheirShare) {
  CpuHost host(kernel, 2, 1.5);  // the database's writes side by side get 1.5 of the 2 processors
  submit(host, 60);
  kernel.run_until(1000);
  submit(host, 300);
  submit(host, 300);  // each at 0.75 speed
  kernel.run_until(2000);
  EXPECT_EQ(done, (std::vector<TimeUs>{60, 1400, 1400}));
}

TEST_F(HostTest, TheBackgroundTakesItsShareOnlyWhenTheHostIsFull) {
  CpuHost host(kernel, 2, 0, 0.5);
  submit(host, 100);  // demand 1.5 of 2: full speed
  kernel.run_until(1000);
  EXPECT_EQ(done, (std::vector<TimeUs>{100}));
  submit(host, 100);
  submit(host, 100);  // demand 2.5: each at 2 / 2.5 = 0.8 speed
  kernel.run_until(2000);
  EXPECT_EQ(done, (std::vector<TimeUs>{100, 1125, 1125}));
}

TEST_F(HostTest, TheTighterOfTheTwoBoundsHolds) {
  CpuHost host(kernel, 2, 1.5, 0.5);
  for (int i = 0; i < 3; ++i) submit(host, 100);  // processors 2 / 3.5, writes 1.5 / 3: 0.5 speed
  kernel.run_until(1000);
  EXPECT_EQ(done, (std::vector<TimeUs>{200, 200, 200}));
  CpuHost busy(kernel, 2, 1.9, 1.5);
  submit(busy, 100);
  submit(busy, 100);  // processors 2 / 3.5 under writes 1.9 / 2
  kernel.run_until(2000);
  EXPECT_EQ(done, (std::vector<TimeUs>{200, 200, 200, 1175, 1175}));
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
