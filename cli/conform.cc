// The `conform` subcommand (../shared/spec/calibration.md, docs/calibration.md): one live config
// run in simulation and live, and the measures of both compared row by row (core/conformance.h).
// The live table is conform's own: created with the simulator's initial rows and marked with a
// COMMENT; --reset drops and recreates only a table so marked.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands_internal.h"
#include "cli/live.h"
#include "core/conformance.h"
#include "core/plan.h"
#include "core/random.h"
#include "real_backends/live_network.h"
#include "real_backends/live_runner.h"
#include "real_backends/live_topology.h"
#include "real_backends/postgres.h"
#include "reports/run_json.h"
#include "scenarios/costs.h"
#include "scenarios/live_config.h"
#include "sim/cpu_host.h"
#include "sim/database.h"
#include "sim/world.h"

namespace rehearse::cli {
namespace {

struct ConformOptions {
  std::string config;
  std::string costs;
  std::optional<std::uint64_t> seed;
  bool json = false;
  bool reset = false;
  std::string histories;  // --histories DIR
};

constexpr const char* kMarkPrefix = "rehearse conform:";

// The COMMENT a table conform created carries: which rows it was filled with.
std::string table_mark(const Scenario& scenario, std::uint64_t seed) {
  return fmt::format("{} created by rehearse conform with the simulator's rows for seed {} ({} rows); `rehearse conform --reset` "
                     "may drop it",
                     kMarkPrefix, seed, scenario.table.rows);
}

std::string this_executable() {
  char path[4096];
  const ssize_t length = ::readlink("/proc/self/exe", path, sizeof path - 1);
  return length > 0 ? std::string(path, static_cast<std::size_t>(length)) : std::string("rehearse");
}

int fail(int code, const std::string& message) {
  std::cerr << "rehearse conform: " << message << "\n";
  return code;
}

// conform's table is not vacuumed by autovacuum while conform owns it; conform vacuums it itself
// after the live run (vacuum_after_run). The simulator has no autovacuum, and the launcher
// reaches every table with enough dead rows once a minute: with tables of earlier runs holding
// 200,000 dead rows each, workers vacuumed six of them during the next runs, whose backfills
// then ran up to twice as long as the simulated ones (unbatched 0.5, a lease config 0.6, where
// the same configs re-run with no worker about gave 0.91).
void keep_autovacuum_away(pqxx::connection& connection, const std::string& table) {
  pqxx::nontransaction(connection).exec(
      fmt::format("ALTER TABLE {} SET (autovacuum_enabled = off, toast.autovacuum_enabled = off)", connection.quote_name(table)));
}

// Runs `sql` on every region's primary, best effort: a region that cannot be reached now, or a
// role that may not, gets a warning ("could not <what>: ...") and the others go on. Returns
// the regions where it ran.
std::vector<std::string> on_every_primary(const std::vector<live::RegionEndpoints>& databases, const std::string& what,
                                          const std::function<std::string(pqxx::connection&)>& sql) {
  std::vector<std::string> done;
  for (const live::RegionEndpoints& region : databases) {
    try {
      pqxx::connection connection(region.primary);
      pqxx::nontransaction(connection).exec(sql(connection));
      done.push_back(region.name);
    } catch (const std::exception& error) {
      std::cerr << fmt::format("rehearse conform: warning: region {}: could not {}: {}\n", region.name, what,
                               live::redact(error.what()));
    }
  }
  return done;
}

// Vacuums conform's table on every region's primary once the live run is over, so that no
// autovacuum worker meets this run's dead rows during a later run (keep_autovacuum_away).
void vacuum_after_run(const std::vector<live::RegionEndpoints>& databases, const std::string& table) {
  on_every_primary(databases, fmt::format("vacuum {} after the run", table),
                   [&](pqxx::connection& connection) { return "VACUUM " + connection.quote_name(table); });
}

// Checkpoints every region's primary just before the live run, where the role may (a superuser
// or a member of pg_checkpoint). PostgreSQL starts a checkpoint of its own once the WAL written
// since the last one nears max_wal_size, and one live run writes hundreds of megabytes (its
// table filled, its backfill, the vacuum of the run before): in a matrix of conform runs on
// scripts/live-up's servers one started every 10-40 s, and the configs run while one was under
// way took 1.9-2.5 times their simulated durations (seed 341: unbatched 0.51, a lease config
// 0.52, unthrottled lag 0.43), where the same configs run after a CHECKPOINT gave 0.77-0.95. The
// checkpoint then lands before the run, not in it.
void checkpoint_before_run(const std::vector<live::RegionEndpoints>& databases, std::ostream* log) {
  const std::vector<std::string> done = on_every_primary(
      databases, "checkpoint before the live run (a checkpoint PostgreSQL starts during it slows it)",
      [](pqxx::connection&) { return std::string("CHECKPOINT"); });
  if (log == nullptr) return;
  for (const std::string& region : done) *log << fmt::format("rehearse conform: region {}: checkpointed before the live run\n", region);
}

// Makes every region's table the simulator's initial table for `seed`: creates it where absent;
// a table conform created is used as is when it was filled for this seed and size and has not
// been migrated, and dropped and recreated with --reset; any other table is refused (exit 2)
// before anything changes.
int prepare_tables(const std::vector<live::RegionEndpoints>& databases, const Scenario& scenario, std::uint64_t seed, bool reset) {
  const std::string& table = scenario.table.name;
  const std::string& migration = scenario.migration.name;
  const std::string mark = table_mark(scenario, seed);
  std::vector<bool> create(databases.size(), false);
  try {
    for (std::size_t r = 0; r < databases.size(); ++r) {
      const live::RegionEndpoints& region = databases[r];
      pqxx::connection connection(region.primary);
      live::bootstrap_schema(connection);
      if (!live::table_exists(connection, table)) {
        create[r] = true;
        continue;
      }
      const std::optional<std::string> comment = live::table_comment(connection, table);
      if (!comment || !comment->starts_with(kMarkPrefix)) {
        return fail(kExitBadInput, fmt::format("region {}: table {} exists and was not created by rehearse conform; conform "
                                               "never changes a table it did not create. Give the config another table.name",
                                               region.name, table));
      }
      const Checkpoint checkpoint = live::read_checkpoint_row(connection, migration);
      const bool migrated = checkpoint.exists && checkpoint.key.tables == table;
      if (reset) {
        create[r] = true;
      } else if (*comment != mark || migrated) {
        return fail(kExitBadInput,
                    fmt::format("region {}: table {} was prepared by an earlier rehearse conform run ({}); run again with --reset "
                                "to drop and recreate it",
                                region.name, table, migrated ? "and migrated since" : "for another seed or size"));
      }
    }
    const sim::Table initial = sim::generate_table(scenario.table, seed);
    const TableImage rows = initial.image();
    for (std::size_t r = 0; r < databases.size(); ++r) {
      if (!create[r]) continue;
      pqxx::connection connection(databases[r].primary);
      {
        pqxx::work tx(connection);
        // Only a table carrying conform's mark gets here (checked above).
        tx.exec(fmt::format("DROP TABLE IF EXISTS {}", connection.quote_name(table)));
        tx.exec(fmt::format("DELETE FROM rehearse_checkpoint WHERE migration = {} AND tables = {}", tx.quote(migration), tx.quote(table)));
        tx.commit();
      }
      live::create_table_with_rows(connection, scenario.table, rows, mark);
    }
    for (const live::RegionEndpoints& region : databases) {
      pqxx::connection connection(region.primary);
      keep_autovacuum_away(connection, table);
    }
  } catch (const pqxx::broken_connection& error) {
    return fail(kExitEnvironment, fmt::format("cannot reach a primary: {}", live::redact(error.what())));
  } catch (const pqxx::sql_error& error) {
    return fail(kExitEnvironment, fmt::format("preparing table {}: {}", table, live::redact(error.what())));
  }
  return kExitPass;
}

// How long the live run's first engine took from its start time (the seed's start_jitter draw,
// as live mode waits it) to its engine_start event: the process launched, its configuration
// read, its connections opened. The simulated world starts its engines that much later.
TimeUs engine_launch_us(const Scenario& scenario, const History& live) {
  for (const Event& event : live.events()) {
    if (event.kind != EventKind::engine_start || event.node != "engine-1") continue;
    const TimeUs drawn = engine_start_delay_us(scenario.seed, 1, scenario.engine.start_jitter.low_us, scenario.engine.start_jitter.high_us);
    return std::max<TimeUs>(0, event.time_us - drawn);
  }
  return 0;
}

// The simulated network of the live setup: the one-way time to each region's primary from here
// (half a `SELECT 1` round trip, p10..p50 of 30: the slow tail is the loaded host's
// scheduling, not the network), for every link inside and between regions. A
// live config has no `topology:`, and the loader's defaults (0.5..2 ms inside a region, 40..120
// ms between regions) are not the network of servers on one host.
DurationRange measured_network(const std::vector<live::RegionEndpoints>& databases) {
  std::vector<TimeUs> one_way;
  for (const live::RegionEndpoints& region : databases) {
    pqxx::connection connection(region.primary);
    pqxx::nontransaction tx(connection);
    for (int i = 0; i < 30; ++i) {
      const auto start = std::chrono::steady_clock::now();
      tx.exec("SELECT 1");
      const auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
      one_way.push_back(std::max<TimeUs>(1, took / 2));
    }
  }
  std::sort(one_way.begin(), one_way.end());
  return DurationRange{one_way[one_way.size() / 10], one_way[one_way.size() / 2]};
}

// The servers of a config that are all on this machine (a loopback address or localhost) share
// its processors: the simulated databases then share as many cores (sim::CpuHost). 0 otherwise.
int shared_host_cores(const std::vector<live::RegionEndpoints>& databases) {
  const auto local = [](const std::string& dsn) {
    const Result<std::pair<std::string, int>> endpoint = live::conninfo_endpoint(dsn);
    if (!endpoint.is_ok()) return false;  // a Unix socket or several hosts: not known to be here
    const std::string& host = endpoint.value().first;
    return host == "localhost" || host.starts_with("127.") || host == "::1";
  };
  for (const auto& region : databases) {
    if (!local(region.primary)) return 0;
    for (const std::string& replica : region.replicas) {
      if (!local(replica)) return 0;
    }
  }
  return static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
}

// The longest a primary holds a commit's WAL before a replica can get it: with
// synchronous_commit = off the WAL writer writes and flushes it in rounds of wal_writer_delay,
// and a WAL sender ships only flushed WAL. A round flushes a partial page only when at least
// wal_writer_delay passed since its last flush, and a wake-up between rounds (a page filled)
// restarts its sleep, so a commit can wait up to about twice the delay (PostgreSQL's
// documentation bounds it at three times): the largest live staleness of every conform config
// was 330-570 ms with wal_writer_delay = 200 ms, where a draw of 0..200 ms gave 195-200 ms
// (docs/calibration.md, issue 12's sixth stop). 0 with synchronous commits.
TimeUs async_commit_flush_delay(const std::vector<live::RegionEndpoints>& databases) {
  TimeUs longest = 0;
  for (const live::RegionEndpoints& region : databases) {
    if (region.replicas.empty()) continue;
    pqxx::connection connection(region.primary);
    pqxx::nontransaction tx(connection);
    if (std::string(tx.exec1("SHOW synchronous_commit")[0].c_str()) != "off") continue;
    const std::int64_t delay_ms = tx.exec1("SELECT setting::bigint FROM pg_settings WHERE name = 'wal_writer_delay'")[0].as<std::int64_t>();
    longest = std::max(longest, 2 * delay_ms * kMs);
  }
  return longest;
}

std::string region_label(const ConformRow& row) { return row.region.empty() ? "-" : row.region; }

std::string ratio_text(const ConformRow& row) {
  if (!row.applicable) return "n/a";
  if (row.ratio) return fmt::format("{:.2f}", *row.ratio);
  return "-";
}

nlohmann::json number(const std::optional<double>& value) { return value ? nlohmann::json(*value) : nlohmann::json(nullptr); }

nlohmann::json row_json(const ConformRow& row) {
  nlohmann::json json{{"measure", row.measure},
                      {"region", row.region.empty() ? nlohmann::json(nullptr) : nlohmann::json(row.region)},
                      {"band", row.band_text()},
                      {"applicable", row.applicable},
                      {"matched", row.matched}};
  if (row.match == ConformMatch::exact) {
    json["sim"] = row.sim_text;
    json["live"] = row.live_text;
  } else {
    json["sim"] = number(row.sim);
    json["live"] = number(row.live);
    json["ratio"] = number(row.ratio);
    json["unit"] = row.unit;
    json["band_low"] = row.low;
    json["band_high"] = row.high;
  }
  return json;
}

int conform_command(const ConformOptions& options) {
  LiveConfigResult loaded = load_live_config_file(options.config);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) std::cerr << error.to_string() << "\n";
    return kExitBadInput;
  }
  LiveConfig& config = *loaded.config;
  Scenario& scenario = config.scenario;
  if (options.seed) scenario.seed = *options.seed;
  if (!options.costs.empty()) {
    const std::vector<ScenarioError> errors = load_cost_profile_file(options.costs, &scenario.costs);
    if (!errors.empty()) {
      for (const auto& error : errors) std::cerr << error.to_string() << "\n";
      return kExitBadInput;
    }
  }
  if (!options.histories.empty()) {  // before connecting: a directory that cannot be made is bad input
    std::error_code error;
    std::filesystem::create_directories(options.histories, error);
    if (error || !std::filesystem::is_directory(options.histories, error)) {
      return fail(kExitBadInput, fmt::format("--histories {}: not a directory that can be written ({})", options.histories,
                                             error ? error.message() : "a file is in the way"));
    }
  }
  Result<MigrationPlan> plan = compile_plan(scenario);
  if (!plan.is_ok()) return fail(kExitBadInput, plan.status().message());
  live::LiveSetup setup{scenario, {}, config.lock_endpoints};
  for (const auto& region : config.regions) setup.regions.push_back(live::RegionEndpoints{region.name, region.primary, region.replicas});
  Status supported = live::check_supported(setup);
  if (!supported.is_ok()) return fail(supported.is_unavailable() ? kExitEnvironment : kExitBadInput, supported.message());
  Status reachable = live::check_reachable(setup);
  if (!reachable.is_ok()) return fail(kExitEnvironment, reachable.message());
  // The primaries and their replicas (global topology: the home's, with every region's replicas).
  const std::vector<live::RegionEndpoints> databases = live::database_endpoints(scenario, setup.regions);

