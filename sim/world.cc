// Building and running the simulated world of one scenario.
#include "sim/world.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/invariants.h"
#include "core/region_state.h"
#include "core/topology.h"
#include "sim/faults.h"
#include "sim/random_faults.h"
#include "sim/sim_ports.h"

namespace rehearse::sim {

namespace {
// After the last engine exits, the run continues this long so late effects land in the history.
constexpr TimeUs kDrainAfterEnginesUs = 1 * kSec;
constexpr TimeUs kSampleEveryUs = 1 * kSec;
}  // namespace

// One incarnation of an engine process: its ports and its engine. Lost on a crash.
struct World::Process {
  Process(World& world, Node& node, std::uint64_t seed, int instance, int incarnation)
      : clock(world.kernel(), node),
        random(engine_random(seed, node.name(), instance, incarnation)),
        tasks(world.kernel(), node),
        recorder(node.name(), [&world](Event event) { world.append(std::move(event)); }, &world.kernel().probes()),
        lock(std::make_unique<SlowAnsweringLockClient>(
            world.kernel(), world.lock_service_->make_client(node, fmt::format("lock-client-{}-{}", node.name(), engine_process_number(instance, incarnation))))),
        flags(world.network(), node, endpoints(world), database_reply_timeout_us(world.scenario().engine)) {
    for (const auto& [region, endpoint] : endpoints(world)) {
      databases.emplace(region, std::make_unique<SimRegionDatabase>(world.network(), node, endpoint,
                                                                    database_reply_timeout_us(world.scenario().engine)));
    }
    EnginePorts ports{clock, random, tasks, *lock, flags, recorder,
                      [this](const std::string& region) -> RegionDatabase& { return *databases.at(region); },
                      world.kernel().buggify(), world.monitor_};
    engine = std::make_unique<Engine>(world.scenario().lock, world.scenario().engine, world.plan_, world.region_order_, ports);
  }

  static std::map<std::string, DatabaseEndpoint> endpoints(World& world) {
    std::map<std::string, DatabaseEndpoint> result;
    for (const auto& [region, node] : world.primaries_) result[region] = DatabaseEndpoint{node, world.databases_.at(region).get()};
    return result;
  }

