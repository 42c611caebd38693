// The ZooKeeper lock client of live mode: sessions and their states from the library's watcher,
// asynchronous requests awaited with a deadline, and the lock recipe (create, check, watch the
// predecessor, delete).
#include "real_backends/zookeeper_lock.h"

#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>

#include <fmt/format.h>

#include "core/assert.h"
#include "real_backends/redis_node.h"

namespace rehearse::live {

namespace {
constexpr auto kCallTimeout = std::chrono::milliseconds(2000);     // one request (sim: kClusterRequestTimeoutUs)
constexpr auto kConnectTimeout = std::chrono::milliseconds(2000);  // a new session's establishment
constexpr auto kWaitSlice = std::chrono::milliseconds(50);         // how often a waiter looks at the stop signal
constexpr TimeUs kLookupSessionUs = 4 * kSec;                      // ping and holder lookup sessions
constexpr int kSequenceDigits = 10;                                // ZooKeeper's sequential suffix: %010d
constexpr int kHolderLookupsMax = 3;                               // the lowest znode went while we read it
constexpr int kNoAnswer = 1;                                       // not a ZooKeeper code (those are <= 0)

enum class Connection { connecting, connected, disconnected, expired };
}  // namespace

// What the library told us about the session, written by its completion thread.
struct ZooKeeperLockClient::Session {
  zhandle_t* handle = nullptr;
  std::mutex mutex;
  std::condition_variable changed;
  Connection connection = Connection::connecting;  // GUARDED_BY(mutex)
  bool connected_once = false;                     // GUARDED_BY(mutex)
  std::uint64_t watch_events = 0;                  // GUARDED_BY(mutex): a watched predecessor went
  std::int64_t id = 0;                             // the session id, once connected
  TimeUs timeout_us = 0;                           // the negotiated timeout, once connected

