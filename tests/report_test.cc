// The postmortem writer of reports/report.h: every file of reports.md for a violating run
// (gc-pause-no-fencing) and a clean one (gc-pause-fenced), the report's sections and what they
// must name, the trace-event JSON's shape, self-contained HTML, the size cap of the figures on
// a synthetic 20,000-write history, the scenario.yaml round trip and the action items.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reports/report.h"
#include "reports/run_json.h"
#include "scenarios/scenario_yaml.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

using reports::ReportInput;
using testing::builtin;
using testing::read_whole_file;

struct RecordedRun {
  Scenario scenario;
  RunResult result;
};

const RecordedRun& violating_run() {
  static const RecordedRun run = [] {
    RecordedRun made{builtin("gc-pause-no-fencing"), {}};
    made.result = sim::simulate(made.scenario, 1);
    return made;
  }();
  return run;
}

const RecordedRun& clean_run() {
  static const RecordedRun run = [] {
    RecordedRun made{builtin("gc-pause-fenced"), {}};
    made.result = sim::simulate(made.scenario, 1);
    return made;
  }();
  return run;
}

// Writes the report of `run` into a fresh directory under the test temporary directory.
std::string write(const RecordedRun& run, const std::string& name, const std::string& argument) {
  const std::string directory = testing::temp_dir() + "reports/" + name;
  std::filesystem::remove_all(directory);
  const ReportInput input{run.scenario, run.result.seed, run.result,
                          reports::default_reproduce_command(argument, run.result.seed), "test-build", {},
                          scenario_yaml(run.scenario, run.result.seed, run.result.history)};
  const Status written = reports::write_report(input, directory);
  EXPECT_TRUE(written.is_ok()) << written.to_string();
  return directory + "/";
}

const std::string& violating_report() {
  static const std::string directory = write(violating_run(), "gc-pause-no-fencing", "gc-pause-no-fencing");
  return directory;
}

const std::string& clean_report() {
  static const std::string directory = write(clean_run(), "gc-pause-fenced", "gc-pause-fenced");
  return directory;
}

void expect_every_file(const std::string& directory) {
  for (const char* name : reports::kReportFiles) {
    const std::string path = directory + name;
    EXPECT_TRUE(std::filesystem::exists(path)) << path;
    EXPECT_GT(std::filesystem::exists(path) ? std::filesystem::file_size(path) : 0u, 0u) << path;
  }
}

// Every trace event has ph, ts, pid and tid; B/E pairs and X spans nest per thread.
void expect_trace_well_formed(const std::string& text) {
  const nlohmann::json trace = nlohmann::json::parse(text);  // throws (fails the test) when invalid
  ASSERT_TRUE(trace.contains("traceEvents"));
  EXPECT_EQ(trace["displayTimeUnit"], "ms");
  std::map<std::pair<int, int>, std::vector<std::int64_t>> open_ends;  // per thread: ends of open spans
  std::map<std::pair<int, int>, std::vector<std::string>> open_begins;
  std::vector<nlohmann::json> spans;
  for (const auto& event : trace["traceEvents"]) {
    ASSERT_TRUE(event.contains("ph") && event.contains("ts") && event.contains("pid") && event.contains("tid")) << event;
    const std::string ph = event["ph"];
    const std::pair<int, int> thread{event["pid"].get<int>(), event["tid"].get<int>()};
    if (ph == "B") open_begins[thread].push_back(event.value("name", ""));
    if (ph == "E") {
      ASSERT_FALSE(open_begins[thread].empty()) << "E without B: " << event;
      open_begins[thread].pop_back();
    }
    if (ph == "X") spans.push_back(event);
  }
  for (const auto& [thread, names] : open_begins) EXPECT_TRUE(names.empty()) << "unclosed B on a thread";
  std::stable_sort(spans.begin(), spans.end(), [](const nlohmann::json& left, const nlohmann::json& right) {
    return left["ts"].get<std::int64_t>() < right["ts"].get<std::int64_t>();
  });
  for (const auto& span : spans) {
    const std::pair<int, int> thread{span["pid"].get<int>(), span["tid"].get<int>()};
    const std::int64_t start = span["ts"];
    const std::int64_t end = start + span["dur"].get<std::int64_t>();
    auto& ends = open_ends[thread];
    while (!ends.empty() && ends.back() <= start) ends.pop_back();
    if (!ends.empty()) {
      EXPECT_LE(end, ends.back()) << "span does not nest: " << span;
    }
    ends.push_back(end);
  }
}

