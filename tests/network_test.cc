// Tests of the simulated network (sim/network.h): latency per link class, symmetric and one-way
// partitions, in-flight cuts, extra delay, drops, crashed and paused receivers, and call()
// with its reply, timeout, ambiguous outcome and delivery to a paused caller.
#include "sim/network.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "sim/kernel.h"

namespace rehearse::sim {
namespace {

using Log = std::vector<std::string>;

// "10ms" for whole milliseconds, else "10500us": exact, yet readable in failure output.
std::string stamp(TimeUs t) {
  return t % kMs == 0 ? std::to_string(t / kMs) + "ms" : std::to_string(t) + "us";
}

class NetworkTest : public ::testing::Test {
 protected:
  static constexpr DurationRange kIntra{1 * kMs, 2 * kMs};
  static constexpr DurationRange kInter{40 * kMs, 120 * kMs};

  // Unwinds fibers blocked in call() while the network they reference still exists.
  ~NetworkTest() override { kernel.shutdown(); }

  Log log;  // declared before the kernel: fibers may write it while being unwound
  Kernel kernel{11};
  Node& a = kernel.add_node("a", "eu");
  Node& b = kernel.add_node("b", "eu");
  Node& c = kernel.add_node("c", "eu");
  Node& far = kernel.add_node("far", "us");
  Network net{kernel, 11, kIntra, kInter};

  void note(const std::string& what) { log.push_back(what + "@" + stamp(kernel.now())); }

  // Sends from -> to now; the delivery logs "tag@arrival".
  void send(Node& from, Node& to, const std::string& tag) {
    net.send(from, to, [this, tag] { note(tag); });
  }

  // The same, sent from the kernel's context at true time `when`.
  void send_at(TimeUs when, Node& from, Node& to, const std::string& tag) {
    kernel.at(when, [this, src = &from, dst = &to, tag] { send(*src, *dst, tag); });
  }

  // Sends `count` messages from -> to now, runs 1s, and returns the latency of each delivered one.
  std::vector<TimeUs> latencies(Node& from, Node& to, int count) {
    std::vector<TimeUs> out;
    const TimeUs sent = kernel.now();
    for (int i = 0; i < count; ++i) net.send(from, to, [this, &out, sent] { out.push_back(kernel.now() - sent); });
    kernel.run_until(sent + kSec);
    return out;
  }

  // Checks that all `count` messages arrived and each latency lies in [low, high].
  void expect_latencies(Node& from, Node& to, TimeUs low, TimeUs high, int count = 100) {
    const std::vector<TimeUs> seen = latencies(from, to, count);
    ASSERT_EQ(seen.size(), static_cast<std::size_t>(count)) << from.name() << " -> " << to.name();
    const auto [min, max] = std::minmax_element(seen.begin(), seen.end());
    EXPECT_GE(*min, low) << from.name() << " -> " << to.name();
    EXPECT_LE(*max, high) << from.name() << " -> " << to.name();
  }
};

// ---- Latency ----

TEST_F(NetworkTest, LatencyFallsWithinTheLinkClassRange) {
  // Proves per-message latency: 200 intra-region deliveries land in [1ms, 2ms], 200 inter-region ones in [40ms, 120ms], both spread out.
  const std::vector<TimeUs> intra = latencies(a, b, 200);
  const std::vector<TimeUs> inter = latencies(a, far, 200);
  ASSERT_EQ(intra.size(), 200u);
  ASSERT_EQ(inter.size(), 200u);
  const auto [intra_min, intra_max] = std::minmax_element(intra.begin(), intra.end());
  const auto [inter_min, inter_max] = std::minmax_element(inter.begin(), inter.end());
  EXPECT_GE(*intra_min, kIntra.low_us);
  EXPECT_LE(*intra_max, kIntra.high_us);
  EXPECT_GE(*inter_min, kInter.low_us);
  EXPECT_LE(*inter_max, kInter.high_us);
  // Drawn per message, not fixed per link: the spread covers most of each range.
  EXPECT_GT(*intra_max - *intra_min, (kIntra.high_us - kIntra.low_us) / 2);
  EXPECT_GT(*inter_max - *inter_min, (kInter.high_us - kInter.low_us) / 2);
  EXPECT_EQ(net.messages_sent(), 400u);
  EXPECT_EQ(net.messages_lost(), 0u);
}

// ---- Partitions ----

TEST_F(NetworkTest, SymmetricPartitionCutsBothWaysUntilHealed) {
  // Proves a symmetric partition {a}|{b} loses a->b and b->a (a->c still flows), and remove_partition restores both directions.
  const int partition = net.add_partition({&a}, {&b}, false);
  EXPECT_TRUE(net.cut(a, b));
  EXPECT_TRUE(net.cut(b, a));
  EXPECT_FALSE(net.cut(a, c));
  send(a, b, "ab");
  send(b, a, "ba");
  send(a, c, "ac");
  kernel.run_until(kSec);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].rfind("ac@", 0), 0u) << log[0];
  EXPECT_EQ(net.messages_lost(), 2u);

