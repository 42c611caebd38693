// The simulated implementations of core's ports, for one engine process on one node: its
// clock is the node's local clock over virtual time, its randomness a seeded stream, its
// tasks fibers on the node, and its databases are reached over the simulated network by
// request/response (a request whose reply is lost has an unknown outcome). The lock clients
// live beside their stores (sim/lock_store_*.h, built through sim/lock_service.h).
#pragma once

#include <functional>
#include <map>
#include <string>

#include "core/ports.h"
#include "sim/database.h"
#include "sim/kernel.h"
#include "sim/network.h"

namespace rehearse::sim {

class SimClock final : public Clock {
 public:
  SimClock(Kernel& kernel, Node& node) : kernel_(kernel), node_(node) {}
  TimeUs now() override { return node_.local_now(); }
  void sleep_for(TimeUs duration_us) override;

 private:
  Kernel& kernel_;
  Node& node_;
};

class SimTasks final : public Tasks {
 public:
  SimTasks(Kernel& kernel, Node& node) : kernel_(kernel), node_(node) {}
  void spawn(const std::string& name, std::function<void()> task) override;

 private:
  Kernel& kernel_;
  Node& node_;
};

// Stamps the engine's events with true time and its node, and appends them to the history.
class SimRecorder final : public Recorder {
 public:
  using Append = std::function<void(Event event)>;
  // `probes` (may be null: probes are then ignored) counts the engine's coverage probes.
  SimRecorder(std::string node, Append append, ProbeCounts* probes = nullptr)
      : node_(std::move(node)), append_(std::move(append)), probes_(probes) {}
  void record(Event event) override;
  void probe(Probe probe) override {
    if (probes_ != nullptr) probes_->hit(probe);
  }

 private:
  std::string node_;
  Append append_;
  ProbeCounts* probes_;
};

// Timeouts of the simulated clients' requests (the lock clients' are in sim/lock_service.h).
struct RequestTimeouts {
  TimeUs database_us = 35 * kSec;
};

// One region's primary as seen from an engine process.
struct DatabaseEndpoint {
  Node* node = nullptr;
  SimDatabase* database = nullptr;
};

class SimRegionDatabase final : public RegionDatabase {
 public:
  SimRegionDatabase(Network& network, Node& self, DatabaseEndpoint endpoint, TimeUs timeout_us);
  const std::string& region() const override { return endpoint_.database->region(); }
  Status execute_ddl(const DdlStatement& statement, const DdlLimits& limits, const Fence& fence) override;
  Result<std::int64_t> backfill(const BackfillBatch& batch, const Checkpoint& then, const Fence& fence) override;
  Result<RangeChecksum> checksum(const BackfillBatch& range, BackfillSource source) override;
  Result<KeyRange> key_range(const std::string& table) override;
  Result<std::vector<std::string>> columns(const std::string& table) override;
  Result<Checkpoint> read_checkpoint(const CheckpointKey& key) override;
  Status write_checkpoint(const Checkpoint& checkpoint, const Fence& fence) override;
  Result<TimeUs> replication_lag() override;

 private:
  template <typename R>
  Result<R> request(const char* what, std::function<Reply<Result<R>>()> handler);
  Status request_status(const char* what, std::function<Reply<Status>()> handler);

  Network& network_;
  Node& self_;
  DatabaseEndpoint endpoint_;
  TimeUs timeout_us_;
};

// Flags live in each region's primary (a protected write there).
class SimFlagStore final : public FlagStore {
 public:
  SimFlagStore(Network& network, Node& self, std::map<std::string, DatabaseEndpoint> regions, TimeUs timeout_us);
  Status set_flag(const std::string& region, const std::string& flag, bool on, const Fence& fence) override;
  Result<bool> get_flag(const std::string& region, const std::string& flag) override;

 private:
  Network& network_;
  Node& self_;
  std::map<std::string, DatabaseEndpoint> regions_;
  TimeUs timeout_us_;
};

}  // namespace rehearse::sim
