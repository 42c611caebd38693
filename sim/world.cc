// Building and running the simulated world of one scenario.
#include "sim/world.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/assert.h"
#include "sim/faults.h"
#include "sim/sim_ports.h"

namespace rehearse::sim {

namespace {
// After the last engine exits, the run continues this long so late effects land in the history.
constexpr TimeUs kDrainAfterEnginesUs = 1 * kSec;
}  // namespace

// One incarnation of an engine process: its ports and its engine. Lost on a crash.
struct World::Process {
  Process(World& world, Node& node, std::uint64_t seed, int incarnation)
      : clock(world.kernel(), node),
        random(Rng(seed, fmt::format("engine-{}-{}", node.name(), incarnation))),
        tasks(world.kernel(), node),
        recorder(node.name(), [&world](Event event) { world.append(std::move(event)); }),
        lock(world.network(), node, *world.lock_nodes_.front(), *world.lock_store_, RequestTimeouts{}.lock_us),
        flags(world.network(), node, endpoints(world), database_timeout(world.scenario())) {
    for (const auto& [region, endpoint] : endpoints(world)) {
      databases.emplace(region, std::make_unique<SimRegionDatabase>(world.network(), node, endpoint,
                                                                    database_timeout(world.scenario())));
    }
    EnginePorts ports{clock, random, tasks, lock, flags, recorder,
                      [this](const std::string& region) -> RegionDatabase& { return *databases.at(region); }};
    engine = std::make_unique<Engine>(world.scenario().lock, world.scenario().engine, world.plan_, world.region_order_, ports);
  }

  static std::map<std::string, DatabaseEndpoint> endpoints(World& world) {
    std::map<std::string, DatabaseEndpoint> result;
    for (const auto& [region, node] : world.primaries_) result[region] = DatabaseEndpoint{node, world.databases_.at(region).get()};
    return result;
  }

  static TimeUs database_timeout(const Scenario& scenario) {
    const TimeUs statement = scenario.engine.statement_timeout_us;
    return (statement > 0 ? statement : 60 * kSec) + 5 * kSec;
  }

