// The simulated world of one run: it builds the nodes of a scenario's topology (engines, the
// lock store, each region's primary, replicas and application servers), the network, the
// databases and the lock store; starts the engine instances with the real core::Engine; lets
// the fault injector break things on schedule; and returns the judged RunResult.
//
// A run is a pure function of (scenario, seed, build): everything random comes from streams of
// the seed, and time is virtual.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/history.h"
#include "core/model.h"
#include "core/plan.h"
#include "core/run_result.h"
#include "core/observations.h"
#include "sim/app.h"
#include "sim/buggify.h"
#include "sim/database.h"
#include "sim/kernel.h"
#include "sim/lock_service.h"
#include "sim/network.h"

namespace rehearse::sim {

class FaultInjector;

// Knobs for tests that need a deliberately broken world; scenarios never set them.
struct WorldOptions {
  bool store_ignores_tokens = false;  // databases accept stale tokens under storage fencing
  // Every database starts holding this checkpoint, as left by an earlier run (tests: one of
  // another plan under the same migration name).
  std::optional<Checkpoint> prior_checkpoint;
  // With `buggify: true`: the chance each fault site is switched on (tests use 1 for all).
  double buggify_site_probability = kSiteEnableProbability;
  // Observations::request_latencies: every application request's latency (rehearse conform).
  bool keep_request_latencies = false;
  // How long a commit's WAL waits on its primary before it ships (synchronous_commit = off: the
  // WAL writer's rounds); rehearse conform sets it from the live servers.
  DurationRange commit_flush{0, 0};
  // The cores of one host every simulated database shares (sim/cpu_host.h); 0: none, each
  // statement runs at its profile cost. rehearse conform sets it when the live servers share
  // the machine it runs on.
  int host_cores = 0;
  // That host's load besides the simulated statements, in cores (sim/cpu_host.h): conform
  // measures it in the live run.
  double host_background_cores = 0.0;
  // How long after its start time (the scenario's start_jitter draw) each engine process begins:
  // rehearse conform sets the live run's measured launch (a process started, its configuration
  // read, its connections opened), so that a fault timed from the run's start meets the same
  // part of the migration in both worlds. 0 (every other run): at once.
  TimeUs engine_launch_us = 0;
  // The application as live traffic runs it (real_backends/live_traffic.h), which rehearse
  // conform sets: this many connections per kind (writes, reads) and region, a request due while
  // all are busy waiting for one (its latency counts from its due time; past the client timeout
  // it fails unsent), and the client timeout sent as statement_timeout, so the server cancels a
  // statement still waiting at it. 0 (every other run): a connection per request, and a
  // statement the client gave up on still runs when its locks come.
  int app_connections = 0;
  // Every replica read event by event, even in a world no fault can touch, where they are
  // otherwise computed whole (sim/app.h, AppServer::compute_replica_reads_whole): tests compare
  // the two.
  bool exact_reads = false;
  // Every write's reply as an event of its own in such a world too, where it is otherwise
  // computed whole (AppServer::compute_write_replies_whole): tests compare the two.
  bool exact_replies = false;
};

class World {
 public:
  World(const Scenario& scenario, std::uint64_t seed, MigrationPlan plan, WorldOptions options = {});
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // Runs the scenario to its end (all engines done, or `duration`), then judges the history.
  RunResult run();

  // A region's database, for tests that inspect the data after run().
  const SimDatabase* database(const std::string& region) const {
    auto it = databases_.find(region);
    return it == databases_.end() ? nullptr : it->second.get();
  }
  // The database a node belongs to (its primary or one of its replicas, or a region name's; in
  // a global topology every replica's is the home primary's), or nullptr.
  SimDatabase* database_of(const Node& node);
  // Global topology: a replica node's number in the home database (1-based); 0 for any other
  // node and in per-region mode.
  int global_replica_number(const Node& node) const;
  const Observations& observations() const { return observations_; }

