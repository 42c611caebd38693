// The members of a consensus lock store on this machine (etcd, ZooKeeper), as the live faults
// act on them: a member is the process listening on its client port; `crash: lock-N` stops it
// (SIGTERM, SIGKILL after 5 s) and starts it again later with the same command line, working
// directory and log (its stdout), and rewrites the pid file that named the old process (the
// one scripts/live-up wrote, so live-down stops the new one). `failover` moves leadership:
// etcd by its v3 API (maintenance/status names the leader, maintenance/transfer-leadership
// hands it to another member), ZooKeeper by restarting the leader (the `srvr` word names it):
// the other two elect a new leader before the old one comes back as a follower.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/status.h"

namespace rehearse::live {

// A stopped member: what starts it again.
struct MemberProcess {
  int port = 0;                   // its client port (on 127.0.0.1)
  std::vector<std::string> argv;  // /proc/PID/cmdline
  std::string cwd;                // /proc/PID/cwd
  std::string log;                // where its stdout went (/proc/PID/fd/1): a file, or "" (/dev/null)
  std::string pid_file;           // the pid file that named it ("" when none was found)
};

// "http://HOST:PORT" (etcd) or "HOST:PORT" (ZooKeeper) -> host and port; false when malformed.
bool split_host_port(const std::string& endpoint, std::string* host, int* port);

// The pid of the process listening on 127.0.0.1:PORT (TCP), or 0.
pid_t pid_listening_on(int port);

// Stops the member listening on 127.0.0.1:PORT: SIGTERM, SIGKILL after 5 s. Unavailable when
// no process of this user listens there.
Result<MemberProcess> stop_member(int port);

// Starts `member` again (a daemon: setsid, not our child), writes its pid to the pid file and
// waits up to `wait_ms` for its client port to accept connections. Unavailable naming what failed.
Status start_member(const MemberProcess& member, int wait_ms);

// etcd: a member's id and the leader's id it knows ("" when it has none), from
// POST URL/v3/maintenance/status.
struct EtcdMemberStatus {
  std::string member_id;
  std::string leader_id;
};
Result<EtcdMemberStatus> etcd_member_status(const std::string& url);

// etcd: leadership moves from the current leader to the next member of `urls` (in list order,
// after the leader); the answer says which (lock-N names the N-th url). Waits until a member
// reports the new leader (at most 5 s). Unavailable when no leader is known or the transfer
// failed.
Result<std::string> etcd_move_leader(const std::vector<std::string>& urls);

// ZooKeeper: a member's mode from its `srvr` word ("leader", "follower", "standalone"), or
// unavailable.
Result<std::string> zookeeper_mode(int port);

}  // namespace rehearse::live
