// The live runner: engine processes under a supervisor with the live faults, traffic per
// region, the merged history, end snapshots and the checkers; and the engine process itself.
#include "real_backends/live_runner.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <ostream>
#include <thread>

#include <nlohmann/json.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/assert.h"
#include "core/engine.h"
#include "core/invariants.h"
#include "core/random.h"
#include "core/region_state.h"
#include "core/topology.h"
#include "real_backends/app_database_lock.h"
#include "real_backends/app_monitor.h"
#include "real_backends/engine_process.h"
#include "real_backends/host_load.h"
#include "real_backends/host_pauses.h"
#include "real_backends/live_faults.h"
#include "real_backends/live_lock.h"
#include "real_backends/live_network.h"
#include "real_backends/live_topology.h"
#include "real_backends/live_traffic.h"
#include "real_backends/replica_redirect.h"

namespace rehearse::live {

namespace {

constexpr TimeUs kReplicaCatchUpUs = 15 * kSec;
constexpr TimeUs kPollUs = 100 * kMs;
constexpr TimeUs kSupervisorTickUs = 20 * kMs;
constexpr int kEngineStopGraceMs = 5000;  // after SIGTERM, then SIGKILL
// The runner's own sessions connect directly (no fault proxy): a reply that takes this long means
// the server itself is stuck.
constexpr TimeUs kRunnerReplyTimeoutUs = 65 * kSec;

std::atomic<bool>* g_engine_stopping = nullptr;  // the engine process's StopSignal, for SIGTERM
extern "C" void on_engine_terminate(int /*signal*/) {
  if (g_engine_stopping != nullptr) g_engine_stopping->store(true);
}

std::string lock_key(const MigrationPlan& plan) { return "rehearse:lock:" + plan.name; }

// The region whose primary holds the app-database lock: lock.region, default the first region
// (global topology: the home, the only primary).
std::string lock_database_of(const LiveSetup& setup) {
  const std::string& place = lock_region(setup.scenario);
  return place.empty() ? std::string() : writer_region(setup.scenario, place);
}

std::vector<std::string> lock_endpoints_of(const LiveSetup& setup) {
  return lock_store_endpoints(setup.scenario, setup.regions, setup.lock_endpoints);
}

void log_line(const LiveOptions& options, const std::string& line) {
  if (options.log != nullptr) *options.log << line << "\n" << std::flush;
}

int exit_code_of(EngineExit exit) {
  switch (exit) {
    case EngineExit::completed: return kEngineExitCompleted;
    case EngineExit::rolled_back: return kEngineExitRolledBack;
    case EngineExit::halted: return kEngineExitHalted;
    case EngineExit::gave_up: return kEngineExitGaveUp;
  }
  return kEngineExitGaveUp;
}

std::string outcome_of(const std::map<std::string, std::string>& states, const std::vector<std::unique_ptr<EngineProcess>>& engines) {
  const bool halted = std::any_of(engines.begin(), engines.end(), [](const auto& e) { return e->exited() && e->exit_code() == kEngineExitHalted; });
  const bool exited = std::all_of(engines.begin(), engines.end(), [](const auto& e) { return e->exited(); });
  return run_outcome(states, halted, exited);
}

// Before anything is created or started: every region's checkpoint of this migration's name
// must be this plan's (core/ports.h CheckpointKey), or absent. Returns the "nothing to do" note
// when every region's says contracted already (empty otherwise); invalid (exit code 2) naming
// the region, the migration, the table the checkpoint is for and what to do, when one is not.
Result<std::string> check_checkpoints(const LiveSetup& setup, const MigrationPlan& plan) {
  const CheckpointKey key = checkpoint_key(plan);
  const std::vector<RegionEndpoints> databases = database_endpoints(setup.scenario, setup.regions);
  for (const auto& region : databases) {  // first everywhere: an older table gets its key columns
    pqxx::connection connection(region.primary + " connect_timeout=3");
    bootstrap_schema(connection);
  }
  bool all_contracted = true;
  std::string latest;
  for (const auto& region : databases) {
    pqxx::connection connection(region.primary + " connect_timeout=3");
    const Checkpoint checkpoint = read_checkpoint_row(connection, plan.name);
    if (checkpoint.exists && !(checkpoint.key == key)) {
      return Status::invalid(fmt::format("region {}: {}", region.name, checkpoint_conflict(key, checkpoint.key)));
    }
    all_contracted = all_contracted && checkpoint.exists && parse_region_state(checkpoint.state) == RegionState::contracted;
    latest = std::max(latest, checkpoint.since);  // "YYYY-MM-DD HH:MM:SS UTC" sorts as text
  }
  if (!all_contracted) return std::string();
  return fmt::format("nothing to do: migration {} on table {} contracted in every region since {}", plan.name, plan.table,
                     latest.empty() ? "an unknown time" : latest);
}

// What the dry run says of a region's checkpoint of this migration's name (read only).
std::string checkpoint_text(pqxx::connection& connection, const MigrationPlan& plan) {
  if (!table_exists(connection, "rehearse_checkpoint")) return "no checkpoint";
  try {
    const Checkpoint found = read_checkpoint_row(connection, plan.name);
    const CheckpointKey key = checkpoint_key(plan);
    if (!found.exists) return "no checkpoint";
    if (found.key == key) return fmt::format("checkpoint {} (this plan's)", found.state);
    return "a run would stop: " + checkpoint_conflict(key, found.key);
  } catch (const pqxx::sql_error&) {  // a table of an older rehearse, without the key columns
    return "checkpoint table of an older rehearse: a run adds its key columns, then judges its row";
  }
}

Status prepare_region(const RegionEndpoints& region, const Scenario& scenario, bool prepare, const LiveOptions& options) {
  pqxx::connection connection(region.primary + " connect_timeout=3");
  if (table_exists(connection, scenario.table.name)) return Status::ok();
  if (!prepare) {
    return Status::invalid(fmt::format("table {} does not exist in region {} (run with --prepare to create it)",
                                       scenario.table.name, region.name));
  }
  log_line(options, fmt::format("preparing {}: creating {} with {} rows", region.name, scenario.table.name, scenario.table.rows));
  prepare_table(connection, scenario.table);
  return Status::ok();
}

// Waits (bounded) until every replica has replayed the primary's WAL and shows the table: reads
// start on the replicas right after. An error names the replica that did not.
Status wait_for_replicas(const LiveSetup& setup) {
  for (const LiveDatabase& database : live_databases(setup.scenario, setup.regions)) {
    const RegionEndpoints& region = database.endpoints;
    if (region.replicas.empty()) continue;
    pqxx::connection primary(region.primary + " connect_timeout=3");
    flush_wal(primary);
    for (std::size_t r = 0; r < region.replicas.size(); ++r) {
      pqxx::connection replica(region.replicas[r] + " connect_timeout=3");
      // The table is polled for too: a replica reporting its replay position at or past the
      // primary's (after a synchronous flush) has been seen not to show the new table for up to
      // 100 ms (3 of 60 runs; docs/live.md).
      TimeUs waited = 0;
      for (; waited < kReplicaCatchUpUs && replica_behind_bytes(primary, replica) > 0; waited += kPollUs) {
        std::this_thread::sleep_for(std::chrono::microseconds(kPollUs));
      }
      for (; waited < kReplicaCatchUpUs && !table_exists(replica, setup.scenario.table.name); waited += kPollUs) {
        std::this_thread::sleep_for(std::chrono::microseconds(kPollUs));
      }
      if (waited >= kReplicaCatchUpUs && !table_exists(replica, setup.scenario.table.name)) {
        return Status::unavailable(fmt::format("{} has not replayed table {} of db:{} after {} s (behind it by {} bytes)",
                                               database.replica_nodes[r], setup.scenario.table.name, region.name, kReplicaCatchUpUs / kSec,
                                               replica_behind_bytes(primary, replica)));
      }
    }
  }
  return Status::ok();
}

// Waits (bounded) until `replica` replayed everything `primary` has written; whether it did.
bool drain_replica(pqxx::connection& primary, pqxx::connection& replica) {
  flush_wal(primary);
  for (TimeUs waited = 0; waited < kReplicaCatchUpUs; waited += kPollUs) {
    if (replica_behind_bytes(primary, replica) == 0) return true;
    std::this_thread::sleep_for(std::chrono::microseconds(kPollUs));
  }
  return false;
}

// Snapshots every primary and replica at the end. A replica reported drained has been seen to
// still differ from its primary in a row or two written just before the end (docs/live.md, open
// question): when the two images differ, both are read again (a few times, 200 ms apart) before
// the difference is handed to the data-consistency checker as real.
void take_end_snapshots(const LiveSetup& setup, LiveHistory& history, const std::map<std::string, std::unique_ptr<RegionTraffic>>& traffic,
                        Observations& observations) {
  constexpr int kSettleAttempts = 10;
  const std::uint64_t event = history.append(Event{.node = "world", .kind = EventKind::run_end});
  for (const LiveDatabase& database : live_databases(setup.scenario, setup.regions)) {
    const RegionEndpoints& region = database.endpoints;
    pqxx::connection primary(region.primary + " connect_timeout=3");
    TableImage primary_image = snapshot_table(primary, setup.scenario.table.name);
    TableCatalog primary_catalog = read_catalog(primary, setup.scenario.table.name);
    std::vector<std::pair<bool, TableImage>> replica_images;
    std::vector<TableCatalog> replica_catalogs;
    for (std::size_t r = 0; r < region.replicas.size(); ++r) {
      pqxx::connection replica(region.replicas[r] + " connect_timeout=3");
      bool drained = drain_replica(primary, replica);
      TableImage image = snapshot_table(replica, setup.scenario.table.name);
      for (int attempt = 0; attempt < kSettleAttempts && !same_contents(image, primary_image);
           ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        primary_image = snapshot_table(primary, setup.scenario.table.name);
        drained = drain_replica(primary, replica);
        image = snapshot_table(replica, setup.scenario.table.name);
      }
      replica_images.emplace_back(drained, std::move(image));
      replica_catalogs.push_back(read_catalog(replica, setup.scenario.table.name));
    }
    TableSnapshot snapshot{region.name, "db:" + region.name, "end", history.elapsed_us(), event, true, std::move(primary_image),
                           std::move(primary_catalog)};
    // Who wrote each row last: of the applications writing to this primary (global: every
    // region's), the one whose acknowledged write to it came last.
    std::vector<Writer> writers(snapshot.table.row_count(), Writer::initial);
    for (std::size_t row = 0; row < writers.size(); ++row) {
      std::uint64_t latest = 0;
      for (const auto& [app_region, app] : traffic) {
        if (writer_region(setup.scenario, app_region) != region.name) continue;
        const std::optional<RegionTraffic::LastWrite> write = app->last_write(snapshot.table.at(row, 0).as_int());
        if (write && write->order >= latest) {
          latest = write->order;
          writers[row] = write->writer;
        }
      }
      snapshot.table.set_writer(row, writers[row]);
    }
    observations.snapshots.push_back(std::move(snapshot));
    for (std::size_t r = 0; r < replica_images.size(); ++r) {
      TableSnapshot copy{region.name, database.replica_nodes[r], "end", history.elapsed_us(), event,
                         replica_images[r].first, std::move(replica_images[r].second), std::move(replica_catalogs[r])};
      if (copy.table.row_count() == writers.size()) {
        for (std::size_t row = 0; row < writers.size(); ++row) copy.table.set_writer(row, writers[row]);
      }
      observations.snapshots.push_back(std::move(copy));
    }
  }
}

std::map<std::string, std::string> final_states(const LiveSetup& setup, const MigrationPlan& plan, LiveHistory& history,
                                                const StopSignal& calm) {
  std::map<std::string, std::string> states;
  for (const auto& region : database_endpoints(setup.scenario, setup.regions)) {
    PostgresRegionDatabase database(region, "runner", plan, history, calm, kRunnerReplyTimeoutUs);
    Result<Checkpoint> checkpoint = database.read_checkpoint(checkpoint_key(plan));
    states[region.name] = checkpoint.is_ok() && checkpoint.value().exists ? checkpoint.value().state : "pending";
  }
  // Global topology: every region reads the home primary's schema through its replicas, so it is
  // in the home's state (as sim/world.cc region_states has it).
  for (const auto& region : setup.regions) states.emplace(region.name, states.at(writer_region(setup.scenario, region.name)));
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
  for (int cause = 0; cause < kCauses; ++cause) {
    stats.app_errors_by_cause[cause] = observations.errors_by_cause[cause];
    stats.max_stall_by_cause_us[cause] = observations.max_stall_by_cause_us[cause];
    stats.max_replica_lag_by_cause_us[cause] = observations.max_staleness_by_cause_us[cause];
  }
  return stats;
}

// The engine processes under the faults: starts them, ticks the faults, and waits until every
// engine exited (and no restart is due) or the scenario's duration passes; then stops the rest.
// With a proxied network, each engine is handed its own proxies' endpoints.
bool supervise_engines(const LiveSetup& setup, const MigrationPlan& plan, const LiveOptions& options, LiveHistory& history,
                       LiveNetwork* network, const std::map<std::string, std::unique_ptr<RegionTraffic>>& traffic,
                       std::vector<std::unique_ptr<EngineProcess>>& engines, TimeUs& last_fault_end_us,
                       std::int64_t& faults_injected, std::vector<UnfiredFault>& not_fired) {
  // The application's request counts for the engines' health gates, published every tick.
  const std::string monitor_path =
      (std::filesystem::temp_directory_path() / fmt::format("rehearse-requests-{}-{}.json", ::getpid(), history.start_ns())).string();
  // A failure is logged when it starts or changes, not at every 20 ms tick it lasts.
  std::string publish_problem;
  auto publish = [&] {
    std::map<std::string, RequestCounts> counts;
    for (const auto& [region, app] : traffic) counts[region] = RequestCounts{app->requests(), app->errors()};
    const Status published = publish_request_counts(monitor_path, counts);
    const std::string problem = published.is_ok() ? std::string() : published.message();
    if (!problem.empty() && problem != publish_problem) log_line(options, problem);
    if (problem.empty() && !publish_problem.empty()) log_line(options, "the application's request counts are published again");
    publish_problem = problem;
  };
  publish();
  struct RemoveAtEnd {
    std::string path;
    ~RemoveAtEnd() {
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
    }
  } remove_at_end{monitor_path};
  Scenario engine_scenario = setup.scenario;
  // The runner makes the faults real; only a crash timed to a statement's start is the engine's
  // own to carry out (kills_itself).
  std::erase_if(engine_scenario.faults, [](const FaultSpec& fault) {
    return !(fault.targets.size() == 1 && kills_itself(fault, fault.targets.front()));
  });
  engine_scenario.random_faults.reset();
  // The engine does not use the workload; a run without traffic has no region left in it, which
  // the loader (rightly) refuses in a scenario file.
  engine_scenario.workload.all_regions = true;
  const std::string yaml = options.scenario_text(engine_scenario);
  auto launch = [&](EngineProcess& engine) {
    const std::string name = fmt::format("engine-{}", engine.instance());
    EngineProcessSpec spec{yaml, database_endpoints(setup.scenario, network != nullptr ? network->regions_for(name) : setup.regions),
                           network != nullptr ? network->lock_endpoints_for(name) : setup.lock_endpoints,
                           engine.instance(), engine.incarnation() + 1, history.start_ns(), monitor_path};
    return engine.launch(options.engine_binary, engine_spec_json(spec));
  };
  LiveFaults faults(LiveFaultContext{setup.scenario, setup.regions, setup.lock_endpoints, lock_key(plan), history, engines, launch, options.log,
                                     network});
  faults.start_faults_at_zero();
  for (int n = 1; n <= setup.scenario.engine.instances; ++n) {
    engines.push_back(std::make_unique<EngineProcess>(n, history));
    Status started = launch(*engines.back());
    if (!started.is_ok()) log_line(options, started.message());
  }
  bool ran_out = false;
  for (;;) {
    for (auto& engine : engines) engine->poll();
    faults.tick();
    publish();
    const bool all_exited = std::all_of(engines.begin(), engines.end(), [](const auto& e) { return e->exited(); });
    if (all_exited && !faults.restart_pending()) {
      // Their last lines read first: an engine that killed itself at a fault's statement
      // (kills_itself) wrote the phase that makes the fault due, and so its restart.
      for (auto& engine : engines) engine->reap(0);
      faults.tick();
      if (!faults.restart_pending()) break;
    }
    if (history.elapsed_us() >= setup.scenario.duration_us) {
      ran_out = true;
      log_line(options, "duration reached: stopping the engines");
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(kSupervisorTickUs));
  }
  faults.heal_all();
  for (auto& engine : engines) engine->send(SIGTERM);
  for (auto& engine : engines) engine->reap(kEngineStopGraceMs);
  last_fault_end_us = faults.last_fault_end_us();
  faults_injected = faults.injected();
  not_fired = faults.not_fired();
  return ran_out;
}

}  // namespace

Status check_supported(const LiveSetup& setup) {
  if (setup.scenario.lock.backend == LockBackend::app_database && !setup.lock_endpoints.empty()) {
    return Status::invalid(fmt::format("lock.endpoints: the app-database lock is a row in the lock region's primary (db:{}); "
                                       "it takes no endpoints (remove lock.endpoints, or choose another lock.backend)",
                                       lock_database_of(setup)));
  }
  Status endpoints = check_lock_endpoints(setup.scenario.lock.backend, lock_endpoints_of(setup));
  if (!endpoints.is_ok()) return endpoints;
  Status replica = check_lock_replica(setup.scenario.lock, setup.lock_endpoints);
  if (!replica.is_ok()) return replica;
  return check_live_faults(setup.scenario, setup.regions, setup.lock_endpoints);
}

Status check_reachable(const LiveSetup& setup) {
  for (const auto& region : setup.regions) {
    std::vector<std::string> targets;
    if (!region.primary.empty()) targets.push_back(region.primary);  // global: only the home's
    targets.insert(targets.end(), region.replicas.begin(), region.replicas.end());
    for (const auto& target : targets) {
      try {
        pqxx::connection connection(target + " connect_timeout=3");
      } catch (const std::exception&) {
        return Status::unavailable(fmt::format("region {}: cannot connect to PostgreSQL at '{}'", region.name, redact(target)));
      }
    }
  }
  Status pinged = ping_lock_store(setup.scenario.lock.backend, lock_endpoints_of(setup), setup.scenario.lock.replica);
  if (!pinged.is_ok()) {
    return Status::unavailable(fmt::format("lock store ({}) unreachable: {}", to_string(setup.scenario.lock.backend), pinged.message()));
  }
  return Status::ok();
}

Status dry_run(const LiveSetup& setup, const MigrationPlan& plan, bool prepare, std::ostream& out) {
  Status reachable = check_reachable(setup);
  if (!reachable.is_ok()) return reachable;
  out << fmt::format("live dry run of {} (migration {}, table {}): nothing will be changed\n", setup.scenario.name, plan.name, plan.table);
  const std::string where = setup.scenario.lock.backend == LockBackend::app_database
                                ? fmt::format("db:{} (table {})", lock_database_of(setup), kLockRowTable)
                                : fmt::format("{}", fmt::join(setup.lock_endpoints, ", "));
  out << fmt::format("lock: {} at {}, ttl {} ms, fencing {}\n", to_string(setup.scenario.lock.backend), where,
                     setup.scenario.lock.ttl_us / kMs,
                     to_string(setup.scenario.lock.fencing));
  for (const auto& region : setup.regions) {
    if (region.primary.empty()) {  // global topology
      out << fmt::format("region {}: {} replica(s) of db:{} (topology global: its application writes there)\n", region.name,
                         region.replicas.size(), writer_region(setup.scenario, region.name));
      continue;
    }
    pqxx::connection connection(region.primary + " connect_timeout=3");
    const bool exists = table_exists(connection, plan.table);
    out << fmt::format("region {}: primary '{}', {} replica(s); table {} {}; {}\n", region.name, redact(region.primary),
                       region.replicas.size(), plan.table,
                       exists ? "exists" : prepare ? "absent: --prepare would create it" : "absent: run with --prepare",
                       checkpoint_text(connection, plan));
  }
  for (const auto& statement : plan.expand) out << fmt::format("  expand: {} {}\n", statement.column, statement.purpose);
  for (const auto& fill : plan.fills) out << fmt::format("  backfill: {} = {} in batches of {}\n", fill.column, fill.up.text(), setup.scenario.engine.batch_size);
  for (const auto& statement : plan.contract) out << fmt::format("  contract: {} {}\n", statement.column, statement.to);
  out << fmt::format("would run {} engine instance(s) over regions [{}] with traffic of {}/s writes and {}/s reads per region\n",
                     setup.scenario.engine.instances, fmt::join(migrated_regions(setup.scenario), ", "),
                     setup.scenario.workload.writes_per_s, setup.scenario.workload.reads_per_s);
  return Status::ok();
}

Result<RunResult> run_live(const LiveSetup& setup, const MigrationPlan& plan, const LiveOptions& options) {
  REHEARSE_ASSERT(!options.engine_binary.empty());
  REHEARSE_ASSERT(options.scenario_text != nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // an engine process that died early must not take the runner with it
  Status supported = check_supported(setup);
  if (!supported.is_ok()) return supported;
  Status reachable = check_reachable(setup);
  if (!reachable.is_ok()) return reachable;
  const auto wall_start = std::chrono::steady_clock::now();
  // A run killed while it had a replica's replication pointed at its proxy left that replica
  // streaming from nowhere: set back before anything else, whatever this run's faults.
  std::vector<std::pair<std::string, std::string>> replicas;
  for (const auto& region : setup.regions) {
    for (std::size_t r = 0; r < region.replicas.size(); ++r) replicas.emplace_back(fmt::format("db:{}/replica-{}", region.name, r + 1), region.replicas[r]);
  }
  Result<std::vector<std::string>> leftovers = restore_leftover_redirects(replicas);
  if (!leftovers.is_ok()) return leftovers.status();
  for (const auto& line : leftovers.value()) log_line(options, line);
  Result<std::string> nothing_to_do = check_checkpoints(setup, plan);
  if (!nothing_to_do.is_ok()) return nothing_to_do.status();
  if (setup.scenario.lock.backend == LockBackend::app_database) {  // before two engines race to create it
    pqxx::connection connection(lock_endpoints_of(setup).front() + " connect_timeout=3");
    ensure_lock_row_table(connection);
  }
  if (!nothing_to_do.value().empty()) log_line(options, nothing_to_do.value());
  for (const auto& region : database_endpoints(setup.scenario, setup.regions)) {
    Status prepared = prepare_region(region, setup.scenario, options.prepare, options);
    if (!prepared.is_ok()) return prepared;
  }
  Status replicated = wait_for_replicas(setup);  // --prepare's table must reach the replicas before reads start
  if (!replicated.is_ok()) return replicated;
  // Network faults need a proxy between each client and each backend it uses; without them
  // every client connects directly.
  std::unique_ptr<LiveNetwork> network;
  if (needs_proxies(setup.scenario)) {
    Result<std::unique_ptr<LiveNetwork>> started = LiveNetwork::start(setup.scenario, setup.regions, setup.lock_endpoints);
    if (!started.is_ok()) return started.status();
    network = std::move(started.value());
    log_line(options, "network faults: every engine and application reaches its backends through a fault-injecting proxy");
  }
  // Replicas whose streaming replication a fault reaches stream through a proxy for this run;
  // destroyed (restored) before the proxies, on every way out of this function.
  std::vector<std::unique_ptr<ReplicaRedirect>> redirects;
  if (network != nullptr) {
    for (const std::string& replica : network->replicas_to_redirect(setup.scenario)) {
      auto found = std::find_if(replicas.begin(), replicas.end(), [&](const auto& r) { return r.first == replica; });
      REHEARSE_ASSERT(found != replicas.end());
      Result<std::unique_ptr<ReplicaRedirect>> redirect = ReplicaRedirect::start(
          replica, found->second, [&](const std::string& host, int port) { return network->proxy_replication(replica, host, port); });
      if (!redirect.is_ok()) return redirect.status();
      log_line(options, fmt::format("network faults: {} streams from its primary through a proxy (127.0.0.1:{}) for this run", replica,
                                    redirect.value()->proxy_port()));
      redirects.push_back(std::move(redirect.value()));
    }
  }
  std::unique_ptr<HostLoadMeter> host_load;
  if (options.measure_host_load) {
    const std::vector<int> postmasters = local_postmasters(database_endpoints(setup.scenario, setup.regions));
    if (postmasters.empty()) log_line(options, "the host's load is not measured: a server's process was not found on this machine");
    if (!postmasters.empty()) host_load = std::make_unique<HostLoadMeter>(postmasters);
  }
  // The run's clock starts here, once the proxies and the replicas' redirects are in place: a
  // fault `at: 300ms` is imposed 300 ms after the start, as the simulator imposes it, not 300 ms
  // plus the time the redirects took (150-450 ms on the 2-core VM: conform's (e) and (f) cut
  // their replica after the first batch instead of during it, docs/calibration.md).
  LiveHistory history;
  history.append(Event{.node = "world", .kind = EventKind::run_start, .detail = setup.scenario.name,
                       .a = static_cast<std::int64_t>(setup.scenario.seed)});
  HostPauseMeter host_pauses(history);
  std::map<std::string, std::unique_ptr<RegionTraffic>> traffic;
  const auto& workload = setup.scenario.workload;
  for (const auto& region : setup.regions) {
    const bool served = workload.all_regions || std::find(workload.regions.begin(), workload.regions.end(), region.name) != workload.regions.end();
    if (!served) continue;
    const RegionEndpoints endpoints =
        application_endpoints(setup.scenario, network != nullptr ? network->regions_for("app:" + region.name) : setup.regions, region.name);
    traffic[region.name] = std::make_unique<RegionTraffic>(endpoints, setup.scenario, plan, history, setup.scenario.seed + traffic.size());
    traffic[region.name]->start();
  }
  log_line(options, fmt::format("running {} engine instance(s) over {} region(s)", setup.scenario.engine.instances, setup.regions.size()));
  std::vector<std::unique_ptr<EngineProcess>> engines;
  TimeUs last_fault_end_us = 0;
  std::int64_t faults_injected = 0;
  std::vector<UnfiredFault> not_fired;
  const bool ran_out =
      supervise_engines(setup, plan, options, history, network.get(), traffic, engines, last_fault_end_us, faults_injected, not_fired);
  for (auto& [region, app] : traffic) app->stop();
  std::vector<HostPause> pauses = host_pauses.stop();
  std::optional<HostLoad> load;
  if (host_load != nullptr) load = host_load->stop();
  for (auto& redirect : redirects) {  // the faults are healed: replication goes back to its own connection
    const std::string problem = redirect->restore();
    log_line(options, problem.empty() ? fmt::format("network faults: {} streams from its primary directly again", redirect->name()) : problem);
  }
  redirects.clear();
  network.reset();  // every client has stopped: the proxies go (the end snapshots connect directly)
  history.seal();  // every process has exited: the merged history is complete

  Observations observations;
  for (const auto& region : setup.scenario.topology.regions) observations.regions.push_back(region.name);
  observations.derived = plan.derived;
  observations.contracted_schema = plan.contracted_schema;
  observations.old_schema = plan.old_schema;
  for (const auto& column : setup.scenario.table.columns) observations.old_columns.push_back(column.name);
  for (const auto& [region, app] : traffic) app->export_to(observations);
  observations.host_pauses = std::move(pauses);
  observations.host_load = load;
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
  observations.last_fault_end_us = last_fault_end_us;
  observations.outcome = result.outcome;
  observations.final_states = result.region_states;
  result.history = history.take();
  result.stats = stats_of(result.history.events(), observations, history, traffic);
  result.stats.sim_time_us = result.history.events().empty() ? 0 : result.history.events().back().time_us;
  result.stats.wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - wall_start).count();
  result.stats.faults_injected = faults_injected;
  result.faults_not_fired = std::move(not_fired);
  result.nothing_to_do = nothing_to_do.value();
  result.violations = check_all(result.history, observations, setup.scenario.slo);
  result.trace_hash = result.history.trace_hash_hex();
  if (options.observations != nullptr) *options.observations = std::move(observations);
  return result;
}

std::string engine_spec_json(const EngineProcessSpec& spec) {
  nlohmann::json regions = nlohmann::json::array();
  for (const auto& region : spec.regions) {
    regions.push_back({{"name", region.name}, {"primary", region.primary}, {"replicas", region.replicas}});
  }
  return nlohmann::json{{"scenario", spec.scenario_yaml}, {"regions", regions}, {"lock_endpoints", spec.lock_endpoints},
                        {"instance", spec.instance}, {"incarnation", spec.incarnation}, {"start_ns", spec.start_ns},
                        {"monitor", spec.monitor_path}}
      .dump();
}

Result<EngineProcessSpec> parse_engine_spec(const std::string& text) {
  const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return Status::invalid("the engine spec on stdin is not a JSON object");
  try {
    EngineProcessSpec spec;
    spec.scenario_yaml = parsed.at("scenario").get<std::string>();
    for (const auto& region : parsed.at("regions")) {
      spec.regions.push_back(RegionEndpoints{region.at("name").get<std::string>(), region.at("primary").get<std::string>(),
                                             region.at("replicas").get<std::vector<std::string>>()});
    }
    spec.lock_endpoints = parsed.at("lock_endpoints").get<std::vector<std::string>>();
    spec.instance = parsed.at("instance").get<int>();
    spec.incarnation = parsed.at("incarnation").get<int>();
    spec.start_ns = parsed.at("start_ns").get<std::int64_t>();
    spec.monitor_path = parsed.value("monitor", std::string());
    // lock_endpoints may be empty (app-database): live_engine_command checks them against the backend.
    if (spec.instance < 1 || spec.incarnation < 1) return Status::invalid("the engine spec is incomplete");
    return spec;
  } catch (const nlohmann::json::exception& error) {
    return Status::invalid(fmt::format("the engine spec on stdin is malformed: {}", error.what()));
  }
}

int run_engine_process(const LiveSetup& setup, const MigrationPlan& plan, int instance, int incarnation, std::int64_t start_ns,
                       const std::string& monitor_path) {
  install_pause_point();
  static StopSignal stop;  // static: the SIGTERM handler reaches it
  g_engine_stopping = &stop.stopping;
  struct sigaction action {};
  action.sa_handler = on_engine_terminate;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  LiveHistory history{std::chrono::steady_clock::time_point(std::chrono::nanoseconds(start_ns))};
  history.forward_to(STDOUT_FILENO);
  const std::string name = fmt::format("engine-{}", instance);
  history.append(Event{.node = name, .kind = EventKind::message,
                       .detail = fmt::format("engine process {} (incarnation {})", ::getpid(), incarnation)});
  const Scenario& scenario = setup.scenario;
  if (incarnation == 1) {
    for (const FaultSpec& fault : scenario.faults) {
      if (kills_itself(fault, name)) history.die_after_phase(trigger_phase(*fault.at_phase), fault.at_phase->region);
    }
  }
  RealClock clock(stop);
  // The simulator's engine stream for this seed, instance and incarnation (core/random.h): the
  // two runs of `rehearse conform` draw the same retry jitter. The start delay and the lock
  // owner's name come from streams of their own, so they take no draw from it.
  StreamRandom random = engine_random(scenario.seed, name, instance, incarnation);
  if (incarnation == 1) {
    clock.sleep_for(engine_start_delay_us(scenario.seed, instance, scenario.engine.start_jitter.low_us, scenario.engine.start_jitter.high_us));
  }
  const std::uint64_t owner = Rng(scenario.seed, engine_stream_name(name, instance, incarnation) + "/lock-owner").next();
  const std::unique_ptr<LockClient> lock_client =
      make_live_lock_client(scenario.lock, lock_endpoints_of(setup), lock_key(plan), fmt::format("{}:{}", name, owner), stop,
                            LockRowSettings{plan.table, scenario.engine.statement_timeout_us});
  LockClient& lock = *lock_client;
  std::map<std::string, std::unique_ptr<PostgresRegionDatabase>> databases;
  for (const auto& region : setup.regions) {
    databases[region.name] = std::make_unique<PostgresRegionDatabase>(region, name, plan, history, stop,
                                                                  database_reply_timeout_us(scenario.engine));
  }
  auto database = [&databases](const std::string& region) -> PostgresRegionDatabase& { return *databases.at(region); };
  PostgresFlagStore flags(database);
  LiveRecorder recorder(name, history);
  FileApplicationMonitor file_monitor(monitor_path);
  ApplicationMonitor& monitor = monitor_path.empty() ? ApplicationMonitor::none() : file_monitor;
  int code = kEngineExitGaveUp;
  {
    RealTasks tasks;  // declared before the engine: its keepalive threads are joined after it
    Engine engine(scenario.lock, scenario.engine, plan, migrated_regions(scenario),
                  EnginePorts{clock, random, tasks, lock, flags, recorder,
                              [&database](const std::string& region) -> RegionDatabase& { return database(region); },
                              FaultPoints::never(), monitor});
    code = exit_code_of(engine.run());
  }
  g_engine_stopping = nullptr;
  return code;
}

}  // namespace rehearse::live
