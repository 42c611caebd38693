// The simulated app-database lock backend: the lock row's statements in the primary's table
// lock queue, its loss on failover, and the engine's client.
#include "sim/lock_store_app_database.h"

#include <fmt/format.h>

#include "core/assert.h"
#include "sim/database.h"

namespace rehearse::sim {

// ---- AppDatabaseLockService ----

AppDatabaseLockService::AppDatabaseLockService(LockServiceContext context) : context_(std::move(context)) {
  REHEARSE_ASSERT(context_.database_node != nullptr && context_.database != nullptr);
}

std::unique_ptr<LockClient> AppDatabaseLockService::make_client(Node& engine, const std::string& stream) {
  return std::make_unique<AppDatabaseLockClient>(*this, engine, Rng(context_.seed, stream));
}

bool AppDatabaseLockService::expired() const {
  return row_.value && context_.database_node->local_now() >= row_.expires_at_local_us;
}

void AppDatabaseLockService::emit(Event event) {
  event.node = context_.database_node->name();
  context_.append(std::move(event));
}

std::optional<std::string> AppDatabaseLockService::holder() {
  if (!row_.value || expired()) return std::nullopt;
  const auto colon = row_.value->rfind(':');
  return row_.value->substr(0, colon);
}

FailoverOutcome AppDatabaseLockService::failover() {
  const std::string lost = row_.value ? row_.value->substr(0, row_.value->rfind(':')) : std::string("nobody");
  const std::int64_t before = row_.version;
  row_.value.reset();
  row_.version = row_.version_before;
  const std::string detail = fmt::format(
      "{} failed over to a replica without the lock row's last update: the lock of {} is gone and its "
      "version went back from {} to {}",
      context_.database_node->name(), lost, before, row_.version);
  emit(Event{.kind = EventKind::message, .detail = detail});
  return {true, detail};
}

void AppDatabaseLockService::handle(const LockRowStatement& statement, Respond<Result<std::int64_t>> respond) {
  context_.database->run_in_table_lock_queue(
      [this, statement, respond = std::move(respond)] { respond(execute(statement)); });
}

Result<std::int64_t> AppDatabaseLockService::execute(const LockRowStatement& statement) {
  const std::string holder = statement.value.substr(0, statement.value.rfind(':'));
  const TimeUs now = context_.database_node->local_now();
  switch (statement.kind) {
    case LockRowStatement::Kind::acquire:
      if (row_.value && !expired()) return Status::conflict("the lock row is held");
      if (row_.value) {
        emit(Event{.kind = EventKind::lock_expire, .token = row_.version,
                   .actor = row_.value->substr(0, row_.value->rfind(':')),
                   .detail = "the lock row's expires_at passed on the database's clock"});
      }
      row_ = Row{statement.value, now + statement.ttl_us, row_.version + 1, row_.version};
      emit(Event{.kind = EventKind::lock_grant, .outcome = Outcome::ok, .token = row_.version, .actor = holder});
      return row_.version;
    case LockRowStatement::Kind::renew:
      if (!row_.value || *row_.value != statement.value || expired()) return Status::conflict("the lock row is not ours");
      row_.expires_at_local_us = now + statement.ttl_us;
      return row_.version;
    case LockRowStatement::Kind::release:
      if (row_.value && *row_.value == statement.value) row_.value.reset();
      return row_.version;
  }
  return Status::invalid("unknown statement");
}

// ---- AppDatabaseLockClient ----

AppDatabaseLockClient::AppDatabaseLockClient(AppDatabaseLockService& service, Node& self, Rng rng)
    : service_(service), self_(self), rng_(rng) {}

std::optional<Result<std::int64_t>> AppDatabaseLockClient::run(const LockRowStatement& statement) {
  AppDatabaseLockService& service = service_;
  return service.network().call_async<Result<std::int64_t>>(
      self_, service.database_node(), kLockRowStatementTimeoutUs,
      [&service, statement](Respond<Result<std::int64_t>> respond) { service.handle(statement, std::move(respond)); });
}

Result<Lease> AppDatabaseLockClient::try_acquire(TimeUs ttl_us) {
  const std::string value = fmt::format("{}:{:016x}", self_.name(), rng_.next());
  auto answer = run(LockRowStatement{LockRowStatement::Kind::acquire, value, ttl_us});
  if (!answer) return Status::timeout("no reply from the database");
  if (!answer->is_ok()) return answer->status();
  value_ = value;
  token_ = answer->value();
  return Lease{token_, 0, ttl_us};
}

Status AppDatabaseLockClient::renew(const Lease& lease, TimeUs ttl_us) {
  if (lease.token != token_ || value_.empty()) return Status::conflict("not the lease this client holds");
  auto answer = run(LockRowStatement{LockRowStatement::Kind::renew, value_, ttl_us});
  if (!answer) return Status::timeout("no reply from the database");
  return answer->status();
}

Status AppDatabaseLockClient::release(const Lease& lease) {
  if (lease.token != token_ || value_.empty()) return Status::ok();
  auto answer = run(LockRowStatement{LockRowStatement::Kind::release, value_, 0});
  value_.clear();
  token_ = 0;
  if (!answer) return Status::timeout("no reply from the database");
  return answer->status();
}

}  // namespace rehearse::sim