  net.remove_partition(partition);
  EXPECT_FALSE(net.cut(a, b));
  EXPECT_FALSE(net.cut(b, a));
  expect_latencies(a, b, kIntra.low_us, kIntra.high_us, 10);
  expect_latencies(b, a, kIntra.low_us, kIntra.high_us, 10);
}

TEST_F(NetworkTest, OneWayPartitionCutsOnlySideToOther) {
  // Proves a one-way partition {a}->{b} loses a->b while b->a is still delivered.
  net.add_partition({&a}, {&b}, true);
  EXPECT_TRUE(net.cut(a, b));
  EXPECT_FALSE(net.cut(b, a));
  EXPECT_TRUE(latencies(a, b, 20).empty());
  expect_latencies(b, a, kIntra.low_us, kIntra.high_us, 20);
  EXPECT_EQ(net.messages_lost(), 20u);
}

TEST_F(NetworkTest, PartitionCutsAtSendAndAtArrival) {
  // Proves a message in flight when a partition starts (sent 0, cut at 0.5ms) is lost at arrival, and one sent while cut stays lost after a heal mid-flight.
  send(a, b, "in-flight");
  int partition = 0;
  kernel.at(500, [&] { partition = net.add_partition({&a}, {&b}, false); });
  kernel.at(5 * kMs, [&] {
    send(a, b, "sent-while-cut");
    net.remove_partition(partition);  // healed before that message would arrive
  });
  send_at(10 * kMs, a, b, "after-heal");
  kernel.run_until(kSec);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].rfind("after-heal@", 0), 0u) << log[0];
  EXPECT_EQ(net.messages_lost(), 2u);
}

// ---- Per-node faults ----

TEST_F(NetworkTest, DelayAddsLatencyToAndFromTheNode) {
  // Proves add_delay(b, 50ms): a->b and b->a take [51ms, 52ms], a->c is unaffected, and after remove_delay a->b is back to [1ms, 2ms].
  const int delay = net.add_delay(b, 50 * kMs);
  expect_latencies(a, b, kIntra.low_us + 50 * kMs, kIntra.high_us + 50 * kMs);
  expect_latencies(b, a, kIntra.low_us + 50 * kMs, kIntra.high_us + 50 * kMs);
  expect_latencies(a, c, kIntra.low_us, kIntra.high_us);
  net.remove_delay(delay);
  expect_latencies(a, b, kIntra.low_us, kIntra.high_us);
}

TEST_F(NetworkTest, DropProbabilityOneLosesAllZeroLosesNone) {
  // Proves add_drop(b, 1.0) loses every message to and from b (a->c unaffected), and add_drop(b, 0.0) loses none.
  const int drop_all = net.add_drop(b, 1.0);
  EXPECT_TRUE(latencies(a, b, 100).empty());
  EXPECT_TRUE(latencies(b, a, 100).empty());
  EXPECT_EQ(latencies(a, c, 100).size(), 100u);
  EXPECT_EQ(net.messages_lost(), 200u);
  net.remove_drop(drop_all);
  net.add_drop(b, 0.0);
  EXPECT_EQ(latencies(a, b, 100).size(), 100u);
  EXPECT_EQ(latencies(b, a, 100).size(), 100u);
  EXPECT_EQ(net.messages_lost(), 200u);
}

// ---- Receiver state ----

TEST_F(NetworkTest, MessageToCrashedNodeIsLost) {
  // Proves messages to a down node are lost, as is one in flight across a crash and restart (0.5ms / 0.8ms), while one sent after restart arrives.
  kernel.crash(b);
  send(a, b, "to-down");
  kernel.run_until(10 * kMs);
  kernel.restart(b);
  send(a, b, "in-flight");
  kernel.at(kernel.now() + 500, [&] { kernel.crash(b); });
  kernel.at(kernel.now() + 800, [&] { kernel.restart(b); });
  send_at(kernel.now() + 5 * kMs, a, b, "after-restart");
  kernel.run_until(kSec);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].rfind("after-restart@", 0), 0u) << log[0];
  EXPECT_EQ(net.messages_lost(), 2u);
}

TEST_F(NetworkTest, MessageToPausedNodeIsDeliveredOnResume) {
  // Proves a message reaching paused b (at 1-2ms) is held, not run at 9ms, and runs exactly at the 10ms resume.
  kernel.pause(b);
  send(a, b, "m");
  kernel.at(9 * kMs, [&] { EXPECT_TRUE(log.empty()); });
  kernel.at(10 * kMs, [&] { kernel.resume(b); });
  kernel.run_until(kSec);
  EXPECT_EQ(log, (Log{"m@10ms"}));
  EXPECT_EQ(net.messages_lost(), 0u);
}

// ---- call() ----