  DurationRange commit_flush{0, 0};
  try {
    // Streaming replication ships over the same loopback, once the primary has flushed the
    // commit's WAL (the replica's own commit-to-replay delay is the profile's
    // replica_base_delay_us).
    const DurationRange network = measured_network(databases);
    scenario.topology.intra_region = scenario.topology.inter_region = network;
    scenario.topology.replication_lag = network;
    commit_flush = DurationRange{0, async_commit_flush_delay(databases)};
  } catch (const pqxx::broken_connection& error) {
    return fail(kExitEnvironment, fmt::format("cannot reach a primary: {}", live::redact(error.what())));
  }
  const int prepared = prepare_tables(databases, scenario, scenario.seed, options.reset);
  if (prepared != kExitPass) return prepared;
  const int host_cores = shared_host_cores(databases);
  live::LiveOptions run_options = live_run_options(this_executable());
  Observations live_observations;
  run_options.observations = &live_observations;
  run_options.measure_host_load = host_cores > 0;
  run_options.log = options.json ? nullptr : &std::cerr;
  checkpoint_before_run(databases, run_options.log);
  Result<RunResult> live_run = live::run_live(setup, plan.value(), run_options);
  vacuum_after_run(databases, scenario.table.name);
  if (!live_run.is_ok()) {
    return fail(live_run.status().is_unavailable() ? kExitEnvironment : kExitBadInput, live_run.status().message());
  }
  if (!live_run.value().nothing_to_do.empty()) {
    return fail(kExitBadInput, live_run.value().nothing_to_do + "; run again with --reset to migrate a fresh table");
  }

