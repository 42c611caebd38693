// Simulated ports: requests over the simulated network to the simulated stores.
#include "sim/sim_ports.h"

#include <fmt/format.h>

#include "core/assert.h"

namespace rehearse::sim {

namespace {
// Local CPU time the engine's driver spends on a protected statement after the fence check and
// before it is sent. A stop-the-world pause can land here: past the check, before the write
// (the gap that `fencing: client` cannot close).
constexpr TimeUs kDriverPrepareUs = 50;

// Server time of a small query (the cost profile's lookup_us).
TimeUs lookup_us(const SimDatabase& database) { return CostProfile::total_us(database.costs().lookup_us, 1); }

void prepare_statement(Network& network, Node& self) {
  Kernel& kernel = network.kernel();
  kernel.sleep_until(kernel.now() + self.clock().true_duration(kDriverPrepareUs));
}
}  // namespace

void SimClock::sleep_for(TimeUs duration_us) {
  REHEARSE_ASSERT(duration_us >= 0);
  kernel_.sleep_until(kernel_.now() + node_.clock().true_duration(duration_us));
}

void SimTasks::spawn(const std::string& name, std::function<void()> task) {
  kernel_.spawn(node_, name, std::move(task));
}

void SimRecorder::record(Event event) {
  event.node = node_;
  if (event.actor.empty()) event.actor = node_;
  append_(std::move(event));
}

// ---- Region database ----

SimRegionDatabase::SimRegionDatabase(Network& network, Node& self, DatabaseEndpoint endpoint, TimeUs timeout_us)
    : network_(network), self_(self), endpoint_(endpoint), timeout_us_(timeout_us) {
  REHEARSE_ASSERT(endpoint_.node != nullptr && endpoint_.database != nullptr);
}

template <typename R>
Result<R> SimRegionDatabase::request(const char* what, std::function<Reply<Result<R>>()> handler) {
  auto reply = network_.call<Result<R>>(self_, *endpoint_.node, timeout_us_, std::move(handler));
  if (!reply) return Status::timeout(fmt::format("{}: no reply from {}", what, endpoint_.node->name()));
  return std::move(*reply);
}

Status SimRegionDatabase::request_status(const char* what, std::function<Reply<Status>()> handler) {
  auto reply = network_.call<Status>(self_, *endpoint_.node, timeout_us_, std::move(handler));
  if (!reply) return Status::timeout(fmt::format("{}: no reply from {}", what, endpoint_.node->name()));
  return std::move(*reply);
}

Status SimRegionDatabase::execute_ddl(const DdlStatement& statement, const DdlLimits& limits, const Fence& fence) {
  prepare_statement(network_, self_);
  SimDatabase* database = endpoint_.database;
  const std::string actor = self_.name();
  // Whether this incarnation of the engine is still there to send COMMIT (SimDatabase::ddl).
  auto client_alive = [node = &self_, epoch = self_.epoch()] { return node->alive_in(epoch); };
  auto reply = network_.call_async<Status>(self_, *endpoint_.node, timeout_us_, [=](Respond<Status> respond) {
    database->ddl(statement, limits, fence, actor, std::move(respond), client_alive);
  });
  if (!reply) return Status::timeout(fmt::format("ddl: no reply from {}", endpoint_.node->name()));
  return *reply;
}

Result<std::int64_t> SimRegionDatabase::backfill(const BackfillBatch& batch, const Checkpoint& then, const Fence& fence) {
  prepare_statement(network_, self_);
  SimDatabase* database = endpoint_.database;
  const std::string actor = self_.name();
  auto reply = network_.call_async<Result<std::int64_t>>(
      self_, *endpoint_.node, timeout_us_, [=](Respond<Result<std::int64_t>> respond) {
        database->backfill(batch, then, fence, actor, std::move(respond));
      });
  if (!reply) return Status::timeout(fmt::format("backfill: no reply from {}", endpoint_.node->name()));
  return *reply;
}

Result<RangeChecksum> SimRegionDatabase::checksum(const BackfillBatch& range, BackfillSource source) {
  (void)source;  // validation reads the primary; replicas are compared by the checkers
  SimDatabase* database = endpoint_.database;
  auto reply = network_.call_async<Result<RangeChecksum>>(
      self_, *endpoint_.node, timeout_us_,
      [=](Respond<Result<RangeChecksum>> respond) { database->checksum(range, std::move(respond)); });
  if (!reply) return Status::timeout(fmt::format("checksum: no reply from {}", endpoint_.node->name()));
  return *reply;
}

Result<KeyRange> SimRegionDatabase::key_range(const std::string& table) {
  (void)table;
  SimDatabase* database = endpoint_.database;
  return request<KeyRange>("key range", [database] { return Reply<Result<KeyRange>>{database->key_range(), lookup_us(*database)}; });
}

Result<std::vector<std::string>> SimRegionDatabase::columns(const std::string& table) {
  (void)table;
  SimDatabase* database = endpoint_.database;
  return request<std::vector<std::string>>("columns", [database] {
    return Reply<Result<std::vector<std::string>>>{database->column_names(), lookup_us(*database)};
  });
}

Result<Checkpoint> SimRegionDatabase::read_checkpoint(const CheckpointKey& key) {
  SimDatabase* database = endpoint_.database;
  return request<Checkpoint>("read checkpoint", [database, key] {
    return Reply<Result<Checkpoint>>{database->checkpoint(key), lookup_us(*database)};
  });
}

Status SimRegionDatabase::write_checkpoint(const Checkpoint& checkpoint, const Fence& fence) {
  prepare_statement(network_, self_);
  SimDatabase* database = endpoint_.database;
  const std::string actor = self_.name();
  return request_status("write checkpoint", [database, checkpoint, fence, actor] {
    return Reply<Status>{database->write_checkpoint(checkpoint, fence, actor), lookup_us(*database)};
  });
}

Result<TimeUs> SimRegionDatabase::replication_lag() {
  SimDatabase* database = endpoint_.database;
  return request<TimeUs>("replication lag", [database] {
    const CostProfile& costs = database->costs();
    const double read_us = costs.lag_read_us + costs.lag_read_per_replica_us * static_cast<double>(database->replica_count());
    return Reply<Result<TimeUs>>{database->replication_lag(), CostProfile::total_us(read_us, 1)};
  });
}

// ---- Flags ----

SimFlagStore::SimFlagStore(Network& network, Node& self, std::map<std::string, DatabaseEndpoint> regions,
                           TimeUs timeout_us)
    : network_(network), self_(self), regions_(std::move(regions)), timeout_us_(timeout_us) {}

Status SimFlagStore::set_flag(const std::string& region, const std::string& flag, bool on, const Fence& fence) {
  prepare_statement(network_, self_);
  auto it = regions_.find(region);
  REHEARSE_ASSERT(it != regions_.end());
  SimDatabase* database = it->second.database;
  const std::string actor = self_.name();
  std::optional<Status> reply;
  if (flag == "dual_write") {  // the trigger's DDL: it waits for the tables' locks
    reply = network_.call_async<Status>(self_, *it->second.node, timeout_us_, [database, on, fence, actor](Respond<Status> respond) {
      database->set_dual_write(on, fence, actor, std::move(respond));
    });
  } else {
    reply = network_.call<Status>(self_, *it->second.node, timeout_us_, [database, flag, on, fence, actor] {
      return Reply<Status>{database->set_flag(flag, on, fence, actor), lookup_us(*database)};
    });
  }
  if (!reply) return Status::timeout(fmt::format("set flag {}: no reply", flag));
  return *reply;
}

Result<bool> SimFlagStore::get_flag(const std::string& region, const std::string& flag) {
  auto it = regions_.find(region);
  REHEARSE_ASSERT(it != regions_.end());
  SimDatabase* database = it->second.database;
  auto reply = network_.call<bool>(self_, *it->second.node, timeout_us_, [database, flag] {
    return Reply<bool>{database->flag(flag), lookup_us(*database)};
  });
  if (!reply) return Status::timeout(fmt::format("get flag {}: no reply", flag));
  return *reply;
}

}  // namespace rehearse::sim