// No http:// or https:// except the SVG namespace declarations.
void expect_no_external_references(const std::string& html) {
  for (const char* scheme : {"http://", "https://"}) {
    for (auto at = html.find(scheme); at != std::string::npos; at = html.find(scheme, at + 1)) {
      const std::string before = html.substr(at >= 14 ? at - 14 : 0, at >= 14 ? 14 : at);
      EXPECT_NE(before.find("xmlns"), std::string::npos) << "external reference: " << html.substr(at, 60);
    }
  }
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
}

void expect_svg(const std::string& text, const std::string& name) {
  EXPECT_EQ(text.rfind("<?xml", 0), 0u) << name << " has no XML prologue";
  EXPECT_NE(text.find("<svg"), std::string::npos) << name;
}

TEST(ReportTest, ViolatingRunWritesEveryFile) {
  ASSERT_TRUE(violating_run().result.violated());
  expect_every_file(violating_report());
}

TEST(ReportTest, ViolatingReportNamesInvariantTokensWritersAndReproduceCommand) {
  const RunResult& result = violating_run().result;
  const std::string markdown = read_whole_file(violating_report() + "report.md");
  EXPECT_NE(markdown.find("mutual-exclusion"), std::string::npos);
  EXPECT_NE(markdown.find("**FAIL**"), std::string::npos);
  EXPECT_NE(markdown.find("rehearse run gc-pause-no-fencing --seed 1"), std::string::npos);
  const Violation& violation = result.violations.front();
  ASSERT_EQ(violation.events.size(), 2u);
  for (const std::uint64_t id : violation.events) {
    const Event& event = result.history.events()[id];
    EXPECT_NE(markdown.find(fmt::format("token {}", event.token)), std::string::npos) << event.token;
    EXPECT_NE(markdown.find(event.actor), std::string::npos) << event.actor;
  }
  EXPECT_NE(markdown.find("acquired the lock with token"), std::string::npos);
  EXPECT_NE(markdown.find("was paused from"), std::string::npos);
}

TEST(ReportTest, SectionsFollowTheSpecOrder) {
  const std::string markdown = read_whole_file(violating_report() + "report.md");
  std::size_t previous = 0;
  for (const char* section : {"## Header", "## Summary", "## Impact", "## Trigger and root cause", "## Detection",
                              "## Resolution", "## Contributing factors", "## Action items", "## Timeline", "## Figures"}) {
    const std::size_t at = markdown.find(std::string(section) + "\n");
    ASSERT_NE(at, std::string::npos) << section;
    EXPECT_GT(at, previous) << section;
    previous = at;
  }
  EXPECT_NE(markdown.find("`no-fencing`"), std::string::npos);  // contributing factor from the lint
  EXPECT_NE(markdown.find("![Spacetime diagram](spacetime.svg)"), std::string::npos);
}

TEST(ReportTest, TraceJsonIsWellFormed) {
  expect_trace_well_formed(read_whole_file(violating_report() + "trace.json"));
  expect_trace_well_formed(read_whole_file(clean_report() + "trace.json"));
  const nlohmann::json trace = nlohmann::json::parse(read_whole_file(violating_report() + "trace.json"));
  std::map<std::string, int> phases;
  for (const auto& event : trace["traceEvents"]) phases[event["ph"]] += 1;
  EXPECT_GT(phases["M"], 0);
  EXPECT_GT(phases["X"], 0);
  EXPECT_GT(phases["i"], 0);
  EXPECT_GT(phases["C"], 0);  // from the samples, or backfill progress from the writes
}

TEST(ReportTest, FiguresAreSvgDocuments) {
  for (const std::string& directory : {violating_report(), clean_report()}) {
    for (const char* name : {"spacetime.svg", "violation.svg", "chart.svg"}) {
      expect_svg(read_whole_file(directory + name), directory + name);
    }
  }
  const std::string violation = read_whole_file(violating_report() + "violation.svg");
  EXPECT_NE(violation.find("applied after"), std::string::npos);
}

TEST(ReportTest, HtmlIsSelfContained) {
  for (const std::string& directory : {violating_report(), clean_report()}) {
    const std::string html = read_whole_file(directory + "report.html");
    expect_no_external_references(html);
    EXPECT_NE(html.find("<svg"), std::string::npos);
    EXPECT_NE(html.find("Trigger and root cause"), std::string::npos);
  }
}