  // The simulated world after the live one: on a shared host it carries the load the live run
  // met besides the databases' statements (sim/cpu_host.h).
  sim::WorldOptions world_options;
  world_options.keep_request_latencies = true;
  world_options.commit_flush = commit_flush;
  world_options.host_cores = host_cores;
  if (host_cores > 0 && live_observations.host_load) world_options.host_background_cores = live_observations.host_load->background_cores();
  world_options.app_connections = kAppConnections;  // the live application's pool (real_backends/live_traffic.h)
  world_options.engine_launch_us = engine_launch_us(scenario, live_run.value().history);
  sim::World world(scenario, scenario.seed, plan.value(), world_options);
  const RunResult simulated = world.run();
  const double write_cores = host_cores > 0 ? sim::CpuHost::write_cores_of(scenario.costs.parallel_write_cores, host_cores) : 0.0;

  if (!options.histories.empty()) {
    const std::pair<const char*, const History*> histories[] = {{"simulated.jsonl", &simulated.history},
                                                                {"live.jsonl", &live_run.value().history}};
    for (const auto& [name, history] : histories) {
      std::ofstream out(std::filesystem::path(options.histories) / name);
      out << reports::history_lines(*history);
      if (!out) return fail(kExitEnvironment, fmt::format("--histories: cannot write {}/{}", options.histories, name));
    }
    // Every application request of both worlds, in the order they ended: what the stall and
    // p99 rows are taken from, to set beside the histories' batches and phases.
    const std::pair<const char*, const Observations*> requests[] = {{"simulated-requests.csv", &world.observations()},
                                                                   {"live-requests.csv", &live_observations}};
    for (const auto& [name, observations] : requests) {
      std::ofstream out(std::filesystem::path(options.histories) / name);
      out << "region,sent_us,waited_us,failed,write\n";
      for (const RequestLatency& request : observations->request_latencies) {
        out << fmt::format("{},{},{},{},{}\n", request.region, request.sent_us, request.waited_us, request.failed ? 1 : 0,
                           request.write ? 1 : 0);
      }
      if (!out) return fail(kExitEnvironment, fmt::format("--histories: cannot write {}/{}", options.histories, name));
    }
  }
  const ConformSpec spec = conform_spec(scenario);
  const WorldMeasures sim_measures = measure_world(spec, simulated, world.observations());
  const WorldMeasures live_measures = measure_world(spec, live_run.value(), live_observations);
  const std::vector<ConformRow> rows = compare_worlds(spec, sim_measures, live_measures);
  std::vector<std::string> mismatched;
  for (const ConformRow& row : rows) {
    if (!row.matched) mismatched.push_back(row.region.empty() ? row.measure : row.measure + " " + row.region);
  }
  const std::string costs = options.costs.empty() ? scenario.costs.source : options.costs;
  if (options.json) {
    nlohmann::json json{{"config", options.config}, {"scenario", scenario.name}, {"seed", scenario.seed}, {"costs", costs},
                        {"matched", mismatched.empty()},
                        {"network_us", {scenario.topology.intra_region.low_us, scenario.topology.intra_region.high_us}},
                        {"replication_shipping_us",
                         {scenario.topology.replication_lag.low_us, scenario.topology.replication_lag.high_us + commit_flush.high_us}},
                        {"host", {{"cores", host_cores}, {"parallel_write_cores", write_cores},
                                  {"background_cores", world_options.host_background_cores}}},
                        {"engine_launch_ms", static_cast<double>(world_options.engine_launch_us) / 1000.0},
                        {"mismatched", mismatched}, {"rows", nlohmann::json::array()},
                        {"sim", {{"outcome", simulated.outcome}, {"trace_hash", simulated.trace_hash},
                                 {"violations", simulated.violations.size()}}},
                        {"live", {{"outcome", live_run.value().outcome}, {"wall_ms", live_run.value().stats.wall_ms},
                                  {"violations", live_run.value().violations.size()}, {"host_pauses", live_measures.host_pauses},
                                  {"host_paused_ms", live_measures.host_paused_ms},
                                  {"max_stall_gross_ms", number(live_measures.max_stall_gross_ms)}}}};
    for (const ConformRow& row : rows) json["rows"].push_back(row_json(row));
    std::cout << json.dump(2) << "\n";
  } else {
    std::cout << fmt::format("conform {} seed {} (costs {}; simulated network {}..{} us one way, replication shipping {}..{} us, "
                             "measured; {}; engines launched {:.0f} ms after their start, measured); live run {:.1f} s\n",
                             scenario.name, scenario.seed, costs, scenario.topology.intra_region.low_us,
                             scenario.topology.intra_region.high_us, scenario.topology.replication_lag.low_us,
                             scenario.topology.replication_lag.high_us + commit_flush.high_us,
                             host_cores > 0 ? fmt::format("the databases share this host's {} cores, {:.2f} for writes side by side, "
                                                          "{:.2f} busy besides their statements in the live run",
                                                          host_cores, write_cores, world_options.host_background_cores)
                                            : std::string("no shared host"),
                             static_cast<double>(world_options.engine_launch_us) / 1000.0,
                             static_cast<double>(live_run.value().stats.wall_ms) / 1000.0);
    std::cout << fmt::format("{:<20} {:<10} {:<12} {:<12} {:>6}  {:<16} {}\n", "measure", "region", "simulated", "live", "ratio",
                             "band", "match");
    for (const ConformRow& row : rows) {
      const bool exact = row.match == ConformMatch::exact;
      std::cout << fmt::format("{:<20} {:<10} {:<12} {:<12} {:>6}  {:<16} {}\n", row.measure, region_label(row),
                               exact ? (row.matched ? "=" : "(below)") : row.sim_text, exact ? (row.matched ? "=" : "") : row.live_text,
                               ratio_text(row), row.band_text(), !row.applicable ? "n/a" : row.matched ? "yes" : "NO");
      if (exact) {
        std::cout << fmt::format("    simulated: {}\n", row.sim_text);
        if (!row.matched) std::cout << fmt::format("    live:      {}\n", row.live_text);
      }
    }
    if (live_measures.host_pauses > 0) {
      std::cout << fmt::format("live: the host paused {} time(s) for {:.1f} ms in all during the migration's requests (the longest "
                               "stall was {:.1f} ms with them); max_stall and p99_write_latency are net of them\n",
                               live_measures.host_pauses, live_measures.host_paused_ms, live_measures.max_stall_gross_ms.value_or(0));
    }
    if (mismatched.empty()) {
      std::cout << fmt::format("conform: all {} rows match\n", rows.size());
    } else {
      std::cout << fmt::format("conform: {} of {} rows do not match: {}\n", mismatched.size(), rows.size(), fmt::join(mismatched, ", "));
    }
  }
  return mismatched.empty() ? kExitPass : kExitViolation;
}

}  // namespace

void register_conform_command(CLI::App& app) {
  auto options = std::make_shared<ConformOptions>();
  CLI::App* command = app.add_subcommand("conform", "Run a live config in simulation and live and compare (calibration.md)");
  command->add_option("config", options->config, "Live config file (a scenario with real endpoints)")->required();
  command->add_option("--costs", options->costs, "Cost profile file for the simulation (default: the config's costs:)");
  command->add_option("--seed", options->seed, "Seed of both runs (default: the config's seed)")->check(unsigned_seed());
  command->add_flag("--json", options->json, "Print both worlds' numbers, ratio and band of every row as one JSON object");
  command->add_option("--histories", options->histories,
                      "Directory to write both worlds' histories (simulated.jsonl, live.jsonl) and application requests "
                      "(simulated-requests.csv, live-requests.csv) to, for a mismatch's why");
  command->add_flag("--reset", options->reset, "Drop and recreate the table when an earlier conform run created it");
  command->callback([options] {
    const int code = conform_command(*options);
    std::cout.flush();
    std::exit(code);
  });
}

}  // namespace rehearse::cli
