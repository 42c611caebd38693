// Closed-form replica reads (sim/app.h, AppServer::compute_replica_reads_whole): in a world no
// fault can touch, a replica read is computed whole when it is due instead of event by event.
// Its answer must be the one the events would give.
//
// 1. The database's quote: the staleness a read arriving later will find, from the changes
//    pending now, is the replica's lag when that time comes.
// 2. A whole run: with every message's flight one fixed value (so the order of the network's
//    draws cannot matter), the closed form and the event-by-event run agree exactly: the trace
//    hash, every request's latency, the stall and staleness maxima, the request windows.
#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "core/plan.h"
#include "sim/database.h"
#include "sim/kernel.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

using testing::from_text;

TEST(ClosedFormReads, AQuoteFindsTheLagTheReplicaHasWhenTheReadArrives) {
  sim::Kernel kernel(3);
  sim::Node& node = kernel.add_node("db:eu", "eu");
  const TableSpec spec = testing::orders_with_amount(100);
  // Shipping 20..80 ms, so changes replay out of step with their commits.
  sim::SimDatabase database(kernel, node, "eu", sim::generate_table(spec, 7), 1, DurationRange{20 * kMs, 80 * kMs},
                            [](Event) {}, 7);
  CostProfile costs;
  costs.app_read_us = 170;
  database.set_costs(costs);
  database.add_replica_lag(1, 30 * kMs, 400 * kMs);  // a replication_lag fault: the two lags part
  int quotes = 0;
  int stale = 0;
  int parted = 0;
  for (int step = 0; step < 60; ++step) {
    sim::AppWrite write;
    write.row_id = 1 + step % 50;
    write.logical["amount"] = Value::integer(step);
    database.app_write(write, [](sim::AppWriteResult) {});
    kernel.run_until(kernel.now() + 7 * kMs);
    // Reads arriving 0 us .. 6 ms from now, quoted now; then the replica as each arrives (the
    // next write comes after the last).
    std::vector<std::tuple<TimeUs, TimeUs, TimeUs>> quoted;  // arrives, staleness, without faults
    for (const TimeUs ahead : {TimeUs{0}, TimeUs{1}, 2 * kMs, 6 * kMs}) {
      const auto quote = database.replica_read_at(1, kernel.now() + ahead, "orders");
      ASSERT_TRUE(quote.has_value());
      EXPECT_EQ(quote->duration_us, 170);
      EXPECT_TRUE(quote->result.status.is_ok());
      quoted.emplace_back(kernel.now() + ahead, quote->result.staleness_us, quote->result.staleness_without_faults_us);
    }
    for (const auto& [arrives, staleness, without_faults] : quoted) {
      kernel.run_until(arrives);
      const TimeUs lag = database.replica_lag(1);
      EXPECT_EQ(staleness, lag) << "a read arriving at " << arrives;
      EXPECT_EQ(without_faults, std::min(lag, database.replica_lag_without_faults(1))) << "a read arriving at " << arrives;
      ++quotes;
      if (lag > 0) ++stale;
      if (without_faults < staleness) ++parted;
    }
  }
  EXPECT_EQ(quotes, 240);
  EXPECT_GT(stale, 100) << "most reads find changes pending";
  EXPECT_GT(parted, 10) << "the fault's share of the lag is told apart";
  EXPECT_FALSE(database.replica_read_at(1, kernel.now(), "no_such_table").has_value()) << "the exact path answers that";
}