TEST(ReportTest, ResultAndHistoryMatchTheCliJson) {
  const RunResult& result = violating_run().result;
  EXPECT_EQ(nlohmann::json::parse(read_whole_file(violating_report() + "result.json")), reports::run_object(result));
  std::istringstream lines(read_whole_file(violating_report() + "history.jsonl"));
  std::string line;
  std::size_t count = 0;
  while (std::getline(lines, line)) {
    ASSERT_LT(count, result.history.events().size());
    EXPECT_EQ(nlohmann::json::parse(line), reports::event_object(result.history.events()[count])) << line;
    ++count;
  }
  EXPECT_EQ(count, result.history.events().size());
}

TEST(ReportTest, CleanRunReportsPass) {
  ASSERT_FALSE(clean_run().result.violated());
  expect_every_file(clean_report());
  const std::string markdown = read_whole_file(clean_report() + "report.md");
  EXPECT_NE(markdown.find("**PASS**"), std::string::npos);
  EXPECT_NE(markdown.find("No checker fired"), std::string::npos);
  EXPECT_NE(markdown.find("rehearse run gc-pause-fenced --seed 1"), std::string::npos);
  EXPECT_NE(read_whole_file(clean_report() + "violation.svg").find("No violation"), std::string::npos);
}

TEST(ReportTest, ScenarioYamlLoadsBackToTheSameScenario) {
  const RecordedRun& run = violating_run();
  const std::string yaml = read_whole_file(violating_report() + "scenario.yaml");
  Scenario loaded = testing::from_text(yaml);
  loaded.source_path = run.scenario.source_path;
  EXPECT_EQ(loaded.name, run.scenario.name);
  EXPECT_EQ(loaded.seed, 1u);
  EXPECT_EQ(loaded.faults.size(), run.scenario.faults.size());
  const History empty;
  EXPECT_EQ(scenario_yaml(loaded, 1, empty), scenario_yaml(run.scenario, 1, empty));
}