TEST_F(NetworkTest, CallReturnsReplyAndRoundTripIncludesBusyTime) {
  // Proves call() returns the handler's value; the handler runs on b after one latency, and the reply arrives busy (30ms) plus one latency later.
  std::optional<int> result;
  TimeUs handled_at = -1;
  TimeUs returned_at = -1;
  kernel.spawn(a, "client", [&] {
    result = net.call<int>(a, b, kSec, [&] {
      handled_at = kernel.now();
      EXPECT_EQ(kernel.current(), nullptr);  // runs on delivery, in the kernel's context
      return Reply<int>{42, 30 * kMs};
    });
    returned_at = kernel.now();
  });
  kernel.run_until(10 * kSec);
  ASSERT_EQ(result, 42);
  EXPECT_GE(handled_at, kIntra.low_us);
  EXPECT_LE(handled_at, kIntra.high_us);
  EXPECT_GE(returned_at - handled_at, 30 * kMs + kIntra.low_us);
  EXPECT_LE(returned_at - handled_at, 30 * kMs + kIntra.high_us);
}

TEST_F(NetworkTest, CallTimesOutWhenServerIsPartitionedAway) {
  // Proves call() to a partitioned server returns nullopt at exactly its 500ms timeout and the handler never runs.
  net.add_partition({&a}, {&b}, false);
  std::optional<int> result = 0;
  bool handled = false;
  TimeUs returned_at = -1;
  kernel.spawn(a, "client", [&] {
    result = net.call<int>(a, b, 500 * kMs, [&] {
      handled = true;
      return Reply<int>{1};
    });
    returned_at = kernel.now();
  });
  kernel.run_until(10 * kSec);
  EXPECT_EQ(result, std::nullopt);
  EXPECT_EQ(returned_at, 500 * kMs);
  EXPECT_FALSE(handled);
}

TEST_F(NetworkTest, CallOutcomeIsAmbiguousWhenOnlyTheReplyIsCut) {
  // Proves the ambiguous outcome: with b->a cut one way, the request is applied at b (side effect seen) yet call() returns nullopt at its timeout.
  net.add_partition({&b}, {&a}, true);
  int applied = 0;
  std::optional<int> result = 0;
  TimeUs returned_at = -1;
  kernel.spawn(a, "client", [&] {
    result = net.call<int>(a, b, 500 * kMs, [&] {
      ++applied;
      return Reply<int>{1};
    });
    returned_at = kernel.now();
  });
  kernel.run_until(10 * kSec);
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(result, std::nullopt);
  EXPECT_EQ(returned_at, 500 * kMs);
  EXPECT_EQ(net.messages_lost(), 1u);  // the reply
}

TEST_F(NetworkTest, LateReplyAfterTimeoutIsIgnored) {
  // Proves a reply arriving after the timeout (busy 20ms vs timeout 5ms) neither changes the nullopt result nor wakes the caller's next sleep early.
  std::optional<int> result = 0;
  TimeUs returned_at = -1;
  kernel.spawn(a, "client", [&] {
    result = net.call<int>(a, b, 5 * kMs, [] { return Reply<int>{9, 20 * kMs}; });
    returned_at = kernel.now();
    kernel.sleep_until(100 * kMs);
    note("slept");
  });
  kernel.run_until(kSec);
  EXPECT_EQ(result, std::nullopt);
  EXPECT_EQ(returned_at, 5 * kMs);
  EXPECT_EQ(log, (Log{"slept@100ms"}));
}

TEST_F(NetworkTest, ServerCrashWhileBusySendsNoReply) {
  // Proves a server crashing during its 20ms busy time (crash at 10ms) never replies: the handler ran, call() returns nullopt at its 100ms timeout.
  int applied = 0;
  std::optional<int> result = 0;
  TimeUs returned_at = -1;
  kernel.spawn(a, "client", [&] {
    result = net.call<int>(a, b, 100 * kMs, [&] {
      ++applied;
      return Reply<int>{3, 20 * kMs};
    });
    returned_at = kernel.now();
  });
  kernel.at(10 * kMs, [&] { kernel.crash(b); });
  kernel.at(15 * kMs, [&] { kernel.restart(b); });  // back up, but a new incarnation
  kernel.run_until(kSec);
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(result, std::nullopt);
  EXPECT_EQ(returned_at, 100 * kMs);
}

TEST_F(NetworkTest, ReplyToPausedCallerIsDeliveredOnResume) {
  // Proves a reply reaching caller a while paused (a paused 5-50ms, reply due ~12-14ms) is delivered at the 50ms resume: call() returns 7 then, not before.
  std::optional<int> result;
  TimeUs returned_at = -1;
  kernel.spawn(a, "client", [&] {
    result = net.call<int>(a, b, kSec, [] { return Reply<int>{7, 10 * kMs}; });
    returned_at = kernel.now();
  });
  kernel.at(5 * kMs, [&] { kernel.pause(a); });
  kernel.at(49 * kMs, [&] {
    EXPECT_EQ(returned_at, -1);
    EXPECT_FALSE(result.has_value());
  });
  kernel.at(50 * kMs, [&] { kernel.resume(a); });
  kernel.run_until(10 * kSec);
  EXPECT_EQ(result, 7);
  EXPECT_EQ(returned_at, 50 * kMs);
}

}  // namespace
}  // namespace rehearse::sim
