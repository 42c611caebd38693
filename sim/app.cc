// Application traffic: request arrival, routing, timeouts and measurement.
#include "sim/app.h"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

#include "core/assert.h"

namespace rehearse::sim {

namespace {
constexpr std::size_t kIncidentsMax = 20;        // incidents kept per kind (the first ones)

const std::vector<ColumnSpec>& columns_of(const Scenario& scenario, const std::string& table) {
  const TableSpec* spec = find_table(scenario, table);
  REHEARSE_ASSERT(spec != nullptr);
  return spec->columns;
}

// What a read request was, for an incident.
std::string read_what(const Node& target) { return "read from " + target.name(); }

}  // namespace

// One request in flight. What it was is kept as data and spelled out only for an incident.
struct AppServer::Pending {
  TimeUs sent_us = 0;  // its due time (with a connection pool, it may have waited for one since)
  bool done = false;
  bool pooled = false;          // holds one of the pool's connections until it finishes
  const char* unsent = nullptr;  // failed unsent: its client timeout passed while it waited for a connection
  bool new_code = false;
  std::int64_t row_id = 0;             // writes: 0 = an insert
  const Node* read_target = nullptr;   // reads: the database node asked
  // Attribution (docs/scenarios.md, `slo.count`): the database node asked and its incarnation
  // when asked, what the migration held it up with, and what a fault did to its messages.
  // A replica's reads are answered by its primary's SimDatabase: the primary's crash fails them.
  const Node* target = nullptr;
  std::uint64_t target_epoch = 0;
  const Node* primary = nullptr;
  std::uint64_t primary_epoch = 0;
  void aim(const Node& asked, const Node& its_primary) {
    target = &asked;
    target_epoch = asked.epoch();
    primary = &its_primary;
    primary_epoch = its_primary.epoch();
    for (const Node* node : {target, primary}) {
      if (!node->up()) touch.note([node] { return fmt::format("{} was down (crashed)", node->name()); });
    }
  }
  const Node* crashed() const {
    for (const auto& [node, epoch] : {std::pair{target, target_epoch}, std::pair{primary, primary_epoch}}) {
      if (node != nullptr && (!node->up() || node->epoch() != epoch)) return node;
    }
    return nullptr;
  }
  MigrationWaits waits;
  FaultTouch touch;
  std::string what() const {
    if (unsent != nullptr) return fmt::format("{} (unsent: no connection of the application's pool freed in time)", unsent);
    if (read_target != nullptr) return read_what(*read_target);
    return row_id == 0 ? "insert" : fmt::format("update row {}", row_id);
  }
};

// The request's own MigrationWaits, shared with the database without another allocation.
std::shared_ptr<MigrationWaits> waits_of(const std::shared_ptr<AppServer::Pending>& pending) {
  return std::shared_ptr<MigrationWaits>(pending, &pending->waits);
}

AppServer::AppServer(Kernel& kernel, Network& network, AppEndpoints endpoints, const Scenario& scenario,
                     std::uint64_t seed, Observations& observations, TableWorkload traffic, int connections)
    : kernel_(kernel),
      network_(network),
      endpoints_(std::move(endpoints)),
      scenario_(scenario),
      traffic_(std::move(traffic)),
      columns_(&columns_of(scenario, traffic_.table)),
      table_(traffic_.table == scenario.table.name ? "" : traffic_.table),
      rng_(seed, "workload:" + endpoints_.app->name() + (table_.empty() ? "" : ":" + table_)),
      references_(data_references(scenario)),
      observations_(observations),
      texts_(observations.texts.get()),
      connections_(connections) {
  REHEARSE_ASSERT(connections_ >= 0);
  const std::vector<std::string> unique = unique_columns(*find_table(scenario, traffic_.table));
  for (const ColumnSpec& column : columns()) {
    distinct_.push_back(std::find(unique.begin(), unique.end(), column.name) != unique.end());
    gen_forms_.push_back(parse_gen(column.gen));
    logical_template_[column.name];  // in name order, NULL until written
  }
  for (const ColumnSpec& column : columns()) {
    logical_slot_.push_back(static_cast<std::size_t>(logical_template_.find(column.name) - logical_template_.begin()));
  }
  if (!table_.empty()) {  // the first table's name ("") follows renames in the database itself
    std::string name = table_;
    for (const Operation& op : scenario.migration.operations) {
      if (op.kind == OperationKind::rename_table && op.name == name) name = op.to;
      if (op.kind == OperationKind::drop_table && op.name == name) dropped_ = true;
    }
    if (name != table_) renamed_to_ = name;
  }
  REHEARSE_ASSERT(endpoints_.database != nullptr);
  REHEARSE_ASSERT(endpoints_.replica_numbers.empty() || endpoints_.replica_numbers.size() == endpoints_.replicas.size());
}

// Uniform gaps in [0, 2/rate] (mean 1/rate): integer arithmetic, the same on every machine.
TimeUs AppServer::next_gap(double per_second) {
  const auto mean = static_cast<TimeUs>(static_cast<double>(kSec) / per_second);
  return 1 + rng_.uniform(0, std::max<TimeUs>(2 * mean, 1));
}

void AppServer::start() {
  if (traffic_.writes_per_s > 0) schedule_write();
  if (traffic_.reads_per_s > 0) schedule_read();
}

// The old code addresses the table as the schema names it. The new code (deployed before
// contract) addresses it by its new name once the migration renamed it, and not at all when the
// migration drops it: a table the new code still used could not be dropped.
const std::string* AppServer::target_table() const {
  if (!new_code_) return &table_;
  if (dropped_) return nullptr;
  if (!renamed_to_.empty() && endpoints_.database->has_table(renamed_to_)) return &renamed_to_;
  return &table_;
}

void AppServer::schedule_write() {
  kernel_.after(next_gap(traffic_.writes_per_s), [this] {
    if (endpoints_.app->up() && !endpoints_.app->paused()) due(true);
    schedule_write();
  });
}

void AppServer::schedule_read() {
  kernel_.after(next_gap(traffic_.reads_per_s), [this] {
    if (endpoints_.app->up() && !endpoints_.app->paused()) due(false);
    schedule_read();
  });
}

void AppServer::due(bool write) {
  Pool& kind = pool(write);
  if (connections_ > 0 && kind.busy >= connections_) {
    kind.waiting.push_back(kernel_.now());
    return;
  }
  if (connections_ > 0) ++kind.busy;
  send(write, kernel_.now());
}

void AppServer::released(bool write) {
  Pool& pool = this->pool(write);
  REHEARSE_ASSERT(pool.busy > 0);
  --pool.busy;
  while (pool.busy < connections_ && !pool.waiting.empty()) {
    const TimeUs due_us = pool.waiting.front();
    pool.waiting.pop_front();
    if (kernel_.now() - due_us >= kAppRequestTimeoutUs) {  // its client timeout passed while it waited
      Pending unsent;
      unsent.sent_us = due_us;
      unsent.read_target = write ? nullptr : endpoints_.primary;
      unsent.unsent = write ? "write" : "read";
      unsent.waits.total_us = unsent.waits.longest_us = kernel_.now() - due_us;
      unsent.waits.why = "for a connection of the application's pool, every one busy";
      finish(unsent, true, 0, 0);
      continue;
    }
    ++pool.busy;
    send(write, due_us);
  }
}

std::int64_t AppServer::pick_row(const std::string& table) {
  const SimDatabase& database = *endpoints_.database;
  const std::int64_t rows = database.has_table(table) ? database.table(table).row_count() : 0;
  if (rows == 0) return 0;
  const auto hot = std::max<std::int64_t>(1, static_cast<std::int64_t>(static_cast<double>(rows) * scenario_.workload.hot_rows));
  if (rng_.chance(0.5)) return rng_.uniform(1, hot);
  return rng_.uniform(1, rows);
}

void AppServer::send_write(TimeUs due_us) {
  const std::string* const table = target_table();
  if (!table) {
    if (connections_ > 0) released(true);
    return;
  }
  auto write = make_pooled<AppWrite>();  // shared with the database, never copied
  write->new_code = new_code_;
  write->row_id = rng_.chance(scenario_.workload.update_ratio) ? pick_row(*table) : 0;
  write->table = *table;
  write->logical = logical_template_;  // the names once, in order; each value set by its slot
  for (std::size_t c = 0; c < columns().size(); ++c) {
    Value value = generate_value(columns()[c], gen_forms_[c], rng_, texts_);
    if (distinct_[c] && value.kind() == Value::Kind::text) {
      value = Value::text(fmt::format("{}-{}-{}", value.as_text(), endpoints_.app->name(), ++distinct_written_));
    }
    (write->logical.begin() + static_cast<std::ptrdiff_t>(logical_slot_[c]))->second = std::move(value);
  }
  for (const DataReference& reference : references_) {
    if (reference.table == traffic_.table && endpoints_.database->has_table(reference.ref_table)) {
      draw_reference(reference, endpoints_.database->table(reference.ref_table), rng_, &write->logical);
    }
  }
  auto pending = make_pooled<Pending>();
  pending->sent_us = due_us;
  pending->pooled = connections_ > 0;
  if (pending->pooled) pending->waits.deadline_us = due_us + kAppRequestTimeoutUs;
  pending->new_code = write->new_code;
  pending->row_id = write->row_id;
  SimDatabase* database = endpoints_.database;
  Node& app = *endpoints_.app;
  Node& primary = *endpoints_.primary;
  pending->aim(primary, primary);
  network_.send(app, primary, [this, database, write = std::shared_ptr<const AppWrite>(std::move(write)), pending, &app, &primary] {
    database->app_write(write, [this, pending, &app, &primary](AppWriteResult result) mutable {
      if (result.status.is_ok()) {
        std::uint64_t& last = last_applied_order_[result.row_id];
        last = std::max(last, result.order);
      }
      if (closed_form_replies_) {
        reply_whole(primary, app, std::move(pending), std::move(result));
        return;
      }
      network_.send(primary, app, [this, pending, result = std::move(result)]() mutable {
        if (pending->done) return;
        acknowledge(*pending, result, kernel_.now());
        finish(*pending, !result.status.is_ok(), 0, 0);
      }, &pending->touch);
    }, waits_of(pending));
  }, &pending->touch);
  watch(std::move(pending), due_us + kAppRequestTimeoutUs);
}

void AppServer::acknowledge(const Pending& request, AppWriteResult& result, TimeUs at_us) {
  if (!result.status.is_ok()) return;
  Acknowledged& ack = acknowledged_[result.row_id];
  if (result.order >= ack.order) ack = Acknowledged{result.order, at_us, request.new_code, std::move(result.written)};
}

void AppServer::reply_whole(const Node& primary, const Node& app, std::shared_ptr<Pending> request, AppWriteResult result) {
  REHEARSE_ASSERT(app.up() && !app.paused());  // nothing crashes or pauses it in a world no fault touches
  // The network's draw, then the sequence its event would have taken, as Network::send does.
  const TimeUs arrives = kernel_.now() + network_.flight(primary, app);
  const std::uint64_t sequence = kernel_.reserve_sequence();
  // Replies arrive about in the order they were sent: the insertion walks few places back. A
  // later sequence goes after an equal arrival.
  auto at = whole_replies_.end();
  while (at != whole_replies_.begin() && std::prev(at)->arrives_us > arrives) --at;
  whole_replies_.insert(at, WholeReply{arrives, sequence, std::move(request), std::move(result)});
}

void AppServer::send_read(TimeUs due_us) {
  const std::string* const table = target_table();
  if (!table) {
    if (connections_ > 0) released(false);
    return;
  }
  const int replicas = static_cast<int>(endpoints_.replicas.size());
  const int replica = replicas == 0 ? 0 : 1 + static_cast<int>(rng_.below(static_cast<std::uint64_t>(replicas)));
  Node& target = replica == 0 ? *endpoints_.primary : *endpoints_.replicas[static_cast<std::size_t>(replica - 1)];
  // The replica's number in its database: in a global topology one region's replicas are some
  // of the home database's.
  const int number = replica == 0 || endpoints_.replica_numbers.empty()
                         ? replica
                         : endpoints_.replica_numbers[static_cast<std::size_t>(replica - 1)];
  if (closed_form_reads_ && replica > 0 && read_whole(target, number, *table)) return;
  auto pending = make_pooled<Pending>();
  pending->sent_us = due_us;
  pending->pooled = connections_ > 0;
  if (pending->pooled) pending->waits.deadline_us = due_us + kAppRequestTimeoutUs;
  pending->read_target = &target;
  pending->aim(target, *endpoints_.primary);
  SimDatabase* database = endpoints_.database;
  Node& app = *endpoints_.app;
  network_.send(app, target, [this, database, number, pending, &app, &target, table] {  // a member's name, never changed
    database->app_read(number, [this, pending, &app, &target](AppReadResult result) {
      network_.send(target, app, [this, pending, result] {
        if (!pending->done) finish(*pending, !result.status.is_ok(), result.staleness_us, result.staleness_without_faults_us);
      }, &pending->touch);
    }, waits_of(pending), *table);
  }, &pending->touch);
  watch(std::move(pending), due_us + kAppRequestTimeoutUs);
}

bool AppServer::read_whole(Node& target, int number, const std::string& table) {
  REHEARSE_ASSERT(connections_ == 0);  // a pooled read waits for its connection: the exact path's
  Node& app = *endpoints_.app;
  // No such table: the exact path answers that it does not exist.
  if (!target.up() || target.paused() || !endpoints_.database->has_table(table)) return false;
  const TimeUs now = kernel_.now();
  const TimeUs arrives = now + network_.flight(app, target);
  const std::optional<SimDatabase::ReplicaReadQuote> quote = endpoints_.database->replica_read_at(number, arrives, table);
  REHEARSE_ASSERT(quote.has_value());  // the table exists, and World allows no shared host here
  const TimeUs finished = arrives + quote->duration_us + network_.flight(target, app);
  // Reads finish about in the order they were sent: the insertion walks few places back.
  auto at = whole_reads_.end();
  while (at != whole_reads_.begin() && std::prev(at)->finished_us > finished) --at;
  whole_reads_.insert(at, WholeRead{finished, now, &target, quote->result.staleness_us,
                                    quote->result.staleness_without_faults_us});
  return true;
}

void AppServer::settle() {
  const TimeUs now = kernel_.now();
  // Nothing can touch a closed-form read (compute_replica_reads_whole): it counts as the
  // migration's, as count() counts an untouched request.
  static const Attribution untouched;
  for (;;) {
    const bool read = !whole_reads_.empty() && whole_reads_.front().finished_us <= now;
    const bool reply = !whole_replies_.empty() && kernel_.has_run(whole_replies_.front().arrives_us, whole_replies_.front().sequence);
    // A reply's event counted the reads finished by its arrival first (finish settles them).
    if (reply && (!read || whole_replies_.front().arrives_us < whole_reads_.front().finished_us)) {
      WholeReply arrived = std::move(whole_replies_.front());
      whole_replies_.pop_front();
      if (arrived.request->done) continue;  // its client timeout came first
      acknowledge(*arrived.request, arrived.result, arrived.arrives_us);
      close(*arrived.request, !arrived.result.status.is_ok(), 0, 0, arrived.arrives_us);
      continue;
    }
    if (!read) return;
    const WholeRead finished = whole_reads_.front();
    whole_reads_.pop_front();
    tally(finished.sent_us, finished.finished_us, false, false, untouched, finished.staleness_us,
          finished.staleness_without_faults_us, [&finished] { return read_what(*finished.target); });
  }
}

void AppServer::watch(std::shared_ptr<Pending> request, TimeUs deadline_us) {
  const std::uint64_t sequence = kernel_.reserve_sequence();
  // Due times ascend, but a request that waited for a pool connection is sent late with its own.
  auto at = deadlines_.end();
  while (at != deadlines_.begin() && !std::prev(at)->before(deadline_us, sequence)) --at;
  deadlines_.insert(at, Deadline{deadline_us, sequence, std::move(request)});
  time_the_first();
}

void AppServer::drop_finished() {
  while (!deadlines_.empty() && deadlines_.front().request->done) deadlines_.pop_front();
}

void AppServer::time_the_first() {
  if (deadlines_.empty()) return;
  const Deadline& first = deadlines_.front();
  if (!timers_.empty() && !first.before(timers_.back().first, timers_.back().second)) return;  // one comes at or before it
  timers_.emplace_back(first.at_us, first.sequence);
  kernel_.at_reserved(first.at_us, first.sequence, [this, at_us = first.at_us, sequence = first.sequence] {
    expire(at_us, sequence);
  });
}

void AppServer::expire(TimeUs at_us, std::uint64_t sequence) {
  // Timers run earliest first, and the earliest is the last set.
  REHEARSE_ASSERT(!timers_.empty());
  REHEARSE_ASSERT(timers_.back() == std::pair(at_us, sequence));
  timers_.pop_back();
  settle();  // a whole reply that arrived before the timer finished its request
  drop_finished();
  // No request before this one is still waiting (each had its timer, or one before it), so the
  // first is this timer's own request or a later one (its own finished).
  if (!deadlines_.empty() && deadlines_.front().at_us == at_us && deadlines_.front().sequence == sequence) {
    const std::shared_ptr<Pending> request = std::move(deadlines_.front().request);
    deadlines_.pop_front();
    finish(*request, true, 0, 0);  // not finished: drop_finished left it
  }
  drop_finished();
  time_the_first();
}

void AppServer::export_to(Observations& observations, const AppliedOrders* applied_orders) {
  settle();  // the closed-form reads still in flight never finish, as on the exact path
  const AppliedOrders& latest = applied_orders != nullptr ? *applied_orders : last_applied_order_;
  auto& windows = observations.windows[endpoints_.app->region()];  // the app's region (global: not the writer's)
  for (const auto& [start, window] : windows_) windows.push_back(window);
  const std::string& table = renamed_to_.empty() ? table_ : renamed_to_;
  acknowledged_.for_each([&](std::int64_t row, const Acknowledged& write) {
    // A later write applied at the primary (its acknowledgement may still be in flight when
    // the run ends) overwrote this one: its value is superseded, not lost.
    const std::uint64_t* applied = latest.find(row);
    if (applied != nullptr && *applied > write.order) return;
    observations.acknowledged.push_back(AcknowledgedWrite{endpoints_.primary->region(), row, write.order, write.time_us,
                                                          write.new_code, write.written.values(), table});
  });
  acknowledged_.clear();
}

// Who made the request slow or failed: a fault that touched it (a cut, dropped, delayed or held
// message, a crashed database), unless the migration's own waits alone exceed the stall limit
// (the client timeout where there is none): those would have breached without the fault.
AppServer::Attribution AppServer::attribute(const Pending& request, TimeUs at_us) const {
  const Node* crashed = request.crashed();
  // A wait in progress when the database crashed ended with the crash, not when the request did.
  const TimeUs crash_us = endpoints_.database->last_crash_us();
  const TimeUs waits_end = crashed == nullptr ? at_us : std::max(crash_us, request.waits.waiting_since_us);
  const TimeUs migration_wait = request.waits.total(waits_end);
  const std::string& migration_why = request.waits.longest_why(waits_end);
  std::string fault = request.touch.what;
  if (fault.empty() && crashed != nullptr) fault = fmt::format("{} crashed", crashed->name());
  const TimeUs limit = scenario_.slo.max_stall_us > 0 ? scenario_.slo.max_stall_us : kAppRequestTimeoutUs;
  if (!fault.empty() && migration_wait <= limit) return Attribution{Cause::fault, std::move(fault)};
  return Attribution{Cause::migration, migration_why};
}

void AppServer::finish(Pending& request, bool failed, TimeUs staleness_us, TimeUs staleness_without_faults_us) {
  // What finished before it: closed-form reads and whole replies (neither exists with a
  // connection pool, so nothing here runs before a connection is released).
  settle();
  close(request, failed, staleness_us, staleness_without_faults_us, kernel_.now());
}

void AppServer::close(Pending& request, bool failed, TimeUs staleness_us, TimeUs staleness_without_faults_us,
                      TimeUs at_us) {
  request.done = true;
  drop_finished();  // requests finish about in the order they were sent: the queue stays short
  if (request.pooled) {  // its connection is free: the server cancelled it at the deadline, or it answered
    released(request.read_target == nullptr);
  }
  count(request, failed, staleness_us, staleness_without_faults_us, at_us);
}

void AppServer::count(const Pending& request, bool failed, TimeUs staleness_us, TimeUs staleness_without_faults_us,
                      TimeUs finished_us) {
  const bool touched = !request.touch.what.empty() || request.waits.total_us > 0 || request.waits.waiting_since_us >= 0 ||
                       request.crashed() != nullptr;
  // The common case (nothing got in its way) costs no attribution: it counts as the migration's.
  const Attribution attribution = touched ? attribute(request, finished_us) : Attribution{};
  tally(request.sent_us, finished_us, failed, request.read_target == nullptr, attribution, staleness_us,
        staleness_without_faults_us, [&request] { return request.what(); });
}

template <typename What>
void AppServer::tally(TimeUs sent_us, TimeUs finished_us, bool failed, bool write, const Attribution& attribution,
                      TimeUs staleness_us, TimeUs staleness_without_faults_us, const What& what) {
  ++requests_;
  if (failed) ++errors_;
  const std::string& region = endpoints_.app->region();
  const TimeUs window_start = sent_us / kRequestWindowUs * kRequestWindowUs;
  // Requests finish about in the order they were sent: most fall in the window of the last.
  if (last_window_ == nullptr || last_window_->start_us != window_start) last_window_ = &windows_[window_start];
  RequestWindow& window = *last_window_;
  window.start_us = window_start;
  ++window.requests;
  const TimeUs waited = finished_us - sent_us;
  const int cause = index_of(attribution.cause);
  if (failed) {
    ++window.failed;
    if (attribution.cause == Cause::fault) ++window.failed_by_fault;
    ++observations_.errors_by_cause[cause];
  }
  ++second_.requests;
  if (failed) ++second_.failed;
  second_.max_latency_us = std::max(second_.max_latency_us, waited);
  if (observations_.keep_request_latencies) {
    observations_.request_latencies.push_back(RequestLatency{region, sent_us, waited, failed, write});
  }
  observations_.max_stall_us = std::max(observations_.max_stall_us, waited);
  observations_.max_stall_by_cause_us[cause] = std::max(observations_.max_stall_by_cause_us[cause], waited);
  observations_.max_staleness_us = std::max(observations_.max_staleness_us, staleness_us);
  const SloSpec& slo = scenario_.slo;
  // A read is stale by the migration's doing when it would have been as stale without the
  // injected replication delays; the rest of its staleness is the faults'.
  const Cause stale_cause = staleness_without_faults_us > slo.max_replica_lag_us ? Cause::migration : Cause::fault;
  // The stalest read the migration alone made, and the stalest one faults made staler.
  TimeUs& by_migration = observations_.max_staleness_by_cause_us[index_of(Cause::migration)];
  by_migration = std::max(by_migration, std::min(staleness_without_faults_us, staleness_us));
  if (staleness_us > staleness_without_faults_us) {
    TimeUs& by_faults = observations_.max_staleness_by_cause_us[index_of(Cause::fault)];
    by_faults = std::max(by_faults, staleness_us);
  }
  // The first few incidents of each cause are kept, so faults cannot crowd out the migration's.
  const bool slow = (failed || (slo.max_stall_us > 0 && waited > slo.max_stall_us)) &&
                    incidents_kept_[0][cause] < kIncidentsMax;
  const bool stale = slo.max_replica_lag_us > 0 && staleness_us > slo.max_replica_lag_us &&
                     incidents_kept_[1][index_of(stale_cause)] < kIncidentsMax;
  if (!slow && !stale) return;  // the common case: nothing worth naming, nothing spelled out
  RequestIncident incident{region, endpoints_.app->name(), sent_us, waited, staleness_us, failed, what(),
                           attribution.cause, attribution.why};
  if (slow) {
    ++incidents_kept_[0][cause];
    observations_.slow_requests.push_back(incident);
  }
  if (stale) {
    ++incidents_kept_[1][index_of(stale_cause)];
    incident.cause = stale_cause;
    incident.why = stale_cause == Cause::migration
                       ? "behind the migration's changes (backfill batches) queued at the replica"
                       : "behind an injected replication delay (a replication_lag fault or a BUGGIFY stall)";
    observations_.stale_reads.push_back(std::move(incident));
  }
}

}  // namespace rehearse::sim