  // For the fault injector.
  Kernel& kernel() { return *kernel_; }
  Network& network() { return *network_; }
  // Every replica the network now cuts off from its primary's WAL (primary -> replica) is held
  // until `until_us` (SimDatabase::cut_replica): called when a partition starts.
  void cut_replication(TimeUs until_us);
  const Scenario& scenario() const { return scenario_; }
  // The nodes a fault target names (see scenario-format.md, "Node names"); empty when the
  // target is `holder` and nobody holds the lock.
  std::vector<Node*> resolve(const std::string& target);
  std::vector<Node*> all_nodes();
  // `failover` of the lock service named by `nodes` (docs/lock-backends.md).
  FailoverOutcome failover_lock(const std::vector<Node*>& nodes);
  // Crashes `node`; restarts it after `restart_after_us` when given (a Redlock master with
  // delayed_restart stays down for at least a TTL).
  void crash(Node& node, std::optional<TimeUs> restart_after_us);
  // Appends an event stamped with the current true time.
  void append(Event event);

 private:
  struct Process;
  struct EngineInstance {
    int index = 0;
    Node* node = nullptr;
    std::unique_ptr<Process> process;
    int incarnations = 0;
    bool started = false;
    bool exited = false;
    bool restart_pending = false;
    EngineExit exit = EngineExit::gave_up;
  };

  bool global() const { return scenario_.topology.mode == TopologyMode::global; }
  const std::string& writer_of(const std::string& region) const;
  void build_nodes();
  void number_replicas();
  void build_stores();
  std::vector<std::string> lock_node_regions() const;
  void build_lock_service();
  void build_applications();
  void observe(const Event& event);
  void probe_lease(const Event& event);
  void snapshot(const std::string& region, const std::string& moment, std::uint64_t event_id);
  void deploy_if_due(const std::string& region, const Event& event);
  void deploy_region_if_due(const std::string& region, const Event& event);
  void start_engine(EngineInstance& instance);
  void finish_if_done();
  std::map<std::string, std::string> region_states() const;
  std::string outcome(const std::map<std::string, std::string>& states) const;
  RunStats stats() const;
  void fill_observations(const RunResult& result);
  void sample();

  Scenario scenario_;
  std::uint64_t seed_;
  MigrationPlan plan_;
  WorldOptions options_;
  std::vector<std::string> region_order_;
  // The texts the run generates (its tables' data, its application's writes): declared before
  // every member holding one, so that it outlives them. Its observations keep it too.
  std::shared_ptr<TextArena> texts_ = std::make_shared<TextArena>();
  History history_;
  std::unique_ptr<Kernel> kernel_;
  std::unique_ptr<CpuHost> cpu_host_;  // options_.host_cores > 0: the host the databases share
  std::unique_ptr<Network> network_;
  std::vector<Node*> lock_nodes_;
  std::map<std::string, Node*> primaries_;
  std::map<std::string, std::unique_ptr<SimDatabase>> databases_;  // by region (global: the home only)
  // Per database region: its replicas' node names in the database's numbering, and the
  // cross-region shipping delay of each (global topology). Per region of the topology: the
  // numbers of the replicas placed there in their database.
  std::map<std::string, std::vector<std::string>> replica_names_;
  std::map<std::string, std::vector<DurationRange>> replica_transit_;
  std::map<std::string, std::vector<int>> replica_numbers_;
  std::unique_ptr<LockService> lock_service_;
  std::vector<EngineInstance> engines_;
  // Per region its application servers: one per table with traffic, the first table's first.
  std::map<std::string, std::vector<std::unique_ptr<AppServer>>> applications_;
  Observations observations_;
  std::vector<MetricSample> samples_;
  std::map<std::string, TimeUs> last_lease_refresh_us_;  // engine node -> last ok acquire/renew
  std::unique_ptr<FaultInjector> faults_;
  // The health gate's view of the application (core/ports.h): a region's servers' finished and
  // failed requests so far, read as a monitoring system would (no message, no delay).
  class Monitor final : public ApplicationMonitor {
   public:
    explicit Monitor(const World& world) : world_(world) {}
    Result<RequestCounts> requests(const std::string& region) override;

   private:
    const World& world_;
  };
  Monitor monitor_{*this};
};

// Loads nothing and checks nothing: runs `scenario` with `seed` in a fresh world and returns
// the judged result (the entry point of `rehearse run`). REQUIRES: the scenario validated.
RunResult simulate(const Scenario& scenario, std::uint64_t seed, WorldOptions options = {});
// The same with the scenario's plan compiled once by the caller (compile_plan(scenario)): a sweep
// compiles it once for all its seeds. `plan` is only read (threads may share it).
RunResult simulate(const Scenario& scenario, const MigrationPlan& plan, std::uint64_t seed, WorldOptions options = {});

}  // namespace rehearse::sim