  SimClock clock;
  StreamRandom random;
  SimTasks tasks;
  SimRecorder recorder;
  std::unique_ptr<LockClient> lock;
  SimFlagStore flags;
  std::map<std::string, std::unique_ptr<SimRegionDatabase>> databases;
  std::unique_ptr<Engine> engine;
};

World::World(const Scenario& scenario, std::uint64_t seed, MigrationPlan plan, WorldOptions options)
    : scenario_(scenario), seed_(seed), plan_(std::move(plan)), options_(options) {
  REHEARSE_ASSERT(!scenario_.topology.regions.empty());
  region_order_ = migrated_regions(scenario_);
  REHEARSE_ASSERT(!region_order_.empty());
  kernel_ = std::make_unique<Kernel>(seed);
  if (scenario_.buggify) kernel_->buggify().enable(options_.buggify_site_probability);
  observations_.keep_request_latencies = options_.keep_request_latencies;
  observations_.texts = texts_;
  network_ = std::make_unique<Network>(*kernel_, seed, scenario_.topology.intra_region, scenario_.topology.inter_region);
  build_nodes();
  build_stores();
  build_applications();
  faults_ = std::make_unique<FaultInjector>(*this);
}

World::~World() {
  kernel_->shutdown();  // unwind every fiber before the processes they reference go away
  engines_.clear();
}

void World::build_nodes() {
  const auto& regions = scenario_.topology.regions;
  const std::string engine_region = scenario_.engine.region.empty() ? regions.front().name : scenario_.engine.region;
  Rng clocks(seed_, "clocks");
  auto skew = [&](Node& node) {
    const ClockSpec& spec = scenario_.topology.clocks;
    if (spec.max_skew_us > 0) node.clock().set_offset(0, clocks.uniform(-spec.max_skew_us, spec.max_skew_us));
    if (spec.max_drift_ppm > 0) node.clock().set_drift(0, clocks.uniform(-spec.max_drift_ppm, spec.max_drift_ppm));
  };
  for (int i = 1; i <= scenario_.engine.instances; ++i) {
    Node& node = kernel_->add_node(fmt::format("engine-{}", i), engine_region);
    skew(node);
    engines_.push_back(EngineInstance{i, &node, nullptr, 0, false, false, false, EngineExit::gave_up});
  }
  for (const std::string& region : lock_node_regions()) {
    Node& lock = kernel_->add_node(fmt::format("lock-{}", lock_nodes_.size() + 1), region);
    skew(lock);
    lock_nodes_.push_back(&lock);
  }
  for (const auto& region : regions) {
    // Global topology: the home region's primary is the only one.
    if (!global() || region.name == scenario_.topology.home) {
      Node& primary = kernel_->add_node("db:" + region.name, region.name);
      skew(primary);
      primaries_[region.name] = &primary;
    }
    for (int r = 1; r <= region.replicas; ++r) skew(kernel_->add_node(fmt::format("db:{}/replica-{}", region.name, r), region.name));
    skew(kernel_->add_node("app:" + region.name, region.name));
  }
}

// The primary a region's application writes to and its replicas replicate from: the region's
// own, or in a global topology the home region's.
const std::string& World::writer_of(const std::string& region) const { return writer_region(scenario_, region); }

// The replicas of every database, numbered as the database numbers them (1-based). Per region:
// the region's replicas. Global: every region's replicas in topology order, all of the home
// database's, those outside the home region shipped to across regions.
void World::number_replicas() {
  for (const auto& region : scenario_.topology.regions) {
    const std::string& writer = writer_of(region.name);
    for (int r = 1; r <= region.replicas; ++r) {
      std::vector<std::string>& names = replica_names_[writer];
      names.push_back(fmt::format("db:{}/replica-{}", region.name, r));
      replica_numbers_[region.name].push_back(static_cast<int>(names.size()));
      replica_transit_[writer].push_back(region.name == writer ? DurationRange{0, 0} : scenario_.topology.inter_region);
    }
  }
}

void World::build_stores() {
  const std::vector<Table> initial = generate_tables(scenario_, seed_, texts_.get());
  number_replicas();
  for (const auto& region : scenario_.topology.regions) {
    if (primaries_.count(region.name) == 0) continue;  // global: a region without a primary
    Node* node = primaries_.at(region.name);
    const int replicas = static_cast<int>(replica_names_[region.name].size());
    const std::string node_name = node->name();
    auto sink = [this, node_name](Event event) {
      event.node = node_name;
      append(std::move(event));
    };
    auto database = std::make_unique<SimDatabase>(*kernel_, *node, region.name, initial, replicas,
                                                   scenario_.topology.replication_lag, sink, seed_);
    if (global()) database->set_replica_transit(replica_transit_[region.name]);
    database->set_ignore_tokens(options_.store_ignores_tokens);
    database->set_commit_flush(options_.commit_flush);
    if (options_.host_cores > 0) {
      if (cpu_host_ == nullptr) {
        cpu_host_ = std::make_unique<CpuHost>(*kernel_, options_.host_cores,
                                              CpuHost::write_cores_of(scenario_.costs.parallel_write_cores, options_.host_cores),
                                              options_.host_background_cores);
      }
      database->set_cpu_host(cpu_host_.get());
    }
    if (options_.prior_checkpoint) database->store_checkpoint(*options_.prior_checkpoint);
    database->set_derived(plan_.derived);
    database->set_costs(scenario_.costs);
    SimDatabase* raw = database.get();
    node->on_crash = [raw] { raw->on_crash(); };
    databases_[region.name] = std::move(database);
  }
  build_lock_service();
  for (auto& instance : engines_) {
    instance.node->on_crash = [&instance] { instance.process.reset(); };
    instance.node->on_restart = [this, &instance] {
      instance.restart_pending = false;
      append(Event{.node = instance.node->name(), .kind = EventKind::node_restart});
      start_engine(instance);
    };
  }
}

// Where the lock nodes run: redis (and its replica) in the lock region; Redlock, etcd and
// ZooKeeper nodes round-robin over the regions from the lock region on; app-database has none.
std::vector<std::string> World::lock_node_regions() const {
  const std::string& home = lock_region(scenario_);
  const LockSpec& lock = scenario_.lock;
  const auto& regions = scenario_.topology.regions;
  switch (lock.backend) {
    case LockBackend::redis: return std::vector<std::string>(lock.replica ? 2 : 1, home);
    case LockBackend::app_database: return {};
    case LockBackend::redlock:
    case LockBackend::etcd:
    case LockBackend::zookeeper: break;
  }
  std::size_t first = 0;
  while (first < regions.size() && regions[first].name != home) ++first;
  std::vector<std::string> placed;
  for (int i = 0; i < lock.nodes; ++i) placed.push_back(regions[(first + static_cast<std::size_t>(i)) % regions.size()].name);
  return placed;
}

void World::build_lock_service() {
  // app-database: the lock row lives in the lock region's primary (global: the only primary).
  const std::string& lock_database = writer_of(lock_region(scenario_));
  LockServiceContext context{*kernel_, *network_, scenario_.lock, lock_nodes_, nullptr, nullptr, seed_,
                             [this](Event event) { append(std::move(event)); }};
  if (scenario_.lock.backend == LockBackend::app_database) {
    context.database_node = primaries_.at(lock_database);
    context.database = databases_.at(lock_database).get();
  }
  lock_service_ = make_lock_service(std::move(context));
}

FailoverOutcome World::failover_lock(const std::vector<Node*>& nodes) {
  const std::vector<Node*> service = lock_service_->nodes();
  const bool names_the_lock = std::any_of(nodes.begin(), nodes.end(), [&service](Node* node) {
    return std::find(service.begin(), service.end(), node) != service.end();
  });
  if (!names_the_lock) return {false, "failover applies to the lock service (`lock` or its nodes)"};
  FailoverOutcome outcome = lock_service_->failover();
  if (outcome.applied) kernel_->probe(Probe::lock_failover);
  return outcome;
}

namespace {

// Many tables: a region's servers each export their request windows; one window per second.
void merge_windows(Observations& observations) {
  for (auto& [region, windows] : observations.windows) {
    std::map<TimeUs, RequestWindow> merged;
    for (const RequestWindow& window : windows) {
      RequestWindow& into = merged[window.start_us];
      into.start_us = window.start_us;
      into.requests += window.requests;
      into.failed += window.failed;
      into.failed_by_fault += window.failed_by_fault;
    }
    windows.clear();
    for (const auto& [start, window] : merged) windows.push_back(window);
  }
}

// The traffic per table (real-migrations.md): `workload.tables` when given; else the workload's
// rates on the first table and on every other table the migration touches.
std::vector<TableWorkload> table_traffic(const Scenario& scenario) {
  const WorkloadSpec& workload = scenario.workload;
  std::vector<TableWorkload> traffic;
  if (!workload.tables.empty()) {
    for (const TableWorkload& table : workload.tables) {
      if (find_table(scenario, table.table) != nullptr && (table.writes_per_s > 0 || table.reads_per_s > 0)) traffic.push_back(table);
    }
    return traffic;
  }
  if (workload.writes_per_s <= 0 && workload.reads_per_s <= 0) return traffic;
  traffic.push_back(TableWorkload{scenario.table.name, workload.writes_per_s, workload.reads_per_s});
  for (const Operation& op : scenario.migration.operations) {
    const std::string& table = operation_table(scenario, op);
    const bool listed = std::any_of(traffic.begin(), traffic.end(), [&table](const TableWorkload& t) { return t.table == table; });
    if (!listed && find_table(scenario, table) != nullptr) traffic.push_back(TableWorkload{table, workload.writes_per_s, workload.reads_per_s});
  }
  return traffic;
}

}  // namespace

void World::build_applications() {
  const WorkloadSpec& workload = scenario_.workload;
  const std::vector<TableWorkload> traffic = table_traffic(scenario_);
  if (traffic.empty()) return;
  // A world no fault can touch: nothing cuts, delays, drops, pauses or crashes a message or a
  // node, and each statement takes its profile's time. Its replica reads and write replies are
  // computed whole (sim/app.h); conform (a connection pool, a shared host) runs them event by event.
  const bool quiet = scenario_.faults.empty() && !scenario_.random_faults && !scenario_.buggify &&
                     options_.host_cores == 0 && options_.app_connections == 0;
  for (const auto& region : scenario_.topology.regions) {
    const bool included = workload.all_regions ||
                          std::find(workload.regions.begin(), workload.regions.end(), region.name) != workload.regions.end();
    if (!included) continue;
    const std::string& writer = writer_of(region.name);
    AppEndpoints endpoints{kernel_->find_node("app:" + region.name), primaries_.at(writer), {},
                           databases_.at(writer).get(), {}};
    for (int r = 1; r <= region.replicas; ++r) endpoints.replicas.push_back(kernel_->find_node(fmt::format("db:{}/replica-{}", region.name, r)));
    if (global()) endpoints.replica_numbers = replica_numbers_[region.name];
    for (const TableWorkload& table : traffic) {
      applications_[region.name].push_back(
          std::make_unique<AppServer>(*kernel_, *network_, endpoints, scenario_, seed_, observations_, table,
                                      options_.app_connections));
      if (quiet && !options_.exact_reads) applications_[region.name].back()->compute_replica_reads_whole();
      if (quiet && !options_.exact_replies) applications_[region.name].back()->compute_write_replies_whole();
    }
  }
}

void World::append(Event event) {
  event.time_us = kernel_->now();
  const std::uint64_t id = history_.append(std::move(event));
  // A copy: observing may append more events, which can move the history's storage.
  const Event appended = history_.events()[id];
  observe(appended);
}

// Reacts to what just happened: phase-triggered faults, deploys, and table snapshots.
void World::observe(const Event& event) {
  probe_lease(event);
  if (event.kind == EventKind::phase && faults_) faults_->on_phase(event.region, event.detail);
  if (event.region.empty()) return;
  deploy_if_due(event.region, event);
  const bool validated = event.kind == EventKind::validate && event.outcome != Outcome::failed;
  if (validated) snapshot(event.region, "validate", event.id);
  if (event.kind == EventKind::phase && event.detail == "contract") snapshot(event.region, "contract", event.id);
}

// Lease probes, judged from the lock events as they happen: the holder's last confirmed
// acquire or renewal (its client's view, true time) against the store's expiry.
void World::probe_lease(const Event& event) {
  const bool refreshed = (event.kind == EventKind::lock_acquire || event.kind == EventKind::lock_renew) &&
                         event.outcome == Outcome::ok;
  if (refreshed) {
    last_lease_refresh_us_[event.node] = event.time_us;
    return;
  }
  if (event.kind != EventKind::lock_expire || event.actor.empty()) return;
  const Node* holder = kernel_->find_node(event.actor);
  if (holder != nullptr && holder->paused()) kernel_->probe(Probe::lease_expired_while_holder_paused);
  const Node* store = kernel_->find_node(event.node);
  const auto refresh = last_lease_refresh_us_.find(event.actor);
  if (store == nullptr || refresh == last_lease_refresh_us_.end()) return;
  // Early: less than a TTL since the holder's last confirmed refresh, and the store's clock
  // was stepped forward by at least the difference (a clock jump, not a slow reply).
  const TimeUs since_refresh_us = event.time_us - refresh->second;
  const TimeUs stepped_us = store->local_now() - store->monotonic_now();
  if (since_refresh_us < scenario_.lock.ttl_us && stepped_us > 0 && stepped_us >= scenario_.lock.ttl_us - since_refresh_us) {
    kernel_->probe(Probe::lease_expired_early_store_clock_ahead);
  }
}

// The region's application moves to the new code at workload.deploy.new_code_after; in a global
// topology every region's application follows the home region, whose schema they all use.
void World::deploy_if_due(const std::string& region, const Event& event) {
  if (!global()) {
    deploy_region_if_due(region, event);
    return;
  }
  if (region != scenario_.topology.home) return;
  for (const auto& [app_region, servers] : applications_) deploy_region_if_due(app_region, event);
}

void World::deploy_region_if_due(const std::string& region, const Event& event) {
  auto app = applications_.find(region);
  if (app == applications_.end() || app->second.front()->new_code()) return;
  bool due = false;
  switch (scenario_.workload.new_code_after) {
    case DeployAfter::expand: due = event.kind == EventKind::region_state && event.detail == "expanded"; break;
    case DeployAfter::backfill: due = event.kind == EventKind::phase && event.detail == "validate"; break;
    case DeployAfter::validate: due = event.kind == EventKind::region_state && event.detail == "validated"; break;
  }
  if (event.kind == EventKind::region_state && (event.detail == "reads_switched" || event.detail == "contracted")) due = true;
  if (!due) return;
  for (const auto& server : app->second) server->deploy_new_code();
  history_.append(Event{.time_us = kernel_->now(), .node = "app:" + region, .kind = EventKind::message, .region = region,
                        .detail = "deployed the new code version"});
}

// The primary of `region` and every replica of it (global: in every region), each under its
// node name; `region` is the database's region, so a replica is judged against this primary.
void World::snapshot(const std::string& region, const std::string& moment, std::uint64_t event_id) {
  auto found = databases_.find(region);
  if (found == databases_.end()) return;  // global: a region without a primary
  const SimDatabase& database = *found->second;
  const std::vector<std::string>& replica_names = replica_names_[region];
  REHEARSE_ASSERT(static_cast<int>(replica_names.size()) == database.replica_count());
  // Every table (many tables: the first one, which the plan's claims are about, named "").
  const std::string& first = database.first_table_name();
  for (const std::string& table : database.table_names()) {
    const std::string name = table == first ? "" : table;
    observations_.snapshots.push_back(TableSnapshot{region, "db:" + region, moment, kernel_->now(), event_id, true,
                                                    database.table(table).image(), database.table(table).catalog(), name});
    for (int r = 1; r <= database.replica_count(); ++r) {
      observations_.snapshots.push_back(TableSnapshot{region, replica_names[static_cast<std::size_t>(r - 1)], moment,
                                                      kernel_->now(), event_id, database.replica_lag(r) == 0,
                                                      database.replica_image(r, table), database.replica_catalog(r, table),
                                                      name});
    }
  }
}

// Once a second: each region's replication lag, application latency and backfill progress,
// for the report's charts. Reads state only; nothing in the run depends on it.
void World::sample() {
  for (const auto& region : scenario_.topology.regions) {
    MetricSample sample{kernel_->now(), region.name, 0, 0, 0, 0, 0};
    if (!global()) {
      const SimDatabase& database = *databases_.at(region.name);
      sample.replication_lag_us = database.replication_lag();
      sample.rows_backfilled = database.rows_backfilled();
    } else {  // the lag of this region's replicas of the home primary; the backfill is the home's
      const SimDatabase& home = *databases_.at(scenario_.topology.home);
      for (int number : replica_numbers_[region.name]) sample.replication_lag_us = std::max(sample.replication_lag_us, home.replica_lag(number));
      if (region.name == scenario_.topology.home) sample.rows_backfilled = home.rows_backfilled();
    }
    auto app = applications_.find(region.name);
    if (app != applications_.end()) {
      for (const auto& server : app->second) {
        const AppServer::Second second = server->take_second();
        sample.requests += second.requests;
        sample.failed += second.failed;
        sample.max_latency_us = std::max(sample.max_latency_us, second.max_latency_us);
      }
    }
    samples_.push_back(sample);
  }
  kernel_->after(kSampleEveryUs, [this] { sample(); });
}

SimDatabase* World::database_of(const Node& node) {
  auto it = databases_.find(writer_of(node.region()));
  if (it == databases_.end()) return nullptr;
  const bool database_node = node.name().rfind("db:", 0) == 0;
  return database_node || node.name() == node.region() ? it->second.get() : nullptr;
}

void World::start_engine(EngineInstance& instance) {
  const int incarnation = ++instance.incarnations;
  if (incarnation > 1) kernel_->probe(Probe::engine_restarted_after_crash);
  instance.started = true;
  instance.exited = false;
  instance.process = std::make_unique<Process>(*this, *instance.node, seed_, instance.index, incarnation);
  append(Event{.node = instance.node->name(), .kind = EventKind::node_start});
  Process* process = instance.process.get();
  kernel_->spawn(*instance.node, "engine", [this, &instance, process] {
    const EngineExit exit = process->engine->run();
    instance.exit = exit;
    instance.exited = true;
    finish_if_done();
  });
}

void World::crash(Node& node, std::optional<TimeUs> restart_after_us) {
  if (!node.up()) return;
  append(Event{.node = node.name(), .kind = EventKind::node_crash});
  for (auto& instance : engines_) {
    if (instance.node == &node && restart_after_us) instance.restart_pending = true;
  }
  kernel_->crash(node);
  if (restart_after_us) {
    const std::vector<Node*> lock_nodes = lock_service_->nodes();
    const bool lock_node = std::find(lock_nodes.begin(), lock_nodes.end(), &node) != lock_nodes.end();
    const TimeUs down_for = lock_node ? lock_service_->restart_delay(node, *restart_after_us) : *restart_after_us;
    kernel_->after(down_for, [this, &node] {
      if (node.name().rfind("engine-", 0) != 0) append(Event{.node = node.name(), .kind = EventKind::node_restart});
      kernel_->restart(node);
    });
  }
  finish_if_done();
}

void World::finish_if_done() {
  for (const auto& instance : engines_) {
    const bool gone_for_good = !instance.node->up() && !instance.restart_pending;
    if (!instance.exited && !gone_for_good) return;
  }
  kernel_->after(kDrainAfterEnginesUs, [this] { kernel_->stop(); });
}

std::vector<Node*> World::all_nodes() {
  std::vector<Node*> nodes;
  for (auto& node : const_cast<std::deque<Node>&>(kernel_->nodes())) nodes.push_back(&node);
  return nodes;
}

std::vector<Node*> World::resolve(const std::string& target) {
  if (target == "holder") {
    auto holder = lock_service_->holder();
    if (!holder) return {};
    Node* node = kernel_->find_node(*holder);
    return node ? std::vector<Node*>{node} : std::vector<Node*>{};
  }
  if (target == "lock") return lock_service_->nodes();
  if (Node* node = kernel_->find_node(target)) return {node};
  std::vector<Node*> in_region;
  for (Node* node : all_nodes()) {
    if (node->region() == target) in_region.push_back(node);
  }
  return in_region;
}

// Each region's state from its database's checkpoint. Global: every region reports the home
// region's state, since every region reads the home primary's schema through its replicas.
std::map<std::string, std::string> World::region_states() const {
  std::map<std::string, std::string> states;
  for (const auto& [region, database] : databases_) {
    const Result<Checkpoint> checkpoint = database->checkpoint(checkpoint_key(plan_));
    states[region] = checkpoint.is_ok() && checkpoint.value().exists ? checkpoint.value().state : "pending";
  }
  if (global()) {
    const std::string home_state = states.at(scenario_.topology.home);
    for (const auto& region : scenario_.topology.regions) states[region.name] = home_state;
  }
  return states;
}

void World::cut_replication(TimeUs until_us) {
  for (const auto& [writer, names] : replica_names_) {
    auto primary = primaries_.find(writer);
    auto database = databases_.find(writer);
    if (primary == primaries_.end() || database == databases_.end()) continue;
    for (std::size_t r = 0; r < names.size(); ++r) {
      const Node* replica = kernel_->find_node(names[r]);
      if (replica != nullptr && network_->cut(*primary->second, *replica)) database->second->cut_replica(static_cast<int>(r + 1), until_us);
    }
  }
}

int World::global_replica_number(const Node& node) const {
  if (!global()) return 0;
  auto found = replica_names_.find(scenario_.topology.home);
  if (found == replica_names_.end()) return 0;
  const std::vector<std::string>& names = found->second;
  for (std::size_t r = 0; r < names.size(); ++r) {
    if (names[r] == node.name()) return static_cast<int>(r + 1);
  }
  return 0;
}

std::string World::outcome(const std::map<std::string, std::string>& states) const {
  const bool any_halted = std::any_of(engines_.begin(), engines_.end(), [](const EngineInstance& e) {
    return e.exited && e.exit == EngineExit::halted;
  });
  const bool all_exited = std::all_of(engines_.begin(), engines_.end(), [](const EngineInstance& e) { return e.exited; });
  return run_outcome(states, any_halted, all_exited);
}

void World::fill_observations(const RunResult& result) {
  for (const auto& region : scenario_.topology.regions) observations_.regions.push_back(region.name);
  observations_.derived = plan_.derived;
  observations_.contracted_schema = plan_.contracted_schema;
  observations_.old_schema = plan_.old_schema;
  for (const auto& column : scenario_.table.columns) observations_.old_columns.push_back(column.name);
  std::size_t acknowledged = observations_.acknowledged.size();
  for (const auto& [region, servers] : applications_) {
    for (const auto& server : servers) acknowledged += server->acknowledged_rows();
  }
  observations_.acknowledged.reserve(acknowledged);  // every server's records in one block, never moved
  if (!global()) {
    for (const auto& [region, servers] : applications_) {
      for (const auto& server : servers) server->export_to(observations_);
    }
  } else {  // every region's servers write to the home primary: a write is superseded by anyone's
    std::map<std::string, AppliedOrders> latest;  // per table
    for (const auto& [region, servers] : applications_) {
      for (const auto& server : servers) {
        auto& orders = latest[server->table()];
        server->last_applied_orders().for_each([&orders](std::int64_t row, std::uint64_t order) {
          std::uint64_t& latest_order = orders[row];
          latest_order = std::max(latest_order, order);
        });
      }
    }
    for (const auto& [region, servers] : applications_) {
      for (const auto& server : servers) server->export_to(observations_, &latest[server->table()]);
    }
  }
  merge_windows(observations_);
  observations_.last_fault_end_us = faults_->last_fault_end();
  observations_.duration_us = scenario_.duration_us;
  observations_.time_ran_out = std::any_of(engines_.begin(), engines_.end(), [](const EngineInstance& e) {
    return !e.exited && (e.node->up() || e.restart_pending);
  });
  observations_.outcome = result.outcome;
  observations_.final_states = result.region_states;
}

RunStats World::stats() const {
  RunStats stats;
  stats.events = history_.events().size();
  stats.kernel_events = kernel_->events_processed();
  stats.sim_time_us = kernel_->now();
  for (const Event& event : history_.events()) {
    if (event.kind == EventKind::fault_start) ++stats.faults_injected;
    if (event.kind == EventKind::lock_acquire && event.outcome == Outcome::ok) ++stats.lock_acquisitions;
    if (event.kind == EventKind::write && event.outcome == Outcome::rejected) ++stats.stale_writes_rejected;
  }
  for (const auto& [region, database] : databases_) stats.rows_backfilled += database->rows_backfilled();
  for (const auto& [region, servers] : applications_) {
    for (const auto& server : servers) {
      stats.app_requests += server->requests();
      stats.app_errors += server->errors();
    }
  }
  stats.max_stall_us = observations_.max_stall_us;
  stats.max_replica_lag_us = observations_.max_staleness_us;
  for (int cause = 0; cause < kCauses; ++cause) {
    stats.app_errors_by_cause[cause] = observations_.errors_by_cause[cause];
    stats.max_stall_by_cause_us[cause] = observations_.max_stall_by_cause_us[cause];
    stats.max_replica_lag_by_cause_us[cause] = observations_.max_staleness_by_cause_us[cause];
  }
  return stats;
}

RunResult World::run() {
  append(Event{.node = "world", .kind = EventKind::run_start, .detail = scenario_.name, .a = static_cast<std::int64_t>(seed_)});
  for (auto& instance : engines_) {
    const TimeUs start = engine_start_delay_us(seed_, instance.index, scenario_.engine.start_jitter.low_us,
                                               scenario_.engine.start_jitter.high_us) +
                         options_.engine_launch_us;
    kernel_->at(start, [this, &instance] {
      // A crash and restart before this moment has started it already.
      if (instance.node->up() && !instance.started) start_engine(instance);
    });
  }
  faults_->schedule(scenario_.faults, true);
  if (scenario_.random_faults) {
    std::vector<std::string> names;
    for (Node* node : all_nodes()) names.push_back(node->name());
    const auto drawn = expand_random_faults(*scenario_.random_faults, scenario_.duration_us, names, seed_);
    append(Event{.node = "world", .kind = EventKind::message,
                 .detail = fmt::format("random_faults: {} faults drawn for seed {}", drawn.size(), seed_)});
    faults_->schedule(drawn);
  }
  for (auto& [region, servers] : applications_) {
    for (auto& server : servers) server->start();
  }
  kernel_->after(kSampleEveryUs, [this] { sample(); });
  kernel_->run_until(scenario_.duration_us);
  append(Event{.node = "world", .kind = EventKind::run_end});
  for (const auto& region : scenario_.topology.regions) snapshot(region.name, "end", history_.events().size() - 1);  // global: the home only

  RunResult result;
  result.scenario = scenario_.name;
  result.seed = seed_;
  result.region_states = region_states();
  result.region_order = region_order_;
  result.outcome = outcome(result.region_states);
  result.stats = stats();
  fill_observations(result);
  result.violations = check_all(history_, observations_, scenario_.slo);
  result.trace_hash = history_.trace_hash_hex();
  result.probes = kernel_->probes();
  result.buggify = kernel_->buggify().counts();
  result.faults_not_fired = faults_->not_fired();
  result.samples = std::move(samples_);
  result.history = std::move(history_);
  history_ = History();
  return result;
}

Result<RequestCounts> World::Monitor::requests(const std::string& region) {
  RequestCounts counts;
  auto servers = world_.applications_.find(region);
  if (servers == world_.applications_.end()) return counts;  // a region without application servers
  for (const auto& server : servers->second) {
    counts.requests += server->requests();
    counts.failed += server->errors();
  }
  return counts;
}

RunResult simulate(const Scenario& scenario, std::uint64_t seed, WorldOptions options) {
  Result<MigrationPlan> plan = compile_plan(scenario);
  REHEARSE_ASSERT(plan.is_ok());
  return simulate(scenario, plan.value(), seed, options);
}

RunResult simulate(const Scenario& scenario, const MigrationPlan& plan, std::uint64_t seed, WorldOptions options) {
  World world(scenario, seed, plan, options);
  return world.run();
}

}  // namespace rehearse::sim