// Every section and every fault kind, global topology, random faults: emitted, loaded back and
// emitted again, the text is the same.
TEST(ReportTest, ScenarioYamlRoundTripsEveryField) {
  const Scenario scenario = testing::from_text(R"yaml(name: every-field
description: Every key of the scenario format.
seed: 9
duration: 20m
topology:
  mode: global
  home: eu-west-1
  regions:
    - {name: us-east-1, replicas: 1}
    - {name: eu-west-1, replicas: 2}
  latency: {intra_region: 1ms..3ms, inter_region: 50ms..90ms}
  replication_lag: 10ms..200ms
  clocks: {max_skew: 20ms, max_drift_ppm: 50}
lock: {backend: redlock, nodes: 3, region: eu-west-1, ttl: 8s, renew_every: 2s, fencing: client,
       drift_factor: 0.02, persistence: false, max_ops_per_s: 500, delayed_restart: true}
engine:
  instances: 3
  region: us-east-1
  start_jitter: 0s..3s
  batch_size: 250
  batch_pause: 20ms
  backfill_source: replica
  max_replication_lag: 1500ms
  lock_timeout: 300ms
  statement_timeout: 20s
  ddl_retries: 4
  acquire_timeout: 2m
  backoff: {base: 50ms, max: 5s, jitter: equal}
  rollout: all-at-once
  order: [eu-west-1, us-east-1]
  health_gate: {soak: 10s, max_error_rate: 0.02, max_replication_lag: 3s}
  validate: false
  on_failure: halt
table:
  name: accounts
  rows: 500
  columns:
    amount: {type: numeric, gen: "0..100", scale: 2, nullable: 0.1}
    email: {type: text, gen: email}
    status: {type: text, gen: "one_of(a,b)"}
migration:
  name: every_operation
  operations:
    - add_column: {column: cents, type: bigint, up: "round(amount * 100)"}
    - alter_column: {column: email, type: text, up: "lower(email)", down: "email"}
    - rename_column: {column: status, to: state}
    - add_not_null: {column: cents}
    - create_index: {columns: [email]}
    - drop_column: {column: amount}
workload: {regions: [us-east-1], writes_per_s: 12.5, reads_per_s: 40, update_ratio: 0.6, hot_rows: 0.05,
           deploy: {new_code_after: backfill}}
slo: {max_stall: 2s, max_error_rate: 0.005, max_replica_lag: 20s}
faults:
  - {at: 10s, pause: engine-1, for: 15s}
  - {at: 20s, crash: engine-2, restart_after: 10s}
  - {at: 30s, partition: [us-east-1], from: [lock-1, lock-2], oneway: true, for: 20s}
  - {at: 40s, delay: engine-1, extra: 8s, for: 10s}
  - {at: 50s, drop: lock-2, probability: 0.3, for: 30s}
  - {at: 60s, clock_jump: lock-3, by: -20s}
  - {at: 61s, clock_skew: engine-1, offset: +2s}
  - {at: 62s, clock_drift: engine-3, ppm: 50000, for: 1m}
  - {at: 70s, replication_lag: eu-west-1, extra: 30s, for: 2m}
  - {at: {phase: validate, region: eu-west-1, after: 2s}, long_transaction: db:eu-west-1, for: 90s}
  - {at: 90s, failover: lock}
random_faults: {rate: 3/20s, kinds: [pause, crash], targets: [engine-*, db:*], max_duration: 10s, quiet_after: 5m}
expect: {verdict: violation, invariants: [mutual-exclusion, liveness], within_seeds: 50}
)yaml");
  ASSERT_EQ(scenario.faults.size(), 11u);
  const History empty;
  const std::string yaml = scenario_yaml(scenario, 9, empty);
  Scenario loaded = testing::from_text(yaml);
  loaded.source_path = scenario.source_path;
  EXPECT_EQ(scenario_yaml(loaded, 9, empty), yaml);
  EXPECT_NE(yaml.find("rate: 3/20s"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("writes_per_s: 12.5"), std::string::npos) << yaml;
  History drawn;
  drawn.append(Event{.time_us = 12 * kSec, .node = "engine-3", .kind = EventKind::fault_start,
                     .detail = "pause engine-3 for 5s [engine-3]", .a = 0});
  const std::string with_drawn = scenario_yaml(scenario, 9, drawn);
  EXPECT_NE(with_drawn.find("# The faults random_faults drew"), std::string::npos) << with_drawn;
  EXPECT_NE(with_drawn.find("#   - at 12.000 s: pause engine-3 for 5s [engine-3]"), std::string::npos) << with_drawn;
}

TEST(ReportTest, ProposesStorageFencingThatFixesTheRun) {
  const RecordedRun& run = violating_run();
  const auto items = reports::propose_action_items(run.scenario, run.result);
  const auto fencing = std::find_if(items.begin(), items.end(), [](const auto& item) {
    return item.first.change.find("fencing: storage") != std::string::npos;
  });
  ASSERT_NE(fencing, items.end());
  EXPECT_EQ(fencing->second.lock.fencing, Fencing::storage);
  EXPECT_FALSE(sim::simulate(fencing->second, 1).violated());
}

TEST(ReportTest, VerifiedActionItemsAppearWithTheirTraceHash) {
  const RecordedRun& run = violating_run();
  ReportInput input{run.scenario, 1, run.result, "rehearse run gc-pause-no-fencing --seed 1", "test-build", {},
                    scenario_yaml(run.scenario, 1, run.result.history)};
  input.action_items.push_back({"set lock.fencing: storage", "no fencing", true, true, "0123456789abcdef"});
  const std::string directory = testing::temp_dir() + "reports/verified";
  ASSERT_TRUE(reports::write_report(input, directory).is_ok());
  const std::string markdown = read_whole_file(directory + "/report.md");
  EXPECT_NE(markdown.find("`0123456789abcdef`"), std::string::npos);
  EXPECT_NE(markdown.find("**passes**"), std::string::npos);
}

TEST(ReportTest, DateComesFromSourceDateEpoch) {
  const RecordedRun& run = violating_run();
  const ReportInput input{run.scenario, 1, run.result, "rehearse run x --seed 1", "b", {},
                          scenario_yaml(run.scenario, 1, run.result.history)};
  ::setenv("SOURCE_DATE_EPOCH", "86400", 1);
  const std::string first = testing::temp_dir() + "reports/date-1";
  const std::string second = testing::temp_dir() + "reports/date-2";
  ASSERT_TRUE(reports::write_report(input, first).is_ok());
  ASSERT_TRUE(reports::write_report(input, second).is_ok());
  ::unsetenv("SOURCE_DATE_EPOCH");
  const std::string markdown = read_whole_file(first + "/report.md");
  EXPECT_NE(markdown.find("1970-01-02"), std::string::npos);
  EXPECT_EQ(markdown, read_whole_file(second + "/report.md"));
  EXPECT_EQ(read_whole_file(first + "/report.html"), read_whole_file(second + "/report.html"));
}

TEST(ReportTest, UnwritableDirectoryIsUnavailable) {
  const RecordedRun& run = clean_run();
  const std::string file = testing::write_temp_file("report-not-a-directory", "x");
  const ReportInput input{run.scenario, 1, run.result, "rehearse run x --seed 1", "b", {},
                          scenario_yaml(run.scenario, 1, run.result.history)};
  const Status status = reports::write_report(input, file + "/inside");
  EXPECT_TRUE(status.is_unavailable()) << status.to_string();
}

TEST(ReportTest, DefaultReproduceCommandQuotesWhenNeeded) {
  EXPECT_EQ(reports::default_reproduce_command("gc-pause-no-fencing", 7), "rehearse run gc-pause-no-fencing --seed 7");
  EXPECT_EQ(reports::default_reproduce_command("my dir/s.yaml", 3), "rehearse run 'my dir/s.yaml' --seed 3");
}

// A history of 20,000 backfill writes by two engines around one lock handover, with samples.
RunResult big_result(const Scenario& scenario) {
  RunResult result;
  result.scenario = scenario.name;
  result.seed = 5;
  result.outcome = "completed";
  result.region_order = {"us-east-1"};
  result.region_states = {{"us-east-1", "contracted"}};
  History& history = result.history;
  history.append(Event{.time_us = 0, .node = "world", .kind = EventKind::run_start});
  history.append(Event{.time_us = 10, .node = "lock-1", .kind = EventKind::lock_grant, .outcome = Outcome::ok, .token = 1, .actor = "engine-1"});
  history.append(Event{.time_us = 20, .node = "engine-1", .kind = EventKind::lock_acquire, .outcome = Outcome::ok, .token = 1});
  for (int i = 0; i < 20000; ++i) {
    const bool second = i >= 10000;
    if (i == 10000) {
      history.append(Event{.time_us = 1000LL * (i + 1) + 1, .node = "engine-1", .kind = EventKind::lock_release, .outcome = Outcome::ok, .token = 1});
      history.append(Event{.time_us = 1000LL * (i + 1) + 2, .node = "lock-1", .kind = EventKind::lock_grant, .outcome = Outcome::ok, .token = 2, .actor = "engine-2"});
      history.append(Event{.time_us = 1000LL * (i + 1) + 3, .node = "engine-2", .kind = EventKind::lock_acquire, .outcome = Outcome::ok, .token = 2});
    }
    history.append(Event{.time_us = 1000LL * (i + 1) + 10, .node = "db:us-east-1", .kind = EventKind::write,
                         .outcome = Outcome::applied, .write = WriteKind::backfill, .token = second ? 2 : 1,
                         .actor = second ? "engine-2" : "engine-1", .region = "us-east-1",
                         .detail = fmt::format("backfill ids {}..{}", i * 10 + 1, i * 10 + 10), .a = i * 10 + 1, .b = i * 10 + 10});
  }
  history.append(Event{.time_us = 20001LL * 1000 + 50, .node = "engine-2", .kind = EventKind::lock_release, .outcome = Outcome::ok, .token = 2});
  history.append(Event{.time_us = 20001LL * 1000 + 60, .node = "world", .kind = EventKind::run_end});
  for (int second = 1; second <= 20; ++second) {
    result.samples.push_back(MetricSample{second * kSec, "us-east-1", second * 10 * kMs, second * kMs, 100, 0, second * 10000});
  }
  result.stats.events = history.events().size();
  result.trace_hash = history.trace_hash_hex();
  return result;
}

TEST(ReportTest, BigHistoryIsSummarisedUnderTwoMegabytes) {
  const Scenario scenario = builtin("gc-pause-fenced");
  const RunResult result = big_result(scenario);
  const std::string directory = testing::temp_dir() + "reports/big";
  const ReportInput input{scenario, 5, result, "rehearse run gc-pause-fenced --seed 5", "b", {},
                          scenario_yaml(scenario, 5, result.history)};
  ASSERT_TRUE(reports::write_report(input, directory).is_ok());
  for (const char* name : {"spacetime.svg", "violation.svg", "chart.svg"}) {
    const std::string path = directory + "/" + name;
    EXPECT_LT(std::filesystem::file_size(path), 2u * 1024 * 1024) << path;
    expect_svg(read_whole_file(path), path);
  }
  const std::string markdown = read_whole_file(directory + "/report.md");
  EXPECT_NE(markdown.find("are summarised"), std::string::npos);
  EXPECT_NE(read_whole_file(directory + "/chart.svg").find("<polyline"), std::string::npos);
  expect_trace_well_formed(read_whole_file(directory + "/trace.json"));
}

// The width in points Graphviz gave an SVG (<svg width="NNNpt" ...>), or -1.
double svg_width_pt(const std::string& svg) {
  const std::size_t at = svg.find("<svg width=\"");
  if (at == std::string::npos) return -1;
  return std::stod(svg.substr(at + 12));
}

TEST(ReportTest, FiguresAreAsWideAsTheirLanesNotAsLongAsTheRun) {
  // Time runs down the page: a figure is as wide as its lanes (a few hundred points), however
  // long the run; idle time shows as a break on the time column; 24 engines fold into a few
  // lanes. Laid out left to right, gc-pause-no-fencing's space-time diagram was 12,667 pt wide
  // and the thundering herd's 27 lanes 2,328 pt; the page (1100 px) showed neither.
  constexpr double kWidestPt = 1000;  // scaled into a 1100 px page at 0.83 or more
  for (const char* name : {"gc-pause-no-fencing", "three-regions-clean", "thundering-herd-no-jitter", "all-at-once-bad-up"}) {
    SCOPED_TRACE(name);
    const RecordedRun run{builtin(name), sim::simulate(builtin(name), 1)};
    const std::string directory = write(run, std::string("fit-") + name, name);
    const std::string spacetime = read_whole_file(directory + "spacetime.svg");
    const std::string violation = read_whole_file(directory + "violation.svg");
    EXPECT_GT(svg_width_pt(spacetime), 0);
    EXPECT_LE(svg_width_pt(spacetime), kWidestPt);
    EXPECT_GT(svg_width_pt(violation), 0);
    EXPECT_LE(svg_width_pt(violation), kWidestPt);
    EXPECT_NE(spacetime.find("time top to bottom"), std::string::npos);
  }
  // The ~10.5 s the holder sat paused is a visible break, not 10 s of empty page.
  const std::string spacetime = read_whole_file(violating_report() + "spacetime.svg");
  const std::size_t later = spacetime.find(" s later");
  ASSERT_NE(later, std::string::npos);
  const std::size_t number = spacetime.find_last_of('>', later) + 1;
  const double gap_s = std::stod(spacetime.substr(number, later - number));
  EXPECT_GT(gap_s, 10.0);
  EXPECT_LT(gap_s, 11.0);
  // The herd's 23 engines that never migrated anything share one lane, summarised per burst.
  const std::string herd = read_whole_file(testing::temp_dir() + "reports/fit-thundering-herd-no-jitter/spacetime.svg");
  EXPECT_NE(herd.find("23 quiet nodes"), std::string::npos);
  EXPECT_NE(herd.find("46 events on 23 nodes"), std::string::npos);
  const std::string markdown = read_whole_file(testing::temp_dir() + "reports/fit-thundering-herd-no-jitter/report.md");
  EXPECT_NE(markdown.find("quiet nodes (no phase, write"), std::string::npos) << "the caption must say lanes were folded";
}

TEST(ReportTest, ChartSaysNoSamplesWhenThereAreNone) {
  RecordedRun run = violating_run();
  run.result.samples.clear();
  const std::string directory = write(run, "no-samples", "gc-pause-no-fencing");
  EXPECT_NE(read_whole_file(directory + "chart.svg").find("no samples"), std::string::npos);
  expect_trace_well_formed(read_whole_file(directory + "trace.json"));
}

TEST(ReportTest, ChartDrawsTheSamplesOfARun) {
  const RecordedRun& run = violating_run();
  if (run.result.samples.empty()) GTEST_SKIP() << "the world records no samples in this build";
  EXPECT_NE(read_whole_file(violating_report() + "chart.svg").find("<polyline"), std::string::npos);
}

}  // namespace
}  // namespace rehearse