  Connection state() {
    std::lock_guard<std::mutex> guard(mutex);
    return connection;
  }
  void set(Connection value) {
    {
      std::lock_guard<std::mutex> guard(mutex);
      if (connection == Connection::expired) return;  // final: the handle is spent
      connection = value;
      connected_once |= value == Connection::connected;
    }
    changed.notify_all();
  }
};

namespace {

using Session = ZooKeeperLockClient::Session;

// One request's answer; the completion may come after its waiter gave up, so it is shared.
struct Reply {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;                  // GUARDED_BY(mutex)
  int rc = ZSYSTEMERROR;              // GUARDED_BY(mutex)
  std::string text;                   // create: the path made; get: the data
  std::vector<std::string> children;  // get_children
};
using ReplyBox = std::shared_ptr<Reply>;

// What the waiter saw: a copy, taken under the reply's mutex.
struct Answer {
  int rc = kNoAnswer;
  std::string text;
  std::vector<std::string> children;
};

void complete(const void* data, int rc, const std::function<void(Reply&)>& fill) {
  const std::unique_ptr<ReplyBox> box(static_cast<ReplyBox*>(const_cast<void*>(data)));
  Reply& reply = **box;
  {
    std::lock_guard<std::mutex> guard(reply.mutex);
    reply.rc = rc;
    if (rc == ZOK) fill(reply);
    reply.done = true;
  }
  reply.done_cv.notify_all();
}

void on_string(int rc, const char* value, const void* data) {
  complete(data, rc, [value](Reply& reply) { reply.text = value != nullptr ? value : ""; });
}
void on_strings(int rc, const String_vector* strings, const void* data) {
  complete(data, rc, [strings](Reply& reply) {
    for (std::int32_t i = 0; strings != nullptr && i < strings->count; ++i) reply.children.emplace_back(strings->data[i]);
  });
}
void on_stat(int rc, const Stat* /*stat*/, const void* data) {
  complete(data, rc, [](Reply&) {});
}
void on_void(int rc, const void* data) {
  complete(data, rc, [](Reply&) {});
}
void on_data(int rc, const char* value, int length, const Stat* /*stat*/, const void* data) {
  complete(data, rc, [value, length](Reply& reply) {
    if (value != nullptr && length > 0) reply.text.assign(value, static_cast<std::size_t>(length));
  });
}

// Sends one request (`send` hands the box to the library as the completion's data) and waits
// for its answer up to kCallTimeout: its code, or kNoAnswer.
Answer await(const std::function<int(void*)>& send) {
  auto reply = std::make_shared<Reply>();
  auto* box = new ReplyBox(reply);
  const int sent = send(box);
  if (sent != ZOK) {  // not queued: the library never calls the completion
    delete box;
    return Answer{sent, "", {}};
  }
  std::unique_lock<std::mutex> lock(reply->mutex);
  if (!reply->done_cv.wait_for(lock, kCallTimeout, [&reply] { return reply->done; })) return Answer{};
  return Answer{reply->rc, reply->text, reply->children};
}

// The library's session events: Connected, Disconnected (connecting again), Expired.
void on_session_event(zhandle_t* /*handle*/, int type, int state, const char* /*path*/, void* context) {
  if (type != ZOO_SESSION_EVENT) return;
  auto* session = static_cast<Session*>(context);
  if (state == ZOO_CONNECTED_STATE) {
    session->set(Connection::connected);
  } else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) {
    session->set(Connection::expired);
  } else {
    std::lock_guard<std::mutex> guard(session->mutex);
    if (session->connection == Connection::connected) session->connection = Connection::disconnected;
  }
}

// A watch on a predecessor fired (deleted, or a session event): the waiter looks again.
void on_watched_node(zhandle_t* /*handle*/, int /*type*/, int /*state*/, const char* /*path*/, void* context) {
  auto* session = static_cast<Session*>(context);
  {
    std::lock_guard<std::mutex> guard(session->mutex);
    ++session->watch_events;
  }
  session->changed.notify_all();
}

// The library logs to stderr (the engine's) by default; its failures come back as codes here.
void silence_library() {
  static std::once_flag once;
  std::call_once(once, [] { zoo_set_debug_level(static_cast<ZooLogLevel>(0)); });
}

// The sequence number of a lock znode's name (its last ten digits), or -1.
std::int64_t sequence_of(const std::string& name) {
  if (name.size() <= kSequenceDigits) return -1;
  std::int64_t sequence = 0;
  for (std::size_t i = name.size() - kSequenceDigits; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    sequence = sequence * 10 + (name[i] - '0');
  }
  return sequence;
}

// Lock znodes by sequence number, lowest first (names that are not ours left out).
std::vector<std::pair<std::int64_t, std::string>> by_sequence(const std::vector<std::string>& children) {
  std::vector<std::pair<std::int64_t, std::string>> nodes;
  for (const std::string& child : children) {
    const std::int64_t sequence = sequence_of(child);
    if (sequence >= 0) nodes.emplace_back(sequence, child);
  }
  std::sort(nodes.begin(), nodes.end());
  return nodes;
}

std::string session_prefix(std::int64_t session_id) { return fmt::format("{:016x}-lock-", static_cast<std::uint64_t>(session_id)); }

}  // namespace

Status check_zookeeper_endpoint(const std::string& text) {
  if (text.find(',') != std::string::npos || !parse_redis_endpoint(text).is_ok()) {
    return Status::invalid(fmt::format("'{}' is not a ZooKeeper server HOST:PORT", text));
  }
  return Status::ok();
}

ZooKeeperLockClient::ZooKeeperLockClient(std::vector<std::string> endpoints, std::string key, std::string holder,
                                         const StopSignal& stop)
    : value_(std::move(holder)), stop_(stop) {
  REHEARSE_ASSERT(!endpoints.empty());
  REHEARSE_ASSERT(!key.empty());
  for (const auto& endpoint : endpoints) {
    REHEARSE_ASSERT(check_zookeeper_endpoint(endpoint).is_ok());
    hosts_ += (hosts_.empty() ? "" : ",") + endpoint;
  }
  std::replace(key.begin(), key.end(), '/', '_');
  lock_path_ = "/" + key;
  silence_library();
}

