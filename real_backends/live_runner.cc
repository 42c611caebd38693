// The live runner: engines as threads, traffic per region, end snapshots and the checkers.
#include "real_backends/live_runner.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <ostream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/engine.h"
#include "core/invariants.h"
#include "real_backends/live_traffic.h"
#include "real_backends/redis_lock.h"

namespace rehearse::live {

namespace {

constexpr TimeUs kReplicaCatchUpUs = 15 * kSec;
constexpr TimeUs kPollUs = 100 * kMs;

void log_line(const LiveOptions& options, const std::string& line) {
  if (options.log != nullptr) *options.log << line << "\n" << std::flush;
}

std::vector<std::string> rollout_order(const Scenario& scenario) {
  if (!scenario.engine.order.empty()) return scenario.engine.order;
  std::vector<std::string> names;
  for (const auto& region : scenario.topology.regions) names.push_back(region.name);
  return names;
}

// One engine instance: its ports and the thread that runs it.
struct EngineInstance {
  int number = 0;
  std::atomic<bool> exited{false};
  EngineExit exit = EngineExit::gave_up;
  std::thread thread;
};

void run_engine(const LiveSetup& setup, const MigrationPlan& plan, const LiveOptions& options, LiveHistory& history,
                const StopSignal& stop, EngineInstance& instance) {
  const std::string name = fmt::format("engine-{}", instance.number);
  const Scenario& scenario = setup.scenario;
  RealClock clock(stop, options.stall ? &*options.stall : nullptr);
  RealRandom random(scenario.seed * 1000003ULL + static_cast<std::uint64_t>(instance.number));
  const TimeUs jitter = random.uniform(scenario.engine.start_jitter.low_us, scenario.engine.start_jitter.high_us);
  clock.sleep_for(jitter);
  RedisLockClient lock(parse_redis_endpoint(setup.lock_endpoints.front()).value(), "rehearse:lock:" + plan.name,
                       fmt::format("{}:{}", name, random.next_u64()), stop);
  std::map<std::string, std::unique_ptr<PostgresRegionDatabase>> databases;
  for (const auto& region : setup.regions) {
    databases[region.name] = std::make_unique<PostgresRegionDatabase>(region, name, plan, history, stop);
  }
  auto database = [&databases](const std::string& region) -> PostgresRegionDatabase& { return *databases.at(region); };
  PostgresFlagStore flags(database);
  LiveRecorder recorder(name, history);
  RealTasks tasks;
  Engine engine(scenario.lock, scenario.engine, plan, rollout_order(scenario),
                EnginePorts{clock, random, tasks, lock, flags, recorder,
                            [&database](const std::string& region) -> RegionDatabase& { return database(region); }});
  instance.exit = engine.run();
  instance.exited = true;
}

std::string outcome_of(const std::map<std::string, std::string>& states, const std::vector<std::unique_ptr<EngineInstance>>& engines) {
  auto all = [&](const char* state) {
    return std::all_of(states.begin(), states.end(), [&](const auto& s) { return s.second == state; });
  };
  if (all("contracted")) return "completed";
  const bool halted = std::any_of(engines.begin(), engines.end(), [](const auto& e) { return e->exited && e->exit == EngineExit::halted; });
  if (halted) return "halted";
  const bool rolled_back = std::any_of(states.begin(), states.end(), [](const auto& s) { return s.second == "rolled_back"; });
  const bool exited = std::all_of(engines.begin(), engines.end(), [](const auto& e) { return e->exited.load(); });
  return rolled_back && exited ? "rolled_back" : "incomplete";
}

Status prepare_region(const RegionEndpoints& region, const Scenario& scenario, bool prepare, const LiveOptions& options) {
  pqxx::connection connection(region.primary + " connect_timeout=3");
  bootstrap_schema(connection);
  if (table_exists(connection, scenario.table.name)) return Status::ok();
  if (!prepare) {
    return Status::invalid(fmt::format("table {} does not exist in region {} (run with --prepare to create it)",
                                       scenario.table.name, region.name));
  }
  log_line(options, fmt::format("preparing {}: creating {} with {} rows", region.name, scenario.table.name, scenario.table.rows));
  prepare_table(connection, scenario.table);
  return Status::ok();
}

void wait_for_replicas(const LiveSetup& setup) {
  for (const auto& region : setup.regions) {
    if (region.replicas.empty()) continue;
    pqxx::connection primary(region.primary + " connect_timeout=3");
    for (const auto& target : region.replicas) {
      pqxx::connection replica(target + " connect_timeout=3");
      for (TimeUs waited = 0; waited < kReplicaCatchUpUs && replica_behind_bytes(primary, replica) > 0; waited += kPollUs) {
        std::this_thread::sleep_for(std::chrono::microseconds(kPollUs));
      }
    }
  }
}

// Waits (bounded) until every replica replayed its primary's WAL, then snapshots them all.
void take_end_snapshots(const LiveSetup& setup, LiveHistory& history, const std::map<std::string, std::unique_ptr<RegionTraffic>>& traffic,
                        Observations& observations) {
  const std::uint64_t event = history.append(Event{.node = "world", .kind = EventKind::run_end});
  for (const auto& region : setup.regions) {
    pqxx::connection primary(region.primary + " connect_timeout=3");
    TableSnapshot snapshot{region.name, "db:" + region.name, "end", history.elapsed_us(), event, true,
                           snapshot_table(primary, setup.scenario.table.name)};
    auto it = traffic.find(region.name);
    for (std::size_t row = 0; row < snapshot.table.rows.size() && it != traffic.end(); ++row) {
      snapshot.table.last_writer[row] = it->second->last_writer(snapshot.table.rows[row][0].as_int());
    }
    const std::vector<Writer> writers = snapshot.table.last_writer;
    observations.snapshots.push_back(std::move(snapshot));
    for (std::size_t r = 0; r < region.replicas.size(); ++r) {
      pqxx::connection replica(region.replicas[r] + " connect_timeout=3");
      bool drained = false;
      for (TimeUs waited = 0; waited < kReplicaCatchUpUs && !drained; waited += kPollUs) {
        drained = replica_behind_bytes(primary, replica) == 0;
        if (!drained) std::this_thread::sleep_for(std::chrono::microseconds(kPollUs));
      }
      TableSnapshot copy{region.name, fmt::format("db:{}/replica-{}", region.name, r + 1), "end", history.elapsed_us(), event,
                         drained, snapshot_table(replica, setup.scenario.table.name)};
      if (copy.table.rows.size() == writers.size()) copy.table.last_writer = writers;
      observations.snapshots.push_back(std::move(copy));
    }
  }
}

std::map<std::string, std::string> final_states(const LiveSetup& setup, const MigrationPlan& plan, LiveHistory& history,
                                                const StopSignal& calm) {
  std::map<std::string, std::string> states;
  for (const auto& region : setup.regions) {
    PostgresRegionDatabase database(region, "runner", plan, history, calm);
    Result<Checkpoint> checkpoint = database.read_checkpoint(plan.name);
    states[region.name] = checkpoint.is_ok() && checkpoint.value().exists ? checkpoint.value().state : "pending";
  }
  return states;
}

RunStats stats_of(const std::vector<Event>& events, const Observations& observations, LiveHistory& history,
                  const std::map<std::string, std::unique_ptr<RegionTraffic>>& traffic) {
  RunStats stats;
  stats.events = events.size();
  for (const Event& event : events) {
    if (event.kind == EventKind::lock_acquire && event.outcome == Outcome::ok) ++stats.lock_acquisitions;
    if (event.kind == EventKind::write && event.outcome == Outcome::rejected) ++stats.stale_writes_rejected;
  }
  for (const auto& [region, app] : traffic) {
    stats.app_requests += app->requests();
    stats.app_errors += app->errors();
  }
  stats.rows_backfilled = history.rows_backfilled.load();
  stats.max_stall_us = observations.max_stall_us;
  stats.max_replica_lag_us = observations.max_staleness_us;
  return stats;
}

// Starts the engines and waits until they all exit or the scenario's duration passes.
bool run_engines(const LiveSetup& setup, const MigrationPlan& plan, const LiveOptions& options, LiveHistory& history,
                 StopSignal& stop, std::vector<std::unique_ptr<EngineInstance>>& engines) {
  for (int n = 1; n <= setup.scenario.engine.instances; ++n) {
    engines.push_back(std::make_unique<EngineInstance>());
    EngineInstance& instance = *engines.back();
    instance.number = n;
    instance.thread = std::thread([&, n] {
      (void)n;
      run_engine(setup, plan, options, history, stop, instance);
    });
  }
  bool ran_out = false;
  for (;;) {
    const bool all_exited = std::all_of(engines.begin(), engines.end(), [](const auto& e) { return e->exited.load(); });
    if (all_exited) break;
    if (history.elapsed_us() >= setup.scenario.duration_us) {
      ran_out = true;
      log_line(options, "duration reached: stopping the engines");
      stop.stopping = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(kPollUs));
  }
  for (auto& engine : engines) engine->thread.join();
  return ran_out;
}

}  // namespace

Status check_supported(const LiveSetup& setup) {
  if (setup.scenario.lock.backend != LockBackend::redis) {
    return Status::invalid(fmt::format("lock backend {} is not available in live mode yet (only redis)", to_string(setup.scenario.lock.backend)));
  }
  if (!setup.scenario.faults.empty()) {
    return Status::invalid(fmt::format("fault kind {} cannot be made real in this build (live faults are not implemented yet)",
                                       to_string(setup.scenario.faults.front().kind)));
  }
  if (setup.scenario.random_faults) return Status::invalid("random_faults cannot be made real in this build");
  if (setup.lock_endpoints.empty()) return Status::invalid("lock.endpoints is empty");
  for (const auto& endpoint : setup.lock_endpoints) {
    Result<RedisEndpoint> parsed = parse_redis_endpoint(endpoint);
    if (!parsed.is_ok()) return parsed.status();
  }
  return Status::ok();
}

Status check_reachable(const LiveSetup& setup) {
  for (const auto& region : setup.regions) {
    std::vector<std::string> targets{region.primary};
    targets.insert(targets.end(), region.replicas.begin(), region.replicas.end());
    for (const auto& target : targets) {
      try {
        pqxx::connection connection(target + " connect_timeout=3");
      } catch (const std::exception&) {
        return Status::unavailable(fmt::format("region {}: cannot connect to PostgreSQL at '{}'", region.name, redact(target)));
      }
    }
  }
  StopSignal calm;
  RedisLockClient lock(parse_redis_endpoint(setup.lock_endpoints.front()).value(), "rehearse:ping", "ping", calm);
  Status pinged = lock.ping();
  if (!pinged.is_ok()) return Status::unavailable(pinged.message());
  return Status::ok();
}

Status dry_run(const LiveSetup& setup, const MigrationPlan& plan, bool prepare, std::ostream& out) {
  Status reachable = check_reachable(setup);
  if (!reachable.is_ok()) return reachable;
  out << fmt::format("live dry run of {} (migration {}, table {}): nothing will be changed\n", setup.scenario.name, plan.name, plan.table);
  out << fmt::format("lock: redis at {}, ttl {} ms, fencing {}\n", setup.lock_endpoints.front(), setup.scenario.lock.ttl_us / kMs,
                     to_string(setup.scenario.lock.fencing));
  for (const auto& region : setup.regions) {
    pqxx::connection connection(region.primary + " connect_timeout=3");
    const bool exists = table_exists(connection, plan.table);
    out << fmt::format("region {}: primary '{}', {} replica(s); table {} {}\n", region.name, redact(region.primary),
                       region.replicas.size(), plan.table,
                       exists ? "exists" : prepare ? "absent: --prepare would create it" : "absent: run with --prepare");
  }
  for (const auto& statement : plan.expand) out << fmt::format("  expand: {} {}\n", statement.column, statement.purpose);
  for (const auto& fill : plan.fills) out << fmt::format("  backfill: {} = {} in batches of {}\n", fill.column, fill.up.text(), setup.scenario.engine.batch_size);
  for (const auto& statement : plan.contract) out << fmt::format("  contract: {} {}\n", statement.column, statement.to);
  out << fmt::format("would run {} engine instance(s) over regions [{}] with traffic of {}/s writes and {}/s reads per region\n",
                     setup.scenario.engine.instances, fmt::join(rollout_order(setup.scenario), ", "),
                     setup.scenario.workload.writes_per_s, setup.scenario.workload.reads_per_s);
  return Status::ok();
}

Result<RunResult> run_live(const LiveSetup& setup, const MigrationPlan& plan, const LiveOptions& options) {
  Status supported = check_supported(setup);
  if (!supported.is_ok()) return supported;
  Status reachable = check_reachable(setup);
  if (!reachable.is_ok()) return reachable;
  const auto wall_start = std::chrono::steady_clock::now();
  for (const auto& region : setup.regions) {
    Status prepared = prepare_region(region, setup.scenario, options.prepare, options);
    if (!prepared.is_ok()) return prepared;
  }
  wait_for_replicas(setup);  // --prepare's table must reach the replicas before reads start
  LiveHistory history;
  history.append(Event{.node = "world", .kind = EventKind::run_start, .detail = setup.scenario.name,
                       .a = static_cast<std::int64_t>(setup.scenario.seed)});
  std::map<std::string, std::unique_ptr<RegionTraffic>> traffic;
  const auto& workload = setup.scenario.workload;
  for (const auto& region : setup.regions) {
    const bool served = workload.all_regions || std::find(workload.regions.begin(), workload.regions.end(), region.name) != workload.regions.end();
    if (!served) continue;
    traffic[region.name] = std::make_unique<RegionTraffic>(region, setup.scenario, plan, history, setup.scenario.seed + traffic.size());
    traffic[region.name]->start();
  }
  log_line(options, fmt::format("running {} engine instance(s) over {} region(s)", setup.scenario.engine.instances, setup.regions.size()));
  StopSignal stop;
  std::vector<std::unique_ptr<EngineInstance>> engines;
  const bool ran_out = run_engines(setup, plan, options, history, stop, engines);
  for (auto& [region, app] : traffic) app->stop();

  Observations observations;
  for (const auto& region : setup.scenario.topology.regions) observations.regions.push_back(region.name);
  observations.derived = plan.derived;
  for (const auto& column : setup.scenario.table.columns) observations.old_columns.push_back(column.name);
  for (const auto& [region, app] : traffic) app->export_to(observations);
  take_end_snapshots(setup, history, traffic, observations);
  StopSignal calm;
  RunResult result;
  result.scenario = setup.scenario.name;
  result.seed = setup.scenario.seed;
  result.region_states = final_states(setup, plan, history, calm);
  result.region_order = observations.regions;
  result.outcome = outcome_of(result.region_states, engines);
  observations.duration_us = setup.scenario.duration_us;
  observations.time_ran_out = ran_out;
  observations.outcome = result.outcome;
  observations.final_states = result.region_states;
  result.history = history.take();
  result.stats = stats_of(result.history.events(), observations, history, traffic);
  result.stats.sim_time_us = result.history.events().empty() ? 0 : result.history.events().back().time_us;
  result.stats.wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - wall_start).count();
  result.violations = check_all(result.history, observations, setup.scenario.slo);
  result.trace_hash = result.history.trace_hash_hex();
  return result;
}

}  // namespace rehearse::live
