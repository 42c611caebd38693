// A replica's streaming replication through a proxy of the runner, for the length of one run
// with a network fault that reaches it (live_network.h): its `primary_conninfo` is pointed at
// the proxy (ALTER SYSTEM + pg_reload_conf(): PostgreSQL 13+ restarts the WAL receiver on the
// new value) and set back at the end.
//
// The original value is kept on the replica itself, in its postgresql.auto.conf, as the custom
// setting `rehearse.primary_conninfo_before`, written before primary_conninfo is changed and
// reset after it is restored. So every exit path leaves the replica correct:
// - the run ends (normally, by an error, or by an exception): the ReplicaRedirect's destructor
//   restores it and waits for the WAL receiver to stream from the original primary again;
// - the runner is killed (SIGKILL, a crash, the machine): the replica's WAL receiver keeps
//   retrying the dead proxy port until the next `rehearse live` naming that replica, which
//   restores every replica holding `rehearse.primary_conninfo_before` before it does anything
//   else (restore_leftover_redirects), whatever its faults; by hand:
//   ALTER SYSTEM SET primary_conninfo = '<SHOW rehearse.primary_conninfo_before>';
//   ALTER SYSTEM RESET rehearse.primary_conninfo_before; SELECT pg_reload_conf();
// A replica whose primary_conninfo holds a password is refused (the custom setting is readable
// by every role; use a passfile or .pgpass), and so is one without primary_conninfo.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace rehearse::live {

inline constexpr const char* kConninfoBeforeSetting = "rehearse.primary_conninfo_before";

// Restores every replica of `replica_conninfos` that a killed run left pointed at its proxy;
// one line per replica restored, for the log. Unavailable when a replica cannot be restored.
Result<std::vector<std::string>> restore_leftover_redirects(const std::vector<std::pair<std::string, std::string>>& replica_conninfos);

class ReplicaRedirect {
 public:
  // Starts a proxy to the primary named in the replica's primary_conninfo (`start_proxy(host,
  // port)` returns the proxy's port on 127.0.0.1) and points the replica at it; returns once
  // its WAL receiver streams through the proxy (15 s at most, else unavailable and restored).
  // `name` is the replica's node name (db:REGION/replica-K), `conninfo` how the runner reaches it.
  static Result<std::unique_ptr<ReplicaRedirect>> start(const std::string& name, const std::string& conninfo,
                                                        const std::function<Result<int>(const std::string&, int)>& start_proxy);
  // Restores the original primary_conninfo (and waits, bounded, for the WAL receiver to stream
  // from it); what went wrong, if anything, is in restore_error().
  ~ReplicaRedirect();
  ReplicaRedirect(const ReplicaRedirect&) = delete;
  ReplicaRedirect& operator=(const ReplicaRedirect&) = delete;

  // Restores now (idempotent); empty when the replica streams from its original primary again.
  std::string restore();
  const std::string& name() const { return name_; }
  int proxy_port() const { return proxy_port_; }

 private:
  ReplicaRedirect(std::string name, std::string conninfo, std::string original, int original_port, int proxy_port)
      : name_(std::move(name)), conninfo_(std::move(conninfo)), original_(std::move(original)), original_port_(original_port),
        proxy_port_(proxy_port) {}
  std::string name_;
  std::string conninfo_;
  std::string original_;
  int original_port_;
  int proxy_port_;
  bool restored_ = false;
};

}  // namespace rehearse::live
