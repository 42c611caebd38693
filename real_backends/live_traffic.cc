// Live application traffic: writes and reads against one region's primary and replicas.
#include "real_backends/live_traffic.h"

#include <algorithm>
#include <chrono>
#include <charconv>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/gen.h"
#include "core/region_state.h"
#include "core/topology.h"
#include "real_backends/reply_deadline.h"

namespace rehearse::live {

namespace {
constexpr TimeUs kDeployPollUs = 200 * kMs;
constexpr TimeUs kSchemaPollUs = 20 * kMs;
constexpr TimeUs kWarmUpLimitUs = 10 * kSec;
constexpr std::size_t kIncidentsMax = 20;

std::uint64_t next_random(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::int64_t uniform(std::uint64_t& state, std::int64_t low, std::int64_t high) {
  return low + static_cast<std::int64_t>(next_random(state) % static_cast<std::uint64_t>(high - low + 1));
}

// "write failed: ERROR:  canceling statement ..." -- the first line of the server's message, so an
// availability violation says why its requests failed.
std::string failed(const std::string& what, const std::exception& error) {
  std::string reason = error.what();
  reason = reason.substr(0, reason.find('\n'));
  return fmt::format("{} failed: {}", what, reason);
}

bool chance(std::uint64_t& state, double probability) {
  return static_cast<double>(next_random(state) >> 11) / 9007199254740992.0 < probability;
}

// A value for an application write, drawn like sim/database.cc's generate_value.
Value generate(const ColumnSpec& column, std::uint64_t& state) {
  if (column.nullable > 0 && chance(state, column.nullable)) return Value::null();
  const GenForm form = parse_gen(column.gen);
  if (form.kind == GenForm::Kind::range) {
    const std::int64_t low = form.low, high = form.high;
    if (column.type == ColumnType::numeric) {
      std::int64_t scale = 1;
      for (int i = 0; i < column.scale; ++i) scale *= 10;
      return Value::numeric(Decimal{uniform(state, low * scale, high * scale), column.scale});
    }
    if (column.type == ColumnType::text) return Value::text(std::to_string(uniform(state, low, high)));
    if (column.type == ColumnType::timestamp) return Value::timestamp(uniform(state, low, high) * kSec);
    return Value::integer(uniform(state, low, high));
  }
  if (form.kind == GenForm::Kind::email) return Value::text(fmt::format("User{}@Example.org", uniform(state, 1, 999999)));
  if (form.kind == GenForm::Kind::uuid) {
    std::uint64_t parts[5];
    for (std::uint64_t& part : parts) part = next_random(state);
    return Value::text(fmt::format("{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}", parts[0] & 0xffffffffU, parts[1] & 0xffffU,
                                   parts[2] & 0xfffU, parts[3] & 0xfffU, parts[4] & 0xffffffffffffULL));
  }
  if (form.kind == GenForm::Kind::one_of) {
    const std::string& choice = form.choices[static_cast<std::size_t>(uniform(state, 0, static_cast<std::int64_t>(form.choices.size()) - 1))];
    if (column.type != ColumnType::text) {
      std::int64_t number = 0;
      const auto [end, error] = std::from_chars(choice.data(), choice.data() + choice.size(), number);
      if (error == std::errc() && end == choice.data() + choice.size()) return Value::integer(number);
    }
    return Value::text(choice);
  }
  switch (column.type) {
    case ColumnType::bigint:
    case ColumnType::integer: return Value::integer(uniform(state, 0, 1000000));
    case ColumnType::numeric: return Value::numeric(Decimal{uniform(state, 0, 100000), 2});
    case ColumnType::boolean: return Value::boolean(chance(state, 0.5));
    case ColumnType::timestamp: return Value::timestamp(1704067200LL * kSec + uniform(state, 0, 365LL * 86400) * kSec);
    case ColumnType::text: return Value::text(fmt::format("item-{}", uniform(state, 0, 999999)));
  }
  return Value::null();
}

void sleep_us(TimeUs us) { std::this_thread::sleep_for(std::chrono::microseconds(us)); }

// The client timeout left to a request due at `due_us`, as the statement_timeout of the
// statement sent after it in the same message (each request sets its own). Its lock_timeout is
// 10 ms shorter: a request that waited in a lock queue (behind the migration's DDL, or a batch's
// row locks) for all of its time fails with PostgreSQL's "canceling statement due to lock
// timeout", so the error names the lock and finish() blames the migration, as the simulated
// application does; with the statement timeout alone, a write queued behind a DDL that waited
// for a long_transaction fault failed with "statement timeout" and was counted as the fault's.
std::string statement_timeout_for(TimeUs due_us, TimeUs now_us) {
  const TimeUs left = std::max<TimeUs>(kAppRequestTimeoutUs - (now_us - due_us), kMs);
  const TimeUs lock_left = left > 20 * kMs ? left - 10 * kMs : left;
  return fmt::format("SET statement_timeout = {}; SET lock_timeout = {}; ", left / kMs, lock_left / kMs);
}

// The same client timeout on the client's side, for a reply that never comes (a partition holds
// the statement, so the server's statement_timeout never starts): a little later than the
// server's, so a server that is reachable answers with its own cancellation first.
constexpr TimeUs kReplyMarginUs = 200 * kMs;
TimeUs reply_timeout_for(TimeUs due_us, TimeUs now_us) {
  return std::max<TimeUs>(kAppRequestTimeoutUs - (now_us - due_us), kMs) + kReplyMarginUs;
}

std::string no_reply(const std::string& what) {
  return fmt::format("{} failed: no reply within the client timeout ({} s): the connection was closed", what,
                     kAppRequestTimeoutUs / kSec);
}

TimeUs gap_us(double per_second, std::uint64_t& state) {
  const auto mean = static_cast<TimeUs>(static_cast<double>(kSec) / per_second);
  return 1 + uniform(state, 0, std::max<TimeUs>(2 * mean, 1));
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}
}  // namespace

RegionTraffic::RegionTraffic(RegionEndpoints endpoints, const Scenario& scenario, const MigrationPlan& plan,
                             LiveHistory& history, std::uint64_t seed)
    : endpoints_(std::move(endpoints)),
      writer_(writer_region(scenario, endpoints_.name)),
      scenario_(scenario),
      plan_(plan),
      history_(history),
      seed_(seed) {}

RegionTraffic::~RegionTraffic() { stop(); }

void RegionTraffic::start() {
  writes_.per_second = scenario_.workload.writes_per_s;
  writes_.state = seed_ ^ 0x5151;
  reads_.per_second = scenario_.workload.reads_per_s;
  reads_.state = seed_ ^ 0xa7a7;
  {
    PostgresConnection primary(endpoints_.primary);
    try {
      refresh_schema(primary.get());
      pqxx::read_transaction tx(primary.get());
      max_id_ = tx.exec1("SELECT coalesce(max(id), 0) FROM " + tx.quote_name(scenario_.table.name))[0].as<std::int64_t>();
    } catch (const std::exception&) {
      // the writes find out (and count) what is wrong with the primary
    }
  }
  workers_ = kWorkers * ((scenario_.workload.writes_per_s > 0 ? 1 : 0) + (scenario_.workload.reads_per_s > 0 ? 1 : 0));
  for (int worker = 0; worker < kWorkers; ++worker) {
    if (scenario_.workload.writes_per_s > 0) threads_.emplace_back([this, worker] { write_loop(worker); });
    if (scenario_.workload.reads_per_s > 0) threads_.emplace_back([this, worker] { read_loop(worker); });
  }
  if (workers_ == 0) return;
  threads_.emplace_back([this] { schema_loop(); });
  std::unique_lock<std::mutex> lock(ready_mutex_);
  ready_.wait_for(lock, std::chrono::microseconds(kWarmUpLimitUs), [&] { return warm_ >= workers_; });
}

void RegionTraffic::refresh_schema(pqxx::connection& primary) {
  pqxx::read_transaction tx(primary);
  std::vector<std::string> columns;
  for (const auto& row : tx.exec(live_columns_sql(tx, scenario_.table.name))) columns.emplace_back(row[0].c_str());
  const bool flags_on = !tx.exec("SELECT 1 FROM rehearse_flag WHERE \"on\" AND region = " + tx.quote(writer_)).empty();
  std::lock_guard<std::mutex> guard(mutex_);
  columns_ = std::move(columns);
  flags_on_ = flags_on;
}

void RegionTraffic::schema_loop() {
  PostgresConnection connection(endpoints_.primary);
  std::int64_t next_poll_us = 0;
  while (!stopping_) {
    try {
      refresh_schema(connection.get());
      poll_deploy(connection, next_poll_us);
    } catch (const std::exception&) {
      connection.reset();
    }
    sleep_us(kSchemaPollUs);
  }
}

void RegionTraffic::warm_up(PostgresConnection& connection, bool write) {
  try {
    pqxx::nontransaction tx(connection.get());
    const std::string row = fmt::format("(SELECT count(*) FROM {} WHERE id = 1)", tx.quote_name(scenario_.table.name));
    tx.exec(write ? "SELECT nextval('rehearse_app_order'), " + row : "SELECT " + row);
  } catch (const std::exception&) {
    connection.reset();  // tried again on the request's own path
  }
  std::unique_lock<std::mutex> lock(ready_mutex_);
  ++warm_;
  ready_.notify_all();
  ready_.wait_for(lock, std::chrono::microseconds(kWarmUpLimitUs), [&] { return warm_ >= workers_; });
}

void RegionTraffic::stop() {
  stopping_ = true;
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

// Moves to the new code at the deploy point (and whenever reads were switched).
void RegionTraffic::poll_deploy(PostgresConnection& connection, std::int64_t& next_poll_us) {
  if (new_code_ || history_.elapsed_us() < next_poll_us) return;
  next_poll_us = history_.elapsed_us() + kDeployPollUs;
  const Checkpoint checkpoint = read_checkpoint_row(connection.get(), plan_.name);
  if (!checkpoint.exists || !(checkpoint.key == checkpoint_key(plan_))) return;  // another plan's is not ours
  // A state the engine does not write (another build's?) deploys nothing.
  const std::optional<RegionState> state = parse_region_state(checkpoint.state);
  RegionState due = RegionState::validated;
  if (scenario_.workload.new_code_after == DeployAfter::expand) due = RegionState::expanded;
  if (scenario_.workload.new_code_after == DeployAfter::backfill) due = RegionState::backfilling;
  if (!state || *state < due || *state == RegionState::rolled_back) return;
  new_code_ = true;
  history_.append(Event{.node = "app:" + endpoints_.name, .kind = EventKind::message, .region = endpoints_.name,
                        .detail = "deployed the new code version"});
}

void RegionTraffic::write_loop(int worker) {
  PostgresConnection connection(endpoints_.primary);
  warm_up(connection, true);
  std::uint64_t state = seed_ ^ 0x5151 ^ (0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(worker));
  TimeUs due = 0;
  while (next_due(writes_, due)) {
    if (gave_up("write", due, true)) continue;
    try {
      if (!write_once(connection, state, due)) write_once(connection, state, due);  // retried once after a schema change
    } catch (const std::exception&) {
      connection.reset();
    }
  }
}

// Whether the client timeout of a request due at `due_us` has passed before it was sent: the
// connection it waited for (a reconnect through a partition, bounded by connect_timeout, not
// by the request's deadline) took it all. Such a request fails at its timeout, as the simulated
// application's does; sent anyway, it could succeed right after a heal, 11.8 s after it was
// due (LiveTest.StatementsThroughAPartitionFailWithinTheirReplyTimeout, once).
bool RegionTraffic::client_gave_up(TimeUs due_us) const { return history_.elapsed_us() - due_us >= kAppRequestTimeoutUs; }

// One application write; false when it should be retried with a fresh column list.
bool RegionTraffic::write_once(PostgresConnection& connection, std::uint64_t& state, TimeUs due_us) {
  pqxx::connection& db = connection.get();
  const TimeUs sent = due_us;
  if (client_gave_up(due_us)) {
    finish(no_reply("write"), sent, true, 0, true);
    return true;
  }
  const bool new_code = new_code_.load();
  std::int64_t row = 0;
  if (max_id_ > 0 && chance(state, scenario_.workload.update_ratio)) {
    const auto hot = std::max<std::int64_t>(1, static_cast<std::int64_t>(static_cast<double>(max_id_) * scenario_.workload.hot_rows));
    row = chance(state, 0.5) ? uniform(state, 1, hot) : uniform(state, 1, max_id_);
  }
  ColumnValues logical;
  for (const auto& column : scenario_.table.columns) logical[column.name] = generate(column, state);
  std::vector<std::string> live;
  bool flags_on = false;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    live = columns_;
    flags_on = flags_on_;
  }
  std::optional<ReplyDeadline> deadline;
  try {
    const bool writes_new = new_code && flags_on;
    ColumnValues written;
    std::vector<std::string> names, literals;
    auto set = [&](const std::string& column, const Value& value, ColumnType type) {
      if (!contains(live, column) || written.count(column) > 0) return;
      written[column] = value;
      names.push_back(db.quote_name(column));
      literals.push_back(sql_literal(db, value, type));
    };
    for (const DerivedColumn& derived : plan_.derived) {
      if (!writes_new) break;
      const bool contracted = !contains(live, derived.column);
      const std::string& target = contracted ? derived.final_name : derived.column;
      if (!contains(live, target) || (contracted && derived.final_name == derived.column)) continue;
      EvalResult computed = evaluate(derived.up, [&](const std::string& name) -> const Value* {
        auto it = logical.find(name);
        return it == logical.end() ? nullptr : &it->second;
      });
      ColumnType type = ColumnType::text;
      for (const auto& statement : plan_.expand) {
        if (statement.column == derived.column) type = statement.type;
      }
      if (computed.ok) set(target, computed.value, type);
      if (!contracted && !derived.source.empty()) written[derived.source] = Value();  // new code leaves it to down
    }
    for (const auto& column : scenario_.table.columns) {
      if (written.count(column.name) == 0) set(column.name, logical[column.name], column.type);
    }
    for (auto it = written.begin(); it != written.end();) it = it->second.is_null() && !contains(names, db.quote_name(it->first)) ? written.erase(it) : std::next(it);
    const std::string table = db.quote_name(scenario_.table.name);
    std::string sql;
    if (row == 0) {
      sql = fmt::format("INSERT INTO {} ({}) VALUES ({})", table, fmt::join(names, ", "), fmt::join(literals, ", "));
    } else {
      std::vector<std::string> assignments;
      for (std::size_t i = 0; i < names.size(); ++i) assignments.push_back(names[i] + " = " + literals[i]);
      sql = fmt::format("UPDATE {} SET {} WHERE id = {}", table, fmt::join(assignments, ", "), row);
    }
    // One message, one statement in autocommit, as the simulated application's write (and the
    // calibrated app_write_us) is. The apply order is drawn in the statement, after its row lock
    // was granted: a concurrent writer of the same row waits for this one's commit before its
    // own RETURNING runs, so its order comes after this one.
    pqxx::nontransaction tx(db);
    deadline.emplace(db.sock(), reply_timeout_for(due_us, history_.elapsed_us()));
    const pqxx::result result =
        tx.exec(statement_timeout_for(due_us, history_.elapsed_us()) + sql +
                " RETURNING id, nextval('rehearse_app_order'), pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint");
    if (result.empty()) {
      finish(fmt::format("update row {}", row), sent, false, 0, true);
      return true;
    }
    const std::int64_t id = result[0][0].as<std::int64_t>();
    const auto order = static_cast<std::uint64_t>(result[0][1].as<std::int64_t>());
    for (std::int64_t seen = max_id_.load(); id > seen && !max_id_.compare_exchange_weak(seen, id);) {
    }
    {
      std::lock_guard<std::mutex> guard(mutex_);
      // Kept only where replica reads trim them (staleness_behind_writes).
      if (!endpoints_.replicas.empty() && scenario_.workload.reads_per_s > 0) unreplayed_writes_.emplace(result[0][2].as<std::int64_t>(), history_.elapsed_us());
      auto acknowledged = acknowledged_.find(id);
      if (acknowledged == acknowledged_.end() || acknowledged->second.order < order) {
        acknowledged_[id] = AcknowledgedWrite{writer_, id, order, history_.elapsed_us(), writes_new, written};
        writers_[id] = writes_new ? Writer::new_code : Writer::old_code;
      }
    }
    finish(row == 0 ? "insert" : fmt::format("update row {}", row), sent, false, 0, true);
    return true;
  } catch (const pqxx::sql_error& error) {
    if (error.sqlstate() == "42703") {  // a column went away under us: retry with the table's columns now
      refresh_schema(db);
      return false;
    }
    finish(failed("write", error), sent, true, 0, true);
    return true;
  } catch (const pqxx::broken_connection& error) {
    const bool expired = deadline && deadline->expired();
    deadline.reset();
    connection.reset();
    finish(expired ? no_reply("write") : failed("write", error), sent, true, 0, true);
    return true;
  }
}

void RegionTraffic::read_loop(int worker) {
  const std::string target = endpoints_.replicas.empty() ? endpoints_.primary : endpoints_.replicas.front();
  PostgresConnection connection(target);
  warm_up(connection, false);
  std::uint64_t state = seed_ ^ 0xa7a7 ^ (0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(worker));
  TimeUs due = 0;
  while (next_due(reads_, due)) {
    if (!gave_up("read", due, false)) read_once(connection, state, due);
  }
}

bool RegionTraffic::next_due(Schedule& schedule, TimeUs& due_us) {
  {
    std::lock_guard<std::mutex> guard(schedule.mutex);
    if (schedule.next_us < 0) schedule.next_us = history_.elapsed_us();
    schedule.next_us += gap_us(schedule.per_second, schedule.state);
    due_us = schedule.next_us;
  }
  // A worker idle at the request's due time sends it when it wakes: that wake-up's lateness is
  // this host's scheduling of the client (up to 5 ms here under a backfill), which the simulated
  // application does not have and which is not a wait for the database. A worker still busy at
  // the due time (the application's own backlog) keeps the due time: that wait counts.
  bool slept = false;
  for (;;) {  // in short sleeps, so that stop() is not held up by a slow rate
    if (stopping_) return false;
    const TimeUs now = history_.elapsed_us();
    if (now >= due_us) {
      if (slept) due_us = now;
      return true;
    }
    sleep_us(std::min<TimeUs>(due_us - now, 100 * kMs));
    slept = true;
  }
}

bool RegionTraffic::gave_up(const std::string& what, TimeUs due_us, bool write) {
  if (history_.elapsed_us() - due_us < kAppRequestTimeoutUs) return false;
  finish(what + " failed: the client timeout passed while earlier requests waited", due_us, true, 0, write);
  return true;
}

void RegionTraffic::read_once(PostgresConnection& connection, std::uint64_t& state, TimeUs due_us) {
  const TimeUs sent = due_us;
  const std::string what = endpoints_.replicas.empty() ? "read from db:" + writer_ : "read from db:" + endpoints_.name + "/replica-1";
  std::optional<ReplyDeadline> deadline;
  try {
    pqxx::connection& db = connection.get();
    if (client_gave_up(due_us)) {
      finish(no_reply(what), sent, true, 0, false);
      return;
    }
    deadline.emplace(db.sock(), reply_timeout_for(due_us, history_.elapsed_us()));
    // One message: the row, and on a replica its receive and replay positions.
    const std::int64_t row = max_id_ > 0 ? uniform(state, 1, max_id_) : 1;
    const std::string positions = endpoints_.replicas.empty()
                                      ? "0, 0, 0"
                                      : "coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '0/0'), 0)::bigint, "
                                        "coalesce(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0'), 0)::bigint, "
                                        "coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000000, 0)::bigint";
    pqxx::nontransaction tx(db);
    const pqxx::row found = tx.exec1(fmt::format("{}SELECT (SELECT count(*) FROM (SELECT * FROM {} WHERE id = {}) AS r), {}",
                                                 statement_timeout_for(due_us, history_.elapsed_us()),
                                                 db.quote_name(scenario_.table.name), row, positions));
    TimeUs staleness = 0;
    if (!endpoints_.replicas.empty()) {
      staleness = scenario_.workload.writes_per_s > 0
                      ? staleness_behind_writes(found[2].as<std::int64_t>())
                      : replica_staleness(found[1].as<std::int64_t>(), found[2].as<std::int64_t>(), found[3].as<std::int64_t>());
    }
    finish(what, sent, false, std::max<TimeUs>(staleness, 0), false);
  } catch (const std::exception& error) {
    const bool expired = deadline && deadline->expired();
    deadline.reset();
    connection.reset();
    finish(expired ? no_reply(what) : failed(what, error), sent, true, 0, false);
  }
}

// A read is as stale as the oldest write the application was told committed and the replica does
// not show yet: what the simulated replica's staleness is (its oldest unreplayed change's age).
// Positions alone cannot say it: the replica's receive position is often a few bytes (a record
// in flight, a page header) past its replay position with nothing committed behind them, and
// through a 20 s lock queue with no commits conform's (d) read 10 s of "staleness" that way. The
// engine's own changes are not in the list: a batch the replica has not replayed shows through
// the application's writes committed after it, up to one write's interval later.
TimeUs RegionTraffic::staleness_behind_writes(std::int64_t replayed) {
  const TimeUs now = history_.elapsed_us();
  std::lock_guard<std::mutex> guard(mutex_);
  unreplayed_writes_.erase(unreplayed_writes_.begin(), unreplayed_writes_.upper_bound(replayed));
  return unreplayed_writes_.empty() ? 0 : std::max<TimeUs>(now - unreplayed_writes_.begin()->second, 0);
}

// Without application writes: how long the replica has held WAL it has not replayed: from when a read first saw its receive
// position past the position it has now replayed. The age of the last replayed transaction
// (pg_last_xact_replay_timestamp) alone counts the time the primary committed nothing: after a
// 20 s lock queue with no commits, a replica milliseconds behind showed 12 s of staleness. It
// stays the upper bound; the resolution is the interval between reads.
TimeUs RegionTraffic::replica_staleness(std::int64_t received, std::int64_t replayed, TimeUs last_replayed_age_us) {
  if (received <= replayed) return 0;
  const TimeUs now = history_.elapsed_us();
  std::lock_guard<std::mutex> guard(mutex_);
  if (received_.empty() || received > received_.back().first) received_.emplace_back(received, now);
  while (!received_.empty() && received_.front().first <= replayed) received_.pop_front();
  const TimeUs held = received_.empty() ? 0 : now - received_.front().second;
  return std::min(held, last_replayed_age_us);
}

void RegionTraffic::finish(const std::string& what, TimeUs sent_us, bool failed, TimeUs staleness_us, bool write) {
  // A request the client gave up on waited its timeout, as the simulated application counts it.
  const TimeUs elapsed = history_.elapsed_us() - sent_us;
  const TimeUs waited = failed ? std::min(elapsed, kAppRequestTimeoutUs) : elapsed;
  ++requests_;
  if (failed) ++errors_;
  std::lock_guard<std::mutex> guard(mutex_);
  latencies_.push_back(RequestLatency{endpoints_.name, sent_us, waited, failed, write});
  RequestWindow& window = windows_[sent_us / kRequestWindowUs * kRequestWindowUs];
  window.start_us = sent_us / kRequestWindowUs * kRequestWindowUs;
  ++window.requests;
  if (failed) ++window.failed;
  max_stall_us_ = std::max(max_stall_us_, waited);
  max_staleness_us_ = std::max(max_staleness_us_, staleness_us);
  const SloSpec& slo = scenario_.slo;
  const bool slow = failed || (slo.max_stall_us > 0 && waited > slo.max_stall_us);
  const bool stale = slo.max_replica_lag_us > 0 && staleness_us > slo.max_replica_lag_us;
  if (!slow && !stale) {
    max_stall_by_cause_us_[index_of(Cause::migration)] = std::max(max_stall_by_cause_us_[index_of(Cause::migration)], waited);
    return;
  }
  // Live attribution is coarser than the simulator's (docs/live.md): a request whose error
  // names a lock waited on the migration's DDL or a backfill batch; otherwise a fault in
  // effect while it ran is blamed; a request with neither is the migration's.
  const std::string now_fault = history_.fault_during(sent_us, sent_us + waited);
  const bool lock_wait = what.find("lock") != std::string::npos;
  RequestIncident incident{endpoints_.name, "app:" + endpoints_.name, sent_us, waited, staleness_us, failed, what};
  incident.cause = !lock_wait && !now_fault.empty() ? Cause::fault : Cause::migration;
  incident.why = incident.cause == Cause::fault ? "a fault was in effect: " + now_fault : "";
  const int cause = index_of(incident.cause);
  max_stall_by_cause_us_[cause] = std::max(max_stall_by_cause_us_[cause], waited);
  if (failed) {
    ++errors_by_cause_[cause];
    if (incident.cause == Cause::fault) ++window.failed_by_fault;
  }
  if (slow && slow_.size() < kIncidentsMax) slow_.push_back(incident);
  if (stale && stale_.size() < kIncidentsMax) {
    const std::string lag_fault = history_.fault_during(sent_us, sent_us + waited, "replication lag");
    incident.cause = lag_fault.empty() ? Cause::migration : Cause::fault;
    incident.why = lag_fault.empty() ? "" : "a fault was in effect: " + lag_fault;
    stale_.push_back(incident);
  }
}

void RegionTraffic::export_to(Observations& observations) const {
  std::lock_guard<std::mutex> guard(mutex_);
  auto& windows = observations.windows[endpoints_.name];
  for (const auto& [start, window] : windows_) windows.push_back(window);
  for (const auto& [row, write] : acknowledged_) observations.acknowledged.push_back(write);
  observations.request_latencies.insert(observations.request_latencies.end(), latencies_.begin(), latencies_.end());
  observations.max_stall_us = std::max(observations.max_stall_us, max_stall_us_);
  observations.max_staleness_us = std::max(observations.max_staleness_us, max_staleness_us_);
  for (int cause = 0; cause < kCauses; ++cause) {
    observations.errors_by_cause[cause] += errors_by_cause_[cause];
    observations.max_stall_by_cause_us[cause] = std::max(observations.max_stall_by_cause_us[cause], max_stall_by_cause_us_[cause]);
  }
  observations.max_staleness_by_cause_us[index_of(Cause::migration)] =
      std::max(observations.max_staleness_by_cause_us[index_of(Cause::migration)], max_staleness_us_);
  for (const auto& incident : slow_) observations.slow_requests.push_back(incident);
  for (const auto& incident : stale_) observations.stale_reads.push_back(incident);
}

std::optional<RegionTraffic::LastWrite> RegionTraffic::last_write(std::int64_t id) const {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = acknowledged_.find(id);
  if (it == acknowledged_.end()) return std::nullopt;
  return LastWrite{it->second.order, writers_.at(id)};
}

}  // namespace rehearse::live