ZooKeeperLockClient::~ZooKeeperLockClient() { close(); }

// zookeeper_close: closeSession while connected (the ensemble deletes our ephemeral znodes; the
// library waits at most 3 s for the request to leave), then the library's threads are joined,
// after which no watcher touches the session.
void ZooKeeperLockClient::close_session() {
  if (session_) (void)zookeeper_close(session_->handle);  // its code only says whether closeSession left; nothing to retry
  session_.reset();
  node_.clear();
  sequence_ = 0;
  token_ = 0;
}

void ZooKeeperLockClient::close() {
  std::lock_guard<std::mutex> guard(mutex_);
  close_session();
}

// Maps a request's code: an expired session is conflict (and spent), a lost connection
// unavailable, no answer in time timeout.
Status ZooKeeperLockClient::status_of(int rc, const std::string& what) {
  if (rc == ZOK) return Status::ok();
  if (rc == kNoAnswer) return Status::timeout(fmt::format("zookeeper {}: no answer within {} ms", what, kCallTimeout.count()));
  if (rc == ZSESSIONEXPIRED || rc == ZINVALIDSTATE || rc == ZAUTHFAILED) {
    if (session_) session_->set(Connection::expired);
    node_.clear();
    sequence_ = 0;
    return Status::conflict(fmt::format("zookeeper {}: session expired", what));
  }
  if (rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT || rc == ZCLOSING) {
    return Status::unavailable(fmt::format("zookeeper {}: {}", what, zerror(rc)));
  }
  return Status::failed(fmt::format("zookeeper {}: {}", what, zerror(rc)));
}

// A session to use: the current one while it lives (Disconnected is unavailable: the library
// reconnects by itself), else a new one with `timeout_us` requested, awaited up to kConnectTimeout.
Status ZooKeeperLockClient::connect(TimeUs timeout_us) {
  if (session_ && session_->state() == Connection::expired) close_session();
  if (!session_) {
    session_ = std::make_unique<Session>();
    const int timeout_ms = static_cast<int>(std::max<TimeUs>(1, (timeout_us + kMs - 1) / kMs));
    session_->handle = zookeeper_init(hosts_.c_str(), on_session_event, timeout_ms, nullptr, session_.get(), 0);
    if (session_->handle == nullptr) {
      session_.reset();
      return Status::unavailable(fmt::format("zookeeper {}: the client library refused the ensemble's addresses", hosts_));
    }
  }
  Session& session = *session_;
  {
    std::unique_lock<std::mutex> lock(session.mutex);
    session.changed.wait_for(lock, kConnectTimeout, [&session] { return session.connection != Connection::connecting; });
    if (session.connection == Connection::connecting) {
      return Status::timeout(fmt::format("zookeeper {}: no session within {} ms", hosts_, kConnectTimeout.count()));
    }
    if (session.connection == Connection::disconnected) return Status::unavailable("zookeeper: disconnected from the ensemble");
    if (session.connection == Connection::expired) return Status::conflict("zookeeper: session expired");
  }
  if (session.id == 0) {
    session.id = zoo_client_id(session.handle)->client_id;
    session.timeout_us = static_cast<TimeUs>(zoo_recv_timeout(session.handle)) * kMs;
    REHEARSE_ASSERT(session.id != 0);
    REHEARSE_ASSERT(session.timeout_us > 0);
  }
  return Status::ok();
}