// A small world: two regions with two replicas each, traffic, an add column and a backfill.
std::string quiet_world(const std::string& latency) {
  return "name: closed-form-reads\n"
         "description: A world no fault touches.\n"
         "duration: 3m\n"
         "topology:\n"
         "  regions:\n"
         "    - {name: us-east-1, replicas: 2}\n"
         "    - {name: eu-west-1, replicas: 2}\n"
         "  latency: {intra_region: " + latency + ", inter_region: 40ms}\n"
         "  replication_lag: 20ms..300ms\n"
         "lock: {backend: redis, ttl: 5s, renew_every: 1s, fencing: storage}\n"
         "engine: {instances: 2, batch_size: 200, batch_pause: 20ms, start_jitter: 0s..1s, max_replication_lag: 50ms}\n"
         "table:\n"
         "  rows: 3000\n"
         "  columns:\n"
         "    amount: {type: numeric, gen: \"0..1000\", scale: 2}\n"
         "migration:\n"
         "  operations:\n"
         "    - add_column: {column: amount_cents, type: bigint, up: \"round(amount * 100)\"}\n"
         "workload: {writes_per_s: 40, reads_per_s: 300}\n"
         "slo: {max_stall: 1s, max_error_rate: 0.001, max_replica_lag: 200ms}\n";
}

struct WorldRun {
  RunResult result;
  Observations observations;
};

WorldRun run(const std::string& text, bool exact_reads, bool exact_replies = false) {
  const Scenario scenario = from_text(text);
  sim::WorldOptions options;
  options.keep_request_latencies = true;
  options.exact_reads = exact_reads;
  options.exact_replies = exact_replies;
  sim::World world(scenario, 5, compile_plan(scenario).value(), options);
  WorldRun out;
  out.result = world.run();
  out.observations = world.observations();
  return out;
}

std::vector<std::tuple<std::string, TimeUs, TimeUs, bool, bool>> latencies(const Observations& observations) {
  std::vector<std::tuple<std::string, TimeUs, TimeUs, bool, bool>> all;
  for (const RequestLatency& r : observations.request_latencies) all.emplace_back(r.region, r.sent_us, r.waited_us, r.failed, r.write);
  std::sort(all.begin(), all.end());
  return all;
}

// The two runs' request windows, region by region: the same requests and failures in each.
void expect_same_windows(const Observations& a, const Observations& b) {
  ASSERT_EQ(a.windows.size(), b.windows.size());
  for (const auto& [region, windows] : a.windows) {
    const auto& other = b.windows.at(region);
    ASSERT_EQ(windows.size(), other.size()) << region;
    for (std::size_t i = 0; i < windows.size(); ++i) {
      EXPECT_EQ(windows[i].requests, other[i].requests) << region << " window " << i;
      EXPECT_EQ(windows[i].failed, other[i].failed) << region << " window " << i;
    }
  }
}

