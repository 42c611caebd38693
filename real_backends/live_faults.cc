// Live faults: signals to engine processes, Redis servers stopped and started, WAL replay
// paused on replicas, a session holding a table lock.
#include "real_backends/live_faults.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/assert.h"
#include "core/topology.h"
#include "real_backends/live_lock.h"
#include "real_backends/live_topology.h"
#include "real_backends/lock_members.h"
#include "real_backends/redis_node.h"
#include "real_backends/tcp_proxy.h"

namespace rehearse::live {

namespace {
constexpr TimeUs kSelfStopWaitUs = 1 * kSec;     // then the runner sends SIGSTOP itself
constexpr int kRedisStartPolls = 100;            // x 50 ms: a restarted server must answer in 5 s
constexpr int kMemberStartWaitMs = 10000;        // a restarted etcd / ZooKeeper member must listen in 10 s
constexpr int kZooKeeperElectionPolls = 150;     // x 100 ms: the others elect a new leader in 15 s
constexpr int kRedisStopPolls = 100;             // x 50 ms: a stopped master must stop answering in 5 s

std::string join(const std::vector<std::string>& names) { return fmt::format("{}", fmt::join(names, ",")); }

std::string describe(const FaultSpec& fault) {
  const std::string target = join(fault.targets);
  switch (fault.kind) {
    case FaultKind::pause: return fmt::format("pause {} for {} ms", target, fault.for_us / kMs);
    case FaultKind::crash:
      return fault.restart_after_us ? fmt::format("crash {}, restart after {} ms", target, *fault.restart_after_us / kMs)
                                    : fmt::format("crash {}", target);
    case FaultKind::replication_lag: return fmt::format("replication_lag {} (WAL replay paused) for {} ms", target, fault.for_us / kMs);
    case FaultKind::long_transaction: return fmt::format("long_transaction on {} for {} ms", target, fault.for_us / kMs);
    case FaultKind::partition:
      return fmt::format("partition {} from {}{} for {} ms", target, fault.from.empty() ? "everyone else" : join(fault.from),
                         fault.oneway ? " (one way)" : "", fault.for_us / kMs);
    case FaultKind::delay: return fmt::format("delay {} by {} ms for {} ms", target, fault.extra_us / kMs, fault.for_us / kMs);
    case FaultKind::drop:
      return fmt::format("drop {:.0f}% of {}'s messages (as connection resets) for {} ms", fault.probability * 100, target, fault.for_us / kMs);
    case FaultKind::failover: return fmt::format("failover of {}", target);  // as sim/faults.cc says it
    default: return fmt::format("{} {}", to_string(fault.kind), target);
  }
}

// engine-N -> N; 0 when `target` names no engine.
int engine_number(const std::string& target) {
  if (target.rfind("engine-", 0) != 0) return 0;
  int number = 0;
  const char* begin = target.data() + 7;
  const char* end = target.data() + target.size();
  auto [stop, error] = std::from_chars(begin, end, number);
  return error == std::errc() && stop == end ? number : 0;
}

// lock -> 1, lock-N -> N; 0 otherwise.
int lock_number(const std::string& target) {
  if (target == "lock") return 1;
  if (target.rfind("lock-", 0) != 0) return 0;
  int number = 0;
  auto [stop, error] = std::from_chars(target.data() + 5, target.data() + target.size(), number);
  return error == std::errc() && stop == target.data() + target.size() ? number : 0;
}

bool loopback(const std::string& host) { return host == "127.0.0.1" || host == "localhost" || host == "::1"; }

bool consensus(LockBackend backend) { return backend == LockBackend::etcd || backend == LockBackend::zookeeper; }

// Every endpoint (etcd URL or ZooKeeper HOST:PORT) on this machine; its port in `port`.
bool loopback_member(const std::string& endpoint, int* port) {
  std::string host;
  return split_host_port(endpoint, &host, port) && loopback(host);
}

// The redis lock servers (1 = lock-1, 2 = lock-2) a fault's names stand for: `lock` and the
// lock's region (core/topology.h lock_region; "" = none) both, `lock-N` that one.
std::vector<int> lock_servers_named(const std::vector<std::string>& names, const std::string& lock_place) {
  std::vector<int> servers;
  for (const auto& name : names) {
    const int number = lock_number(name);
    if (name == "lock" || (!lock_place.empty() && name == lock_place)) {
      servers.insert(servers.end(), {1, 2});
    } else if (number == 1 || number == 2) {
      servers.push_back(number);
    }
  }
  return servers;
}

// Whether a partition puts the redis master (lock-1) and its replica (lock-2) on two sides:
// then the replication link between them is cut (LiveFaults::cut_replication).
bool splits_replication(const FaultSpec& fault, const Scenario& scenario) {
  if (fault.kind != FaultKind::partition || scenario.lock.backend != LockBackend::redis || !scenario.lock.replica) return false;
  const std::string& lock_place = lock_region(scenario);
  const std::vector<int> side = lock_servers_named(fault.targets, lock_place);
  std::vector<int> other = lock_servers_named(fault.from, lock_place);
  auto has = [](const std::vector<int>& servers, int number) { return std::find(servers.begin(), servers.end(), number) != servers.end(); };
  if (fault.from.empty()) {
    for (int number : {1, 2}) {
      if (!has(side, number)) other.push_back(number);
    }
  }
  return (has(side, 1) && has(other, 2)) || (has(side, 2) && has(other, 1));
}

Status refuse(const FaultSpec& fault, const std::string& why) {
  return Status::unavailable(fmt::format("fault at line {} ({}) cannot be made real live: {}", fault.line, describe(fault), why));
}

// One Redis command on a fresh connection; the reply's string (or integer) as text.
Result<std::string> redis_command(const RedisEndpoint& endpoint, const std::vector<std::string>& words) {
  Result<RedisValue> reply = redis_command_once(endpoint, words);
  if (!reply.is_ok()) return reply.status();
  return reply.value().is_integer ? std::to_string(reply.value().integer) : reply.value().text;
}

std::string find_in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string paths = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  paths += ":/usr/bin:/usr/sbin";
  std::size_t start = 0;
  while (start <= paths.size()) {
    const std::size_t end = std::min(paths.find(':', start), paths.size());
    const std::string candidate = paths.substr(start, end - start) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}
}  // namespace

bool kills_itself(const FaultSpec& fault, const std::string& engine) {
  if (fault.kind != FaultKind::crash || !fault.at_phase || fault.at_phase->statement <= 0 || fault.at_phase->after_us != 0) return false;
  return !fault.targets.empty() && (fault.targets.front() == engine || fault.targets.front() == "holder");
}

struct LiveFaults::Active {
  enum class State { waiting, stopping, paused, held, restarting, done };
  FaultSpec spec;
  State state = State::waiting;
  std::string target;
  TimeUs deadline_us = 0;  // stopping: SIGSTOP; paused/held/restarting: end
  EngineProcess* engine = nullptr;
  int lock = 0;
  std::vector<std::string> redis_config;  // crash lock-N: dir, dbfilename, pidfile, logfile
  MemberProcess member;                   // crash lock-N of etcd / ZooKeeper: what starts it again
  std::unique_ptr<pqxx::connection> session;  // long_transaction
  std::unique_ptr<pqxx::work> transaction;
  std::vector<std::string> paused_replicas;  // replication_lag
  int network_id = -1;                       // partition, delay, drop: LiveNetwork::impose()'s id
  bool replication_cut = false;              // a partition that cut the redis replication link
  std::string skipped;                       // why it found nothing to act on when it came
};

namespace {
bool network_fault(FaultKind kind) { return kind == FaultKind::partition || kind == FaultKind::delay || kind == FaultKind::drop; }

// Whether a network fault is aimed at whichever engine holds the lock when it starts.
bool names_the_holder(const FaultSpec& spec) {
  return std::find(spec.targets.begin(), spec.targets.end(), "holder") != spec.targets.end() ||
         std::find(spec.from.begin(), spec.from.end(), "holder") != spec.from.end();
}
}  // namespace

Status check_live_faults(const Scenario& scenario, const std::vector<RegionEndpoints>& regions,
                         const std::vector<std::string>& lock_endpoints) {
  if (scenario.random_faults) return Status::unavailable("random_faults cannot be made real live (list the faults instead)");
  const int engines = scenario.engine.instances;
  for (const FaultSpec& fault : scenario.faults) {
    if (fault.targets.size() != 1 && fault.kind != FaultKind::partition) return refuse(fault, "live faults take exactly one target");
    const std::string& target = fault.targets.front();
    switch (fault.kind) {
      case FaultKind::pause:
        if (target != "holder" && (engine_number(target) < 1 || engine_number(target) > engines)) {
          return refuse(fault, "only engine-N and holder can be paused (SIGSTOP/SIGCONT of the engine process)");
        }
        if (fault.for_us <= 0) return refuse(fault, "a pause needs `for`");
        break;
      case FaultKind::crash: {
        const bool engine = target == "holder" || (engine_number(target) >= 1 && engine_number(target) <= engines);
        const int lock = lock_number(target);
        if (!engine && lock > 0 && scenario.lock.backend == LockBackend::app_database) {
          return refuse(fault, "the app-database lock has no lock nodes: it is a row in the lock region's primary (crash engines; "
                               "a stop of the migrated database is not made real in this build)");
        }
        if (!engine && (lock < 1 || lock > static_cast<int>(lock_endpoints.size()))) {
          return refuse(fault, "only engine-N, holder and lock-N can crash live");
        }
        if (target == "lock" && scenario.lock.backend == LockBackend::redlock) {
          return refuse(fault, "`lock` means every Redlock master; crash them one at a time as lock-N");
        }
        if (target == "lock" && consensus(scenario.lock.backend)) {
          return refuse(fault, fmt::format("`lock` means every {} member; crash them one at a time as lock-N",
                                           scenario.lock.backend == LockBackend::etcd ? "etcd" : "ZooKeeper"));
        }
        if (lock > 0 && consensus(scenario.lock.backend)) {
          int port = 0;
          if (!loopback_member(lock_endpoints[static_cast<std::size_t>(lock - 1)], &port)) {
            return refuse(fault, "only a lock server on this machine can be stopped and started");
          }
        } else if (lock > 0) {
          Result<RedisEndpoint> endpoint = parse_redis_endpoint(lock_endpoints[static_cast<std::size_t>(lock - 1)]);
          if (!endpoint.is_ok() || !loopback(endpoint.value().host)) return refuse(fault, "only a lock server on this machine can be stopped and started");
          if (find_in_path("redis-server").empty()) return refuse(fault, "redis-server is not installed here");
        }
        break;
      }
      case FaultKind::replication_lag: {
        const std::string name = target.rfind("db:", 0) == 0 ? target.substr(3) : target;
        if (region_named(regions, name) == nullptr) return refuse(fault, "the target must be a region");
        if (replicas_delayed_by(scenario, regions, name).empty()) {
          return refuse(fault, fmt::format("region {} has no replica whose replay could pause", name));
        }
        if (fault.for_us <= 0) return refuse(fault, "replication_lag needs `for`");
        break;
      }
      case FaultKind::long_transaction:
        if (target.rfind("db:", 0) != 0 || region_named(regions, target.substr(3)) == nullptr ||
            region_named(regions, target.substr(3))->primary.empty()) {
          return refuse(fault, "the target must be db:REGION (a region's primary)");
        }
        if (fault.for_us <= 0) return refuse(fault, "long_transaction needs `for`");
        break;
      case FaultKind::partition:
      case FaultKind::delay:
      case FaultKind::drop: {
        if (splits_replication(fault, scenario) && fault.oneway) {
          return refuse(fault, "a one-way cut of the Redis replication link is not built (a partition of lock-1 from lock-2 cuts it both ways)");
        }
        const std::string why = network_fault_refusal(fault, scenario, regions, lock_endpoints);
        if (!why.empty()) return refuse(fault, why);
        break;
      }
      case FaultKind::clock_jump:
      case FaultKind::clock_skew:
      case FaultKind::clock_drift: return refuse(fault, "the clocks of this machine are not ours to move");
      case FaultKind::failover: {
        if (scenario.lock.backend == LockBackend::app_database) {
          return refuse(fault, "a failover of the lock's database (its primary promoted to a replica that lost the lock row's last "
                               "update) is not made real: the live regions' primaries are not failed over in this build");
        }
        if (scenario.lock.backend == LockBackend::redis) {
          if (!scenario.lock.replica || lock_endpoints.size() != 2) {
            return refuse(fault, "only the redis lock with `replica: true` (lock.endpoints: [MASTER, REPLICA]) has a replica to promote");
          }
          if (target != "lock" && lock_number(target) != 1 && lock_number(target) != 2) {
            return refuse(fault, "a redis failover's target is lock (or lock-1 / lock-2)");
          }
          for (const auto& text : lock_endpoints) {
            Result<RedisEndpoint> endpoint = parse_redis_endpoint(text);
            if (!endpoint.is_ok() || !loopback(endpoint.value().host)) return refuse(fault, "only lock servers on this machine can fail over (the master is stopped)");
          }
          break;
        }
        const int lock = lock_number(target);
        if (!consensus(scenario.lock.backend)) return refuse(fault, "the local lock servers have no replica to promote");
        if (lock < 1 || lock > static_cast<int>(lock_endpoints.size())) {
          return refuse(fault, "failover applies to the lock service (`lock` or its nodes lock-N)");
        }
        if (scenario.lock.backend == LockBackend::zookeeper) {  // the leader is restarted: it must be ours
          for (const std::string& endpoint : lock_endpoints) {
            int port = 0;
            if (!loopback_member(endpoint, &port)) return refuse(fault, "a ZooKeeper failover restarts the leader: every member must be on this machine");
          }
        }
        break;
      }
    }
  }
  return Status::ok();
}

LiveFaults::LiveFaults(LiveFaultContext context) : context_(std::move(context)) {
  for (const FaultSpec& spec : context_.scenario.faults) {
    auto fault = std::make_unique<Active>();
    fault->spec = spec;
    fault->target = spec.targets.front();
    faults_.push_back(std::move(fault));
  }
}

LiveFaults::~LiveFaults() { heal_all(); }

void LiveFaults::log(const std::string& line) {
  if (context_.log != nullptr) *context_.log << line << "\n" << std::flush;
}

void LiveFaults::record(Active& fault, EventKind kind, const std::string& detail) {
  if (kind == EventKind::fault_skipped) {
    const std::string prefix = describe(fault.spec) + ": ";
    fault.skipped = detail.rfind(prefix, 0) == 0 ? detail.substr(prefix.size()) : detail;
  }
  context_.history.append(Event{.node = fault.target, .kind = kind,
                                .outcome = kind == EventKind::fault_skipped ? Outcome::skipped : Outcome::none,
                                .detail = detail, .a = fault.spec.line});
}

std::vector<UnfiredFault> LiveFaults::not_fired() const {
  std::vector<UnfiredFault> missed;
  for (const auto& fault : faults_) {
    std::string why = fault->skipped;
    if (fault->state == Active::State::waiting) {
      const auto& phase = fault->spec.at_phase;
      const bool never_reached = phase && context_.history.first_phase_us(trigger_phase(*phase), phase->region) < 0;
      why = !never_reached ? "the run ended before it was due" : phase->statement > 0 ? "statement never reached" : "phase never reached";
    }
    if (!why.empty()) missed.push_back(UnfiredFault{describe(fault->spec), describe_trigger(fault->spec), why});
  }
  return missed;
}

bool LiveFaults::restart_pending() const {
  for (const auto& fault : faults_) {
    if (fault->state == Active::State::restarting) return true;
  }
  return false;
}

void LiveFaults::tick() {
  const TimeUs now = context_.history.elapsed_us();
  for (auto& owned : faults_) {
    Active& fault = *owned;
    switch (fault.state) {
      case Active::State::waiting: {
        TimeUs due = fault.spec.at_us;
        if (fault.spec.at_phase) {
          const TimeUs entered = context_.history.first_phase_us(trigger_phase(*fault.spec.at_phase), fault.spec.at_phase->region);
          due = entered < 0 ? -1 : entered + fault.spec.at_phase->after_us;
        }
        if (due >= 0 && now >= due) start(fault);
        break;
      }
      case Active::State::stopping:
        fault.engine->poll();
        if (fault.engine->exited()) {
          fault.state = Active::State::done;
          fault.skipped = "the engine exited before it stopped";
          record(fault, EventKind::fault_end, describe(fault.spec) + ": the engine exited before it stopped");
        } else if (fault.engine->stopped()) {
          context_.history.append(Event{.node = fmt::format("engine-{}", fault.engine->instance()), .kind = EventKind::node_pause});
          log(fmt::format("fault: engine-{} stopped (SIGSTOP) for {} ms", fault.engine->instance(), fault.spec.for_us / kMs));
          fault.deadline_us = now + fault.spec.for_us;
          fault.state = Active::State::paused;
        } else if (now >= fault.deadline_us) {
          fault.engine->send(SIGUSR2);  // cancels the request: the stop comes from outside now
          fault.engine->send(SIGSTOP);
        }
        break;
      case Active::State::paused:
      case Active::State::held:
      case Active::State::restarting:
        if (now >= fault.deadline_us) finish(fault);
        break;
      case Active::State::done: break;
    }
  }
}

void LiveFaults::start_faults_at_zero() {
  for (auto& owned : faults_) {
    Active& fault = *owned;
    const FaultSpec& spec = fault.spec;
    if (fault.state == Active::State::waiting && !spec.at_phase && spec.at_us <= 0 && !names_the_holder(spec) &&
        (network_fault(spec.kind) || spec.kind == FaultKind::long_transaction)) {
      start(fault);
    }
  }
}

void LiveFaults::start(Active& fault) {
  const TimeUs now = context_.history.elapsed_us();
  const FaultSpec& spec = fault.spec;
  ++injected_;
  fault.state = Active::State::done;
  if (network_fault(spec.kind)) return start_network(fault);
  if (spec.kind == FaultKind::failover) {
    return context_.scenario.lock.backend == LockBackend::redis ? start_redis_failover(fault) : start_consensus_failover(fault);
  }
  if (spec.kind == FaultKind::pause || (spec.kind == FaultKind::crash && lock_number(fault.target) == 0)) {
    int number = engine_number(fault.target);
    if (fault.target == "holder") number = holder_engine();
    EngineProcess* engine = number >= 1 && number <= static_cast<int>(context_.engines.size())
                                ? context_.engines[static_cast<std::size_t>(number - 1)].get()
                                : nullptr;
    // An engine that killed itself at the fault's statement (kills_itself) has exited already.
    const bool self_killed = engine != nullptr && spec.kind == FaultKind::crash && engine->exited() &&
                             engine->exit_code() == 128 + SIGKILL && kills_itself(spec, fmt::format("engine-{}", number));
    if (engine == nullptr || !(engine->running() || self_killed)) {
      record(fault, EventKind::fault_skipped, describe(spec) + ": no such engine running now");
      return;
    }
    fault.engine = engine;
    record(fault, EventKind::fault_start, fmt::format("{} [engine-{}]", describe(spec), number));
    if (spec.kind == FaultKind::pause) {
      fault.engine->send(fault.engine->ready() ? SIGUSR1 : SIGSTOP);  // stop at the next protected write
      fault.deadline_us = now + kSelfStopWaitUs;
      fault.state = Active::State::stopping;
      return;
    }
    fault.engine->send(SIGKILL);
    fault.engine->send(SIGCONT);
    fault.engine->reap(1000);
    context_.history.append(Event{.node = fmt::format("engine-{}", number), .kind = EventKind::node_crash});
    log(fmt::format("fault: engine-{} killed (SIGKILL)", number));
    if (spec.restart_after_us) {
      fault.deadline_us = now + *spec.restart_after_us;
      fault.state = Active::State::restarting;
    }
    last_end_us_ = std::max(last_end_us_, spec.restart_after_us ? now + *spec.restart_after_us : context_.scenario.duration_us);
    return;
  }
  if (spec.kind == FaultKind::crash && consensus(context_.scenario.lock.backend)) {  // an etcd / ZooKeeper member
    fault.lock = lock_number(fault.target);
    int port = 0;
    std::string host;
    split_host_port(context_.lock_endpoints[static_cast<std::size_t>(fault.lock - 1)], &host, &port);
    Result<MemberProcess> stopped = stop_member(port);
    if (!stopped.is_ok()) {
      record(fault, EventKind::fault_skipped, describe(spec) + ": " + stopped.status().message());
      return;
    }
    fault.member = stopped.value();
    record(fault, EventKind::fault_start, describe(spec));
    context_.history.append(Event{.node = fmt::format("lock-{}", fault.lock), .kind = EventKind::node_crash});
    log(fmt::format("fault: lock-{} stopped (SIGTERM of the member on port {})", fault.lock, port));
    if (spec.restart_after_us) {
      fault.deadline_us = now + *spec.restart_after_us;
      fault.state = Active::State::restarting;
    }
    last_end_us_ = std::max(last_end_us_, spec.restart_after_us ? now + *spec.restart_after_us : context_.scenario.duration_us);
    return;
  }
  if (spec.kind == FaultKind::crash) {  // a lock server
    fault.lock = lock_number(fault.target);
    const RedisEndpoint endpoint = parse_redis_endpoint(context_.lock_endpoints[static_cast<std::size_t>(fault.lock - 1)]).value();
    for (const char* name : {"dir", "dbfilename", "pidfile", "logfile"}) {
      Result<std::string> value = redis_command(endpoint, {"CONFIG", "GET", name});
      fault.redis_config.push_back(value.is_ok() ? value.value() : "");
    }
    // SHUTDOWN answers by closing the connection: its result says nothing (ignored on purpose).
    (void)redis_command(endpoint, {"SHUTDOWN", context_.scenario.lock.persistence ? "SAVE" : "NOSAVE"});
    if (fault.redis_config.front().empty()) {
      record(fault, EventKind::fault_skipped, describe(spec) + ": the server could not be reached");
      return;
    }
    record(fault, EventKind::fault_start, describe(spec));
    context_.history.append(Event{.node = fmt::format("lock-{}", fault.lock), .kind = EventKind::node_crash});
    log(fmt::format("fault: lock-{} stopped", fault.lock));
    if (spec.restart_after_us) {
      fault.deadline_us = now + *spec.restart_after_us;
      fault.state = Active::State::restarting;
    }
    last_end_us_ = std::max(last_end_us_, spec.restart_after_us ? now + *spec.restart_after_us : context_.scenario.duration_us);
    return;
  }
  const std::string region_name = fault.target.rfind("db:", 0) == 0 ? fault.target.substr(3) : fault.target;
  const RegionEndpoints& region = *region_named(context_.regions, region_name);
  try {
    if (spec.kind == FaultKind::replication_lag) {
      for (const auto& replica : replicas_delayed_by(context_.scenario, context_.regions, region_name)) {
        pqxx::connection connection(replica + " connect_timeout=3");
        pqxx::nontransaction(connection).exec("SELECT pg_wal_replay_pause()");
        fault.paused_replicas.push_back(replica);
      }
    } else {
      fault.session = std::make_unique<pqxx::connection>(region.primary + " connect_timeout=3");
      fault.transaction = std::make_unique<pqxx::work>(*fault.session);
      // A long transaction as the simulator has it (a report's long query, a session idle in a
      // transaction): ACCESS SHARE on the table and a snapshot older than what comes after it, so
      // that CREATE INDEX CONCURRENTLY waits for it (WaitForOlderSnapshots) as it does in the
      // simulator. In READ COMMITTED an idle transaction keeps no snapshot and would not be waited for.
      const std::string table = fault.session->quote_name(context_.scenario.table.name);
      fault.transaction->exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
      fault.transaction->exec("LOCK TABLE " + table + " IN ACCESS SHARE MODE");
      fault.transaction->exec("SELECT 1 FROM " + table + " LIMIT 1");
    }
  } catch (const std::exception& error) {
    record(fault, EventKind::fault_skipped, describe(spec) + ": " + redact(error.what()));
    fault.transaction.reset();
    fault.session.reset();
    finish(fault);
    return;
  }
  record(fault, EventKind::fault_start, describe(spec));
  log("fault: " + describe(spec));
  fault.deadline_us = now + spec.for_us;
  fault.state = Active::State::held;
  last_end_us_ = std::max(last_end_us_, fault.deadline_us);
}

// The engine the lock store names as holder now (its value is "engine-N:..."), or 0.
int LiveFaults::holder_engine() const {
  Result<std::string> value = current_holder(context_.scenario.lock.backend,
                                             lock_store_endpoints(context_.scenario, context_.regions, context_.lock_endpoints),
                                             context_.lock_key, context_.scenario.lock.replica);
  return value.is_ok() ? engine_number(value.value().substr(0, value.value().find(':'))) : 0;
}

// A partition, delay or drop: the links it names are cut or impaired at their proxies until
// `for` has passed. `holder` is the engine the lock store names now.
void LiveFaults::start_network(Active& fault) {
  const FaultSpec& spec = fault.spec;
  REHEARSE_ASSERT(context_.network != nullptr);  // run_live starts the proxies for every network fault
  const bool names_holder = names_the_holder(spec);
  std::string holder;
  if (names_holder) {
    const int number = holder_engine();
    if (number < 1 || number > static_cast<int>(context_.engines.size())) {
      record(fault, EventKind::fault_skipped, describe(spec) + ": no engine holds the lock now");
      return;
    }
    holder = fmt::format("engine-{}", number);
  }
  std::vector<std::string> links;
  if (splits_replication(spec, context_.scenario)) {
    Result<std::string> cut = cut_replication();
    if (cut.is_ok()) {
      fault.replication_cut = true;
      links.push_back(cut.value());
    } else {
      log("fault: the replication link was not cut: " + cut.status().message());
    }
  }
  fault.network_id = context_.network->impose(spec, holder, links);
  if (fault.network_id < 0 && !fault.replication_cut) {
    record(fault, EventKind::fault_skipped, describe(spec) + ": no traffic flows between these nodes");
    return;
  }
  const std::string applied = fmt::format("{}{} [{}]", describe(spec), holder.empty() ? "" : " [holder = " + holder + "]", join(links));
  record(fault, EventKind::fault_start, applied);
  log("fault: " + applied);
  const TimeUs now = context_.history.elapsed_us();
  fault.deadline_us = now + spec.for_us;
  fault.state = Active::State::held;
  last_end_us_ = std::max(last_end_us_, fault.deadline_us);
}

// The lock service's own failover, as the simulator's (docs/lock-backends.md): the leader steps
// down and another member leads. etcd: leadership moves to the next member (transfer-leadership);
// ZooKeeper: the leader is stopped, the other two elect a new leader, the old one is started
// again (it rejoins as a follower). Recorded as fault_start "failover of T: what happened".
void LiveFaults::start_consensus_failover(Active& fault) {
  const FaultSpec& spec = fault.spec;
  const std::vector<std::string>& members = context_.lock_endpoints;
  if (context_.scenario.lock.backend == LockBackend::etcd) {
    Result<std::string> moved = etcd_move_leader(members);
    if (!moved.is_ok()) {
      record(fault, EventKind::fault_skipped, describe(spec) + ": " + moved.status().message());
      return;
    }
    record(fault, EventKind::fault_start, describe(spec) + ": " + moved.value());
    log("fault: " + describe(spec) + ": " + moved.value());
    last_end_us_ = std::max(last_end_us_, context_.history.elapsed_us());
    return;
  }
  std::vector<int> ports(members.size(), 0);
  std::size_t leader = members.size();
  for (std::size_t i = 0; i < members.size(); ++i) {
    std::string host;
    split_host_port(members[i], &host, &ports[i]);
    Result<std::string> mode = zookeeper_mode(ports[i]);
    if (mode.is_ok() && mode.value() == "leader") leader = i;
  }
  if (leader == members.size()) {
    record(fault, EventKind::fault_skipped, describe(spec) + ": the ZooKeeper ensemble has no leader to fail over");
    return;
  }
  const std::string old_leader = fmt::format("lock-{}", leader + 1);
  std::size_t others_serving = 0;  // without a majority among them, none can be elected: no wait
  for (std::size_t i = 0; i < members.size(); ++i) others_serving += i != leader && zookeeper_mode(ports[i]).is_ok() ? 1 : 0;
  const bool can_elect = others_serving * 2 > members.size();
  Result<MemberProcess> stopped = stop_member(ports[leader]);
  if (!stopped.is_ok()) {
    record(fault, EventKind::fault_skipped, describe(spec) + ": " + stopped.status().message());
    return;
  }
  context_.history.append(Event{.node = old_leader, .kind = EventKind::node_crash, .detail = "the leader, stopped for the failover"});
  std::size_t elected = members.size();
  for (int poll = 0; can_elect && poll < kZooKeeperElectionPolls && elected == members.size(); ++poll) {
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i == leader) continue;
      Result<std::string> mode = zookeeper_mode(ports[i]);
      if (mode.is_ok() && mode.value() == "leader") elected = i;
    }
    if (elected == members.size()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const Status started = start_member(stopped.value(), kMemberStartWaitMs);
  context_.history.append(Event{.node = old_leader, .kind = EventKind::node_restart, .detail = started.is_ok() ? "" : started.message()});
  std::string what = fmt::format("{} (the leader) was restarted; lock-{} was elected leader", old_leader, elected + 1);
  if (!can_elect) {
    what = fmt::format("{} (the leader) was restarted at once: only {} of the other {} members serve, too few to elect a leader",
                       old_leader, others_serving, members.size() - 1);
  } else if (elected == members.size()) {
    what = fmt::format("{} (the leader) was restarted; no other member led within 15 s", old_leader);
  }
  record(fault, EventKind::fault_start, describe(spec) + ": " + what);
  log("fault: " + describe(spec) + ": " + what);
  last_end_us_ = std::max(last_end_us_, context_.history.elapsed_us());
}

void LiveFaults::finish(Active& fault) {
  const FaultSpec& spec = fault.spec;
  const Active::State was = fault.state;
  fault.state = Active::State::done;
  if (spec.kind == FaultKind::pause && (was == Active::State::paused || was == Active::State::stopping)) {
    fault.engine->send(SIGUSR2);
    fault.engine->send(SIGCONT);
    context_.history.append(Event{.node = fmt::format("engine-{}", fault.engine->instance()), .kind = EventKind::node_resume});
    log(fmt::format("fault: engine-{} continued (SIGCONT)", fault.engine->instance()));
  } else if (spec.kind == FaultKind::crash && was == Active::State::restarting && fault.engine != nullptr) {
    Status started = context_.relaunch(*fault.engine);
    context_.history.append(Event{.node = fmt::format("engine-{}", fault.engine->instance()), .kind = EventKind::node_restart,
                                  .detail = started.is_ok() ? "" : started.message()});
    log(fmt::format("fault: engine-{} restarted (incarnation {})", fault.engine->instance(), fault.engine->incarnation()));
  } else if (spec.kind == FaultKind::crash && was == Active::State::restarting && fault.member.port > 0) {
    const Status started = start_member(fault.member, kMemberStartWaitMs);
    context_.history.append(Event{.node = fmt::format("lock-{}", fault.lock), .kind = EventKind::node_restart,
                                  .detail = started.is_ok() ? "" : started.message()});
    log(fmt::format("fault: lock-{} {}", fault.lock, started.is_ok() ? "started again" : started.message()));
  } else if (spec.kind == FaultKind::crash && was == Active::State::restarting && fault.lock > 0) {
    const RedisEndpoint endpoint = parse_redis_endpoint(context_.lock_endpoints[static_cast<std::size_t>(fault.lock - 1)]).value();
    const auto& config = fault.redis_config;
    std::vector<std::string> argv{find_in_path("redis-server"), "--port", std::to_string(endpoint.port), "--bind", endpoint.host,
                                  "--daemonize", "yes", "--dir", config[0], "--save", "", "--appendonly", "no"};
    const std::vector<std::pair<const char*, std::size_t>> optional{{"--dbfilename", 1}, {"--pidfile", 2}, {"--logfile", 3}};
    for (const auto& [flag, index] : optional) {
      if (config[index].empty()) continue;
      argv.push_back(flag);
      argv.push_back(config[index]);
    }
    const pid_t pid = spawn_process(argv, -1, -1);
    int status = 0;
    if (pid > 0) ::waitpid(pid, &status, 0);  // the daemonising parent exits at once
    bool answered = false;
    for (int poll = 0; poll < kRedisStartPolls && !answered; ++poll) {
      answered = redis_command(endpoint, {"PING"}).is_ok();
      if (!answered) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    context_.history.append(Event{.node = fmt::format("lock-{}", fault.lock), .kind = EventKind::node_restart,
                                  .detail = answered ? "" : "did not answer after restart"});
    log(fmt::format("fault: lock-{} {}", fault.lock, answered ? "started again" : "did not start again"));
  } else if (spec.kind == FaultKind::replication_lag) {
    for (const auto& replica : fault.paused_replicas) {
      try {
        pqxx::connection connection(replica + " connect_timeout=3");
        pqxx::nontransaction(connection).exec("SELECT pg_wal_replay_resume()");
      } catch (const std::exception& error) {
        log("fault: could not resume WAL replay: " + redact(error.what()));
      }
    }
    fault.paused_replicas.clear();
  } else if (network_fault(spec.kind) && (fault.network_id >= 0 || fault.replication_cut)) {
    if (fault.network_id >= 0) context_.network->lift(fault.network_id);
    fault.network_id = -1;
    if (fault.replication_cut) heal_replication(false);
    fault.replication_cut = false;
    log("fault: healed " + describe(spec));
  } else if (spec.kind == FaultKind::long_transaction && fault.transaction) {
    try {
      fault.transaction->abort();
    } catch (const std::exception&) {
      // The session is closed below anyway; its locks go with it (ignored on purpose).
    }
    fault.transaction.reset();
    fault.session.reset();
  }
  if (was != Active::State::waiting && was != Active::State::done) {
    last_end_us_ = std::max(last_end_us_, context_.history.elapsed_us());
    record(fault, EventKind::fault_end, describe(spec));
  }
}

void LiveFaults::heal_all() {
  for (auto& fault : faults_) {
    if (fault->state == Active::State::restarting && fault->engine != nullptr) {
      fault->state = Active::State::done;  // the run is over: a crashed engine stays down
      record(*fault, EventKind::fault_end, describe(fault->spec) + " (the run ended before the restart)");
      continue;
    }
    if (fault->state != Active::State::waiting && fault->state != Active::State::done) finish(*fault);
  }
  heal_replication(true);
}

namespace {
// ROLE of a redis endpoint ("master", "slave"), or the error as text.
std::string role_of(const std::string& text) {
  Result<RedisValue> role = redis_command_once(parse_redis_endpoint(text).value(), {"ROLE"});
  if (!role.is_ok()) return role.status().message();
  return role.value().first;
}

// The integer a key holds (the token counter), 0 when it is absent or unreadable.
std::int64_t counter_at(const std::string& text, const std::string& key) {
  Result<RedisValue> value = redis_command_once(parse_redis_endpoint(text).value(), {"GET", key});
  return value.is_ok() && !value.value().nil ? std::atoll(value.value().text.c_str()) : 0;
}
}  // namespace

// Points the replica at a proxy of ours whose link is cut both ways: REPLICAOF keeps the replica's
// dataset until a sync with the new master completes, which cannot happen while the link is cut,
// so it stays a read-only replica holding what it had received -- as the simulated replica
// behind a partition. Nothing it is sent is lost at the heal (heal_replication re-points it at
// the master, which continues the stream from its backlog).
Result<std::string> LiveFaults::cut_replication() {
  const auto& endpoints = context_.lock_endpoints;
  REHEARSE_ASSERT(endpoints.size() == 2);
  if (replication_proxy_ != nullptr) {
    ++replication_cuts_;
    return fmt::format("lock-{}<->lock-{} (replication, already cut)", replication_replica_ + 1, 2 - replication_replica_);
  }
  const std::string first = role_of(endpoints[0]);
  const std::string second = role_of(endpoints[1]);
  if (!((first == "master" && second == "slave") || (first == "slave" && second == "master"))) {
    return Status::unavailable(fmt::format("no master and replica to cut apart (ROLE: lock-1 {}, lock-2 {})", first, second));
  }
  const std::size_t replica = first == "slave" ? 0 : 1;
  const RedisEndpoint master = parse_redis_endpoint(endpoints[1 - replica]).value();
  Result<std::unique_ptr<TcpProxy>> proxy = TcpProxy::start(fmt::format("lock-{}->lock-{}", replica + 1, 2 - replica), master.host,
                                                            master.port, context_.scenario.seed);
  if (!proxy.is_ok()) return proxy.status();
  proxy.value()->cut(ProxyDirection::both);
  Result<RedisValue> pointed = redis_command_once(parse_redis_endpoint(endpoints[replica]).value(),
                                                  {"REPLICAOF", "127.0.0.1", std::to_string(proxy.value()->port())});
  if (!pointed.is_ok()) return pointed.status();
  replication_proxy_ = std::move(proxy.value());
  replication_master_ = endpoints[1 - replica];
  replication_replica_ = replica;
  replication_cuts_ = 1;
  log(fmt::format("fault: replication lock-{} -> lock-{} cut (the replica follows a held proxy)", 2 - replica, replica + 1));
  return fmt::format("lock-{}<->lock-{} (replication)", replica + 1, 2 - replica);
}

// The last cut healed (or `all`: the run is over): the replica, if it still is one, follows its
// master directly again. After a failover there is nothing to restore (the replica is the master).
void LiveFaults::heal_replication(bool all) {
  if (replication_proxy_ == nullptr) return;
  if (!all && --replication_cuts_ > 0) return;
  const std::string& replica = context_.lock_endpoints[replication_replica_];
  if (role_of(replica) == "slave") {
    const RedisEndpoint master = parse_redis_endpoint(replication_master_).value();
    Result<RedisValue> pointed = redis_command_once(parse_redis_endpoint(replica).value(),
                                                    {"REPLICAOF", master.host, std::to_string(master.port)});
    log(fmt::format("fault: replication to lock-{} {}", replication_replica_ + 1,
                    pointed.is_ok() ? "restored" : "not restored: " + pointed.status().message()));
  }
  replication_proxy_.reset();
  replication_cuts_ = 0;
}

// The redis failover of docs/lock-backends.md made real: the master (the endpoint answering ROLE
// master) is stopped (SHUTDOWN NOSAVE: what it did not replicate is gone, as with a crashed
// master) and the replica is promoted (REPLICAOF NO ONE) with whatever it had received. The
// engines' clients find it at their next request (ROLE). Recorded as the simulator records it:
// fault_start "failover of lock: lock-2 promoted: ..." ("tokens go backwards" when the promoted
// counter is below the old master's), the old master's node_crash and the promoted node's message.
void LiveFaults::start_redis_failover(Active& fault) {
  const auto& endpoints = context_.lock_endpoints;
  REHEARSE_ASSERT(endpoints.size() == 2);
  const std::string first = role_of(endpoints[0]);
  const std::string second = role_of(endpoints[1]);
  if (!((first == "master" && second == "slave") || (first == "slave" && second == "master"))) {
    record(fault, EventKind::fault_skipped,
           fmt::format("{}: no replica to promote (ROLE: lock-1 {}, lock-2 {})", describe(fault.spec), first, second));
    return;
  }
  const std::size_t old = first == "master" ? 0 : 1;
  const std::size_t promoted = 1 - old;
  const std::string old_name = fmt::format("lock-{}", old + 1);
  const std::string promoted_name = fmt::format("lock-{}", promoted + 1);
  const std::string token_key = context_.lock_key + ":token";
  const std::int64_t old_counter = counter_at(endpoints[old], token_key);
  const RedisEndpoint old_endpoint = parse_redis_endpoint(endpoints[old]).value();
  const RedisEndpoint promoted_endpoint = parse_redis_endpoint(endpoints[promoted]).value();
  // SHUTDOWN answers by closing the connection: its result says nothing (ignored on purpose).
  (void)redis_command_once(old_endpoint, {"SHUTDOWN", "NOSAVE"});
  bool stopped = false;
  for (int poll = 0; poll < kRedisStopPolls && !stopped; ++poll) {
    stopped = !redis_command_once(old_endpoint, {"PING"}).is_ok();
    if (!stopped) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  context_.history.append(Event{.node = old_name, .kind = EventKind::node_crash, .detail = stopped ? "stopped for the failover"
                                                                                               : "still answers after SHUTDOWN"});
  // What the promoted node holds is read while it is still a replica: read-only, its master
  // stopped, nothing can change it. Read after the promotion, an engine polling for the lock could
  // already have taken the key on the new master and the record would describe that instead.
  Result<RedisValue> key = redis_command_once(promoted_endpoint, {"GET", context_.lock_key});
  const std::int64_t counter = counter_at(endpoints[promoted], token_key);
  Result<RedisValue> promotion = redis_command_once(promoted_endpoint, {"REPLICAOF", "NO", "ONE"});
  if (replication_proxy_ != nullptr) {  // the cut link leads nowhere now
    replication_proxy_.reset();
    replication_cuts_ = 0;
  }
  if (!promotion.is_ok()) {
    record(fault, EventKind::fault_skipped, fmt::format("{}: {} not promoted: {}", describe(fault.spec), promoted_name,
                                                        promotion.status().message()));
    return;
  }
  const std::string holder = key.is_ok() && !key.value().nil ? "held by " + key.value().text.substr(0, key.value().text.rfind(':')) : "free";
  std::string detail = fmt::format("{} promoted: the key is {}, the token counter is {}", promoted_name, holder, counter);
  if (counter < old_counter) detail += fmt::format(" (it was {} on {}: tokens go backwards)", old_counter, old_name);
  context_.history.append(Event{.node = promoted_name, .kind = EventKind::message, .detail = detail});
  record(fault, EventKind::fault_start, fmt::format("{}: {}", describe(fault.spec), detail));
  log(fmt::format("fault: {} stopped; {}", old_name, detail));
  last_end_us_ = std::max(last_end_us_, context_.history.elapsed_us());
}

}  // namespace rehearse::live
