// A replica's primary_conninfo pointed at a proxy for one run, and set back (replica_redirect.h).
#include "real_backends/replica_redirect.h"

#include <libpq-fe.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "real_backends/live_network.h"
#include "real_backends/postgres.h"

namespace rehearse::live {

namespace {

constexpr auto kStreamWait = std::chrono::seconds(15);
constexpr auto kStreamPoll = std::chrono::milliseconds(50);

// Writes primary_conninfo (and the original beside it, or resets it when `before` is empty) into
// the replica's postgresql.auto.conf and reloads. The order keeps a crash in between harmless:
// going there, the original is stored before primary_conninfo changes; coming back,
// primary_conninfo is restored before the original is forgotten.
void write_settings(pqxx::connection& connection, const std::string& conninfo, const std::string& before) {
  pqxx::nontransaction tx(connection);
  // ALTER SYSTEM accepts a custom setting only once the session knows the placeholder.
  tx.exec(fmt::format("SET {} = ''", kConninfoBeforeSetting));
  if (!before.empty()) {
    tx.exec(fmt::format("ALTER SYSTEM SET {} = {}", kConninfoBeforeSetting, tx.quote(before)));
    tx.exec(fmt::format("ALTER SYSTEM SET primary_conninfo = {}", tx.quote(conninfo)));
  } else {
    tx.exec(fmt::format("ALTER SYSTEM SET primary_conninfo = {}", tx.quote(conninfo)));
    tx.exec(fmt::format("ALTER SYSTEM RESET {}", kConninfoBeforeSetting));
  }
  tx.exec("SELECT pg_reload_conf()");
}

// The original a run left on the replica; empty when none.
std::string stored_original(pqxx::connection& connection) {
  pqxx::nontransaction tx(connection);
  const pqxx::row row = tx.exec1(fmt::format("SELECT coalesce(current_setting('{}', true), '')", kConninfoBeforeSetting));
  return row[0].as<std::string>();
}

// Waits until the replica's WAL receiver streams from `port`; whether it did within kStreamWait.
bool wait_streaming(pqxx::connection& connection, int port) {
  const auto deadline = std::chrono::steady_clock::now() + kStreamWait;
  while (std::chrono::steady_clock::now() < deadline) {
    pqxx::nontransaction tx(connection);
    const pqxx::result rows = tx.exec("SELECT sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'");
    if (!rows.empty() && !rows[0][0].is_null() && rows[0][0].as<int>() == port) return true;
    std::this_thread::sleep_for(kStreamPoll);
  }
  return false;
}

bool has_password(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    if (error != nullptr) PQfreemem(error);
    return false;  // conninfo_endpoint reports it
  }
  bool found = false;
  for (const PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (std::string(option->keyword) == "password" && option->val != nullptr && option->val[0] != '\0') found = true;
  }
  PQconninfoFree(options);
  return found;
}

}  // namespace

Result<std::vector<std::string>> restore_leftover_redirects(const std::vector<std::pair<std::string, std::string>>& replica_conninfos) {
  std::vector<std::string> restored;
  for (const auto& [name, conninfo] : replica_conninfos) {
    try {
      pqxx::connection connection(conninfo + " connect_timeout=3");
      const std::string original = stored_original(connection);
      if (original.empty()) continue;
      write_settings(connection, original, "");
      Result<std::pair<std::string, int>> endpoint = conninfo_endpoint(original);
      const bool streaming = endpoint.is_ok() && wait_streaming(connection, endpoint.value().second);
      restored.push_back(fmt::format("{}: a killed run had left its primary_conninfo pointed at a proxy; restored it from {}{}", name,
                                     kConninfoBeforeSetting, streaming ? "" : " (its WAL receiver does not stream yet)"));
    } catch (const std::exception& error) {
      return Status::unavailable(fmt::format("{}: cannot check or restore its primary_conninfo: {}", name, redact(error.what())));
    }
  }
  return restored;
}

Result<std::unique_ptr<ReplicaRedirect>> ReplicaRedirect::start(const std::string& name, const std::string& conninfo,
                                                                const std::function<Result<int>(const std::string&, int)>& start_proxy) {
  std::string original;
  try {
    pqxx::connection connection(conninfo + " connect_timeout=3");
    {
      pqxx::nontransaction tx(connection);
      original = tx.exec1("SHOW primary_conninfo")[0].as<std::string>();
    }
    if (original.empty()) {
      return Status::unavailable(fmt::format("{} has no primary_conninfo to point at a proxy (is it a streaming replica?)", name));
    }
    if (has_password(original)) {
      return Status::unavailable(fmt::format("{}: its primary_conninfo holds a password, which the run would have to keep in {} "
                                             "(readable by every role) to restore it; give the replica a passfile or ~/.pgpass",
                                             name, kConninfoBeforeSetting));
    }
    Result<std::pair<std::string, int>> endpoint = conninfo_endpoint(original);
    if (!endpoint.is_ok()) return Status::unavailable(fmt::format("{}: its primary_conninfo: {}", name, endpoint.status().message()));
    Result<int> proxy_port = start_proxy(endpoint.value().first, endpoint.value().second);
    if (!proxy_port.is_ok()) return proxy_port.status();
    Result<std::string> proxied = conninfo_with_endpoint(original, "127.0.0.1", proxy_port.value());
    if (!proxied.is_ok()) return Status::unavailable(fmt::format("{}: its primary_conninfo: {}", name, proxied.status().message()));
    write_settings(connection, proxied.value(), original);
    std::unique_ptr<ReplicaRedirect> redirect(
        new ReplicaRedirect(name, conninfo, original, endpoint.value().second, proxy_port.value()));
    if (!wait_streaming(connection, proxy_port.value())) {
      const std::string restored = redirect->restore();
      return Status::unavailable(fmt::format("{}: its WAL receiver did not stream through the proxy within {} s{}", name,
                                             kStreamWait.count(), restored.empty() ? " (restored)" : "; " + restored));
    }
    return redirect;
  } catch (const std::exception& error) {
    return Status::unavailable(fmt::format("{}: cannot point its primary_conninfo at a proxy: {}", name, redact(error.what())));
  }
}

std::string ReplicaRedirect::restore() {
  if (restored_) return "";
  try {
    pqxx::connection connection(conninfo_ + " connect_timeout=3");
    write_settings(connection, original_, "");
    restored_ = true;
    if (!wait_streaming(connection, original_port_)) {
      return fmt::format("{}: primary_conninfo restored, but its WAL receiver does not stream from port {} after {} s", name_,
                         original_port_, kStreamWait.count());
    }
    return "";
  } catch (const std::exception& error) {
    return fmt::format("{}: cannot restore its primary_conninfo ({} keeps it; the next run restores it): {}", name_,
                       kConninfoBeforeSetting, redact(error.what()));
  }
}

ReplicaRedirect::~ReplicaRedirect() { restore(); }

}  // namespace rehearse::live