TEST(ClosedFormReads, WithFixedFlightsAWholeRunAgreesWithTheEventByEventOne) {
  const WorldRun whole = run(quiet_world("1ms"), false);
  const WorldRun events = run(quiet_world("1ms"), true);
  EXPECT_EQ(whole.result.trace_hash, events.result.trace_hash);
  EXPECT_EQ(whole.result.violated(), events.result.violated());
  EXPECT_EQ(whole.result.stats.app_requests, events.result.stats.app_requests);
  EXPECT_GT(whole.result.stats.app_requests, 20'000);
  const auto closed = latencies(whole.observations);
  const auto exact = latencies(events.observations);
  ASSERT_EQ(closed.size(), exact.size());
  // The one difference: after a DDL the first reads of each session reload the catalog
  // (catalog_reload_us). The closed form counts those sessions when a read is due, so a read in
  // flight over the DDL does not pay it and one sent after it may.
  const double reload = from_text(quiet_world("1ms")).costs.catalog_reload_us;
  int differ = 0;
  for (std::size_t i = 0; i < closed.size(); ++i) {
    auto without_latency = [](auto request) {
      std::get<2>(request) = 0;
      return request;
    };
    ASSERT_EQ(without_latency(closed[i]), without_latency(exact[i])) << "request " << i;
    if (closed[i] == exact[i]) continue;
    ++differ;
    EXPECT_NEAR(static_cast<double>(std::get<2>(closed[i]) - std::get<2>(exact[i])), 0.0, reload + 1.0)
        << "request " << i << " sent at " << std::get<1>(exact[i]) << " in " << std::get<0>(exact[i]);
  }
  EXPECT_LE(differ, 8) << "of " << closed.size();
  EXPECT_EQ(whole.observations.max_stall_us, events.observations.max_stall_us);
  // A change committed while a read flies (1 ms) is the closed form's only blind spot.
  EXPECT_NEAR(static_cast<double>(whole.observations.max_staleness_us),
              static_cast<double>(events.observations.max_staleness_us), static_cast<double>(kMs));
  EXPECT_GT(whole.observations.max_staleness_us, 20 * kMs);
  expect_same_windows(whole.observations, events.observations);
}

// With drawn flights the two runs take different draws, but judge alike.
TEST(ClosedFormReads, WithDrawnFlightsTheVerdictIsTheEventByEventOnes) {
  const WorldRun whole = run(quiet_world("0.5ms..2ms"), false);
  const WorldRun events = run(quiet_world("0.5ms..2ms"), true);
  EXPECT_EQ(whole.result.violated(), events.result.violated());
  EXPECT_NEAR(static_cast<double>(whole.result.stats.app_requests), static_cast<double>(events.result.stats.app_requests),
              0.01 * static_cast<double>(events.result.stats.app_requests));
}

// Write replies computed whole (AppServer::compute_write_replies_whole) draw their flight and
// take their place in the order of events when the primary answers, as the network's event
// would: with drawn flights and with one fixed flight (ties with every other event of the
// same microsecond), the run is the event-by-event one, request for request and, within each
// application server (here, each region), in the same order; servers settle their whole
// replies each at its own next count, so the run-wide list interleaves the regions otherwise.
// Reads are exact in both, so the replies are the only difference.
TEST(ClosedFormReplies, AWholeRunIsTheEventByEventOneRequestForRequestInOrder) {
  for (const std::string latency : {"0.5ms..2ms", "1ms"}) {
    SCOPED_TRACE(latency);
    const WorldRun whole = run(quiet_world(latency), true, false);
    const WorldRun events = run(quiet_world(latency), true, true);
    EXPECT_EQ(whole.result.trace_hash, events.result.trace_hash);
    EXPECT_EQ(whole.result.violated(), events.result.violated());
    EXPECT_EQ(whole.result.stats.app_requests, events.result.stats.app_requests);
    EXPECT_GT(whole.result.stats.app_requests, 20'000);
    auto in_order = [](const Observations& observations) {
      std::vector<std::tuple<std::string, TimeUs, TimeUs, bool, bool>> all;
      for (const RequestLatency& r : observations.request_latencies) all.emplace_back(r.region, r.sent_us, r.waited_us, r.failed, r.write);
      std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
      return all;
    };
    const auto whole_requests = in_order(whole.observations);
    const auto event_requests = in_order(events.observations);
    ASSERT_EQ(whole_requests.size(), event_requests.size());
    int writes = 0;
    for (std::size_t i = 0; i < whole_requests.size(); ++i) {
      ASSERT_EQ(whole_requests[i], event_requests[i]) << "request " << i << " counted";
      if (std::get<4>(whole_requests[i])) ++writes;
    }
    EXPECT_GT(writes, 5'000);
    ASSERT_EQ(whole.observations.acknowledged.size(), events.observations.acknowledged.size());
    EXPECT_GT(whole.observations.acknowledged.size(), 1'000u);
    for (std::size_t i = 0; i < whole.observations.acknowledged.size(); ++i) {
      const AcknowledgedWrite& a = whole.observations.acknowledged[i];
      const AcknowledgedWrite& b = events.observations.acknowledged[i];
      ASSERT_EQ(std::tie(a.region, a.row_id, a.order, a.time_us, a.new_code, a.table),
                std::tie(b.region, b.row_id, b.order, b.time_us, b.new_code, b.table))
          << "acknowledged write " << i;
      EXPECT_TRUE(a.values == b.values) << "acknowledged write " << i;
    }
    EXPECT_EQ(whole.observations.max_stall_us, events.observations.max_stall_us);
    expect_same_windows(whole.observations, events.observations);
  }
}

}  // namespace
}  // namespace rehearse