// The persistent parent /KEY, made once (by whichever client comes first).
Status ZooKeeperLockClient::ensure_lock_path() {
  if (path_ready_) return Status::ok();
  zhandle_t* handle = session_->handle;
  const Answer made = await([&](void* box) {
    return zoo_acreate(handle, lock_path_.c_str(), "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, on_string, box);
  });
  if (made.rc != ZOK && made.rc != ZNODEEXISTS) return status_of(made.rc, "create " + lock_path_);
  path_ready_ = true;
  return Status::ok();
}

// Our lock znode: the one this session made already (its create's answer was lost, or its
// delete was), else a new ephemeral sequential one holding our value.
Status ZooKeeperLockClient::create_node() {
  zhandle_t* handle = session_->handle;
  const std::string prefix = session_prefix(session_->id);
  const Answer listed = await([&](void* box) { return zoo_aget_children(handle, lock_path_.c_str(), 0, on_strings, box); });
  if (listed.rc != ZOK) return status_of(listed.rc, "getChildren " + lock_path_);
  for (const auto& [sequence, child] : by_sequence(listed.children)) {
    if (child.rfind(prefix, 0) == 0) {
      node_ = child;
      sequence_ = sequence;
      return Status::ok();
    }
  }
  const std::string path = lock_path_ + "/" + prefix;
  const Answer made = await([&](void* box) {
    return zoo_acreate(handle, path.c_str(), value_.data(), static_cast<int>(value_.size()), &ZOO_OPEN_ACL_UNSAFE,
                       ZOO_EPHEMERAL_SEQUENTIAL, on_string, box);
  });
  if (made.rc != ZOK) return status_of(made.rc, "create " + path);
  node_ = made.text.substr(made.text.rfind('/') + 1);
  sequence_ = sequence_of(node_);
  REHEARSE_ASSERT(sequence_ >= 0);
  return Status::ok();
}

// getChildren: ours the lowest holds the lock (its sequence); else, with `wait`, a watch on the
// predecessor and up to a third of the session timeout for it to go, then one more look.
Result<std::int64_t> ZooKeeperLockClient::check(bool wait) {
  zhandle_t* handle = session_->handle;
  const Answer listed = await([&](void* box) { return zoo_aget_children(handle, lock_path_.c_str(), 0, on_strings, box); });
  if (listed.rc != ZOK) return status_of(listed.rc, "getChildren " + lock_path_);
  const auto nodes = by_sequence(listed.children);
  const std::string prefix = session_prefix(session_->id);
  auto ours = [&prefix](const auto& node) { return node.second.rfind(prefix, 0) == 0; };
  auto mine = std::find_if(nodes.begin(), nodes.end(), ours);
  if (mine == nodes.end()) {
    node_.clear();
    sequence_ = 0;
    return Status::conflict("zookeeper: our lock znode is gone");
  }
  // A create that timed out and arrived after the next attempt's create leaves this session a
  // second znode: keep the lowest (its place in the queue), delete the others (they would hold
  // the queue up after our release).
  node_ = mine->second;
  sequence_ = mine->first;
  for (auto extra = std::next(mine); extra != nodes.end(); ++extra) {
    if (!ours(*extra)) continue;
    const std::string path = lock_path_ + "/" + extra->second;
    (void)await([&](void* box) { return zoo_adelete(handle, path.c_str(), -1, on_void, box); });  // best effort: it goes with the session
  }
  if (mine == nodes.begin()) return mine->first;
  const auto& predecessor = *std::prev(mine);
  if (!wait) return Status::conflict(fmt::format("zookeeper: waiting behind znode {}", predecessor.second));
  Session& session = *session_;
  std::uint64_t seen = 0;
  {
    std::lock_guard<std::mutex> guard(session.mutex);
    seen = session.watch_events;
  }
  const std::string watched = lock_path_ + "/" + predecessor.second;
  const Answer exists = await([&](void* box) {
    return zoo_awexists(handle, watched.c_str(), on_watched_node, &session, on_stat, box);
  });
  if (exists.rc == ZNONODE) return check(false);  // gone already
  if (exists.rc != ZOK) return status_of(exists.rc, "exists " + watched);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(session.timeout_us / 3);
  std::unique_lock<std::mutex> lock(session.mutex);
  while (session.watch_events == seen && !stop_.stopping.load() && std::chrono::steady_clock::now() < deadline) {
    session.changed.wait_for(lock, std::min<std::chrono::steady_clock::duration>(kWaitSlice, deadline - std::chrono::steady_clock::now()));
  }
  lock.unlock();
  return check(false);
}

Result<Lease> ZooKeeperLockClient::try_acquire(TimeUs ttl_us) {
  REHEARSE_ASSERT(ttl_us > 0);
  std::lock_guard<std::mutex> guard(mutex_);
  if (stop_.stopping.load()) return Status::unavailable("the run is stopping");
  Status ready = connect(ttl_us);
  if (ready.is_ok()) ready = ensure_lock_path();
  if (ready.is_ok() && node_.empty()) ready = create_node();
  if (!ready.is_ok()) return ready;
  Result<std::int64_t> held = check(true);
  if (!held.is_ok()) return held.status();
  REHEARSE_ASSERT(held.value() == sequence_);
  token_ = sequence_ + 1;  // ZooKeeper counts from 0; a token is positive (0 = none)
  return Lease{token_, 0, 2 * session_->timeout_us / 3};
}

// No request, as the library keeps the session alive by itself: its state as the library knows it.
Status ZooKeeperLockClient::renew(const Lease& lease, TimeUs /*ttl_us*/) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (!session_ || token_ == 0 || lease.token != token_ || node_.empty() || sequence_ + 1 != token_) {
    return Status::conflict("zookeeper: not our lock znode");
  }
  switch (session_->state()) {
    case Connection::connected: return Status::ok();
    case Connection::expired: return Status::conflict("zookeeper: session expired: our lock znode is gone");
    case Connection::connecting:
    case Connection::disconnected: break;
  }
  return Status::timeout("zookeeper: disconnected from the ensemble");
}