  SimClock clock;
  SimRandom random;
  SimTasks tasks;
  SimRecorder recorder;
  SimRedisLockClient lock;
  SimFlagStore flags;
  std::map<std::string, std::unique_ptr<SimRegionDatabase>> databases;
  std::unique_ptr<Engine> engine;
};

World::World(const Scenario& scenario, std::uint64_t seed, MigrationPlan plan, WorldOptions options)
    : scenario_(scenario), seed_(seed), plan_(std::move(plan)), options_(options) {
  REHEARSE_ASSERT(!scenario_.topology.regions.empty());
  region_order_ = scenario_.engine.order;
  if (region_order_.empty()) {
    for (const auto& region : scenario_.topology.regions) region_order_.push_back(region.name);
  }
  kernel_ = std::make_unique<Kernel>(seed);
  network_ = std::make_unique<Network>(*kernel_, seed, scenario_.topology.intra_region, scenario_.topology.inter_region);
  build_nodes();
  build_stores();
  faults_ = std::make_unique<FaultInjector>(*this, seed);
}

World::~World() {
  kernel_->shutdown();  // unwind every fiber before the processes they reference go away
  engines_.clear();
}

void World::build_nodes() {
  const auto& regions = scenario_.topology.regions;
  const std::string engine_region = scenario_.engine.region.empty() ? regions.front().name : scenario_.engine.region;
  const std::string lock_region = scenario_.lock.region.empty() ? regions.front().name : scenario_.lock.region;
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
  Node& lock = kernel_->add_node("lock-1", lock_region);
  skew(lock);
  lock_nodes_.push_back(&lock);
  for (const auto& region : regions) {
    Node& primary = kernel_->add_node("db:" + region.name, region.name);
    skew(primary);
    primaries_[region.name] = &primary;
    for (int r = 1; r <= region.replicas; ++r) skew(kernel_->add_node(fmt::format("db:{}/replica-{}", region.name, r), region.name));
    skew(kernel_->add_node("app:" + region.name, region.name));
  }
}

void World::build_stores() {
  for (const auto& [region, node] : primaries_) {
    const std::string node_name = node->name();
    auto sink = [this, node_name](Event event) {
      event.node = node_name;
      append(std::move(event));
    };
    // Every region starts from the same data (one stream per table, not per region).
    auto database = std::make_unique<SimDatabase>(region, scenario_.table, sink, Rng(seed_, "table"));
    database->set_ignore_tokens(options_.store_ignores_tokens);
    databases_[region] = std::move(database);
  }
  Node& lock = *lock_nodes_.front();
  lock_store_ = std::make_unique<RedisLockStore>(lock, scenario_.lock.persistence, [this, &lock](Event event) {
    event.node = lock.name();
    append(std::move(event));
  });
  lock.on_restart = [this] { lock_store_->on_restart(); };
  for (auto& instance : engines_) {
    instance.node->on_crash = [&instance] { instance.process.reset(); };
    instance.node->on_restart = [this, &instance] {
      instance.restart_pending = false;
      append(Event{.node = instance.node->name(), .kind = EventKind::node_restart});
      start_engine(instance);
    };
  }
}

void World::append(Event event) {
  event.time_us = kernel_->now();
  const bool phase = event.kind == EventKind::phase;
  const std::string region = event.region;
  const std::string detail = event.detail;
  history_.append(std::move(event));
  if (phase && faults_) faults_->on_phase(region, detail);
}

void World::start_engine(EngineInstance& instance) {
  const int incarnation = ++instance.incarnations;
  instance.started = true;
  instance.exited = false;
  instance.process = std::make_unique<Process>(*this, *instance.node, seed_, incarnation + instance.index * 1000);
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
    kernel_->after(*restart_after_us, [this, &node] {
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
    auto holder = lock_store_->holder();
    if (!holder) return {};
    Node* node = kernel_->find_node(*holder);
    return node ? std::vector<Node*>{node} : std::vector<Node*>{};
  }
  if (target == "lock") return lock_nodes_;
  if (Node* node = kernel_->find_node(target)) return {node};
  std::vector<Node*> in_region;
  for (Node* node : all_nodes()) {
    if (node->region() == target) in_region.push_back(node);
  }
  return in_region;
}

std::map<std::string, std::string> World::region_states() const {
  std::map<std::string, std::string> states;
  for (const auto& [region, database] : databases_) {
    const Checkpoint checkpoint = database->checkpoint(plan_.name);
    states[region] = checkpoint.exists ? checkpoint.state : "pending";
  }
  return states;
}

std::string World::outcome(const std::map<std::string, std::string>& states) const {
  const bool all_contracted = std::all_of(states.begin(), states.end(), [](const auto& s) { return s.second == "contracted"; });
  if (all_contracted) return "completed";
  const bool any_halted = std::any_of(engines_.begin(), engines_.end(), [](const EngineInstance& e) {
    return e.exited && e.exit == EngineExit::halted;
  });
  if (any_halted) return "halted";
  const bool rolled_back = std::any_of(states.begin(), states.end(), [](const auto& s) { return s.second == "rolled_back"; });
  const bool all_exited = std::all_of(engines_.begin(), engines_.end(), [](const EngineInstance& e) { return e.exited; });
  if (rolled_back && all_exited) return "rolled_back";
  return "incomplete";
}

RunStats World::stats() const {
  RunStats stats;
  stats.events = history_.events().size();
  stats.sim_time_us = kernel_->now();
  for (const Event& event : history_.events()) {
    if (event.kind == EventKind::fault_start) ++stats.faults_injected;
    if (event.kind == EventKind::lock_acquire && event.outcome == Outcome::ok) ++stats.lock_acquisitions;
    if (event.kind == EventKind::write && event.outcome == Outcome::rejected) ++stats.stale_writes_rejected;
  }
  for (const auto& [region, database] : databases_) stats.rows_backfilled += database->rows_backfilled();
  return stats;
}

RunResult World::run() {
  append(Event{.node = "world", .kind = EventKind::run_start, .detail = scenario_.name, .a = static_cast<std::int64_t>(seed_)});
  Rng starts(seed_, "engine-starts");
  for (auto& instance : engines_) {
    const TimeUs start = starts.uniform(scenario_.engine.start_jitter.low_us, scenario_.engine.start_jitter.high_us);
    kernel_->at(start, [this, &instance] {
      if (instance.node->up()) start_engine(instance);
    });
  }
  faults_->schedule(scenario_.faults);
  kernel_->run_until(scenario_.duration_us);
  append(Event{.node = "world", .kind = EventKind::run_end});

  RunResult result;
  result.scenario = scenario_.name;
  result.seed = seed_;
  result.region_states = region_states();
  result.region_order = region_order_;
  result.outcome = outcome(result.region_states);
  result.stats = stats();
  result.violations = check_mutual_exclusion(history_);
  result.trace_hash = history_.trace_hash_hex();
  result.history = std::move(history_);
  history_ = History();
  return result;
}

RunResult simulate(const Scenario& scenario, std::uint64_t seed, WorldOptions options) {
  Result<MigrationPlan> plan = compile_plan(scenario);
  REHEARSE_ASSERT(plan.is_ok());
  World world(scenario, seed, plan.value(), options);
  return world.run();
}

}  // namespace rehearse::sim