// Deletes our znode. Gone already, or gone with an expired session, is ok; a delete without an
// answer leaves the znode to this session (the next attempt adopts it) or to its expiry.
Status ZooKeeperLockClient::release(const Lease& lease) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (!session_ || node_.empty() || lease.token != token_) return Status::ok();
  if (stop_.stopping.load()) return Status::unavailable("the run is stopping");
  zhandle_t* handle = session_->handle;
  const std::string path = lock_path_ + "/" + node_;
  const Answer deleted = await([&](void* box) { return zoo_adelete(handle, path.c_str(), -1, on_void, box); });
  token_ = 0;
  node_.clear();
  sequence_ = 0;
  if (deleted.rc == ZNONODE) return Status::ok();
  const Status status = status_of(deleted.rc, "delete " + path);
  return status.is_conflict() ? Status::ok() : status;  // conflict: the session expired, its znodes with it
}

Status ZooKeeperLockClient::ping() {
  std::lock_guard<std::mutex> guard(mutex_);
  const Status connected = connect(kLookupSessionUs);
  if (!connected.is_ok()) return connected;
  zhandle_t* handle = session_->handle;
  const Answer root = await([&](void* box) { return zoo_aexists(handle, "/", 0, on_stat, box); });
  return status_of(root.rc, "exists /");
}

Result<std::string> ZooKeeperLockClient::holder_value() {
  std::lock_guard<std::mutex> guard(mutex_);
  const Status connected = connect(kLookupSessionUs);
  if (!connected.is_ok()) return connected;
  zhandle_t* handle = session_->handle;
  for (int lookup = 0; lookup < kHolderLookupsMax; ++lookup) {
    const Answer listed = await([&](void* box) { return zoo_aget_children(handle, lock_path_.c_str(), 0, on_strings, box); });
    if (listed.rc == ZNONODE) return std::string();
    if (listed.rc != ZOK) return status_of(listed.rc, "getChildren " + lock_path_);
    const auto nodes = by_sequence(listed.children);
    if (nodes.empty()) return std::string();
    const std::string lowest = lock_path_ + "/" + nodes.front().second;
    const Answer read = await([&](void* box) { return zoo_aget(handle, lowest.c_str(), 0, on_data, box); });
    if (read.rc == ZOK) return read.text;
    if (read.rc != ZNONODE) return status_of(read.rc, "get " + lowest);
  }
  return std::string();  // the lowest znode kept going as we read it: nobody holds the lock for long
}

}  // namespace rehearse::live
