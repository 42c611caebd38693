// The fault-injecting TCP proxy: one poll() thread per proxy, non-blocking sockets, and per
// connection two flows (client -> upstream, upstream -> client), each a queue of chunks that
// go out when they are due and their direction is not cut, followed by the end the source
// gave (end-of-stream or reset).
#include "real_backends/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/assert.h"

namespace rehearse::live {

namespace {
constexpr std::size_t kReadBytesMax = 64 * 1024;          // one read(2), one chunk
constexpr std::size_t kHeldBytesMax = 4 * 1024 * 1024;    // per flow; then the source is not read (backpressure)
constexpr std::size_t kConnectionsMax = 512;              // per proxy; further clients wait in the backlog
constexpr TimeUs kPollSliceUs = 100 * kMs;                // the longest poll() between looks at the state
constexpr int kListenBacklog = 128;
static_assert(kReadBytesMax <= kHeldBytesMax, "one read must fit in a flow's queue");

constexpr int kClient = 0;    // index of the client's socket; flow 0 reads it and writes the upstream
constexpr int kUpstream = 1;  // index of the upstream's socket; flow 1 reads it and writes the client

TimeUs steady_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void set_nodelay(int fd) {
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // best effort: only latency depends on it
}

// Closes `fd` so that the peer sees a reset (RST), not an orderly end.
void close_with_reset(int fd) {
  const linger abort_now{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_now, sizeof abort_now);
  ::close(fd);
}

enum class End { none, eof, reset };

struct Chunk {
  TimeUs due_us = 0;
  std::string bytes;
  std::size_t offset = 0;  // already written
};

// One direction of one connection.
struct Flow {
  std::deque<Chunk> queue;
  std::size_t held_bytes = 0;
  End end = End::none;  // how the source ended; passed on after the queue
  bool done = false;    // the end was passed on, or the destination is gone
};

enum class UpstreamState { idle, connecting, ready };

struct Connection {
  int fd[2] = {-1, -1};  // kClient, kUpstream; -1 = closed (or not yet opened)
  UpstreamState upstream = UpstreamState::idle;
  Flow flow[2];  // flow[d] reads fd[d] and writes fd[1 - d]
  bool finished() const { return (fd[0] < 0 && fd[1] < 0) || (flow[0].done && flow[1].done); }
};

struct Impairments {
  int cuts[2] = {0, 0};  // per flow: kClient = to_upstream, kUpstream = to_client
  TimeUs delay_us = 0;
  std::vector<double> drops;
  bool cut_any() const { return cuts[0] > 0 || cuts[1] > 0; }
  double drop_probability() const {
    double pass = 1.0;
    for (double p : drops) pass *= 1.0 - p;
    return 1.0 - pass;
  }
};
}  // namespace

struct TcpProxy::State {
  std::string name;
  sockaddr_storage upstream{};
  socklen_t upstream_length = 0;
  int listen_fd = -1;
  int port = 0;
  int wake[2] = {-1, -1};
  std::uint64_t random_state = 0;
  std::atomic<bool> stopping{false};
  std::thread thread;

  mutable std::mutex mutex;  // guards configured
  Impairments configured;  // what the fault calls set; the proxy thread reads a snapshot()
  std::atomic<std::int64_t> connections{0};
  std::atomic<std::int64_t> bytes_forwarded{0};
  std::atomic<std::int64_t> resets_injected{0};
  std::atomic<int> open_count{0};

  std::vector<std::unique_ptr<Connection>> live;  // the proxy thread's only

  ~State();
  void wake_up();
  void change(const std::function<void(Impairments&)>& edit);
  void run();
  Impairments snapshot() const;
  double next_unit();
  void accept_clients(TimeUs now);
  void start_upstream(Connection& connection, const Impairments& impairments);
  void finish_connect(Connection& connection);
  void read_flow(Connection& connection, int d);
  void flush_flow(Connection& connection, int d, const Impairments& impairments, TimeUs now);
  void fail_side(Connection& connection, int side);
  void reset_connection(Connection& connection);
  void close_connection(Connection& connection);
  bool wants_read(const Connection& connection, int d) const;
  bool wants_write(const Connection& connection, int d, const Impairments& impairments, TimeUs now) const;
  TimeUs next_due_us(const Impairments& impairments, TimeUs now) const;
};

TcpProxy::State::~State() {
  for (auto& connection : live) {
    for (int& fd : connection->fd) {
      if (fd >= 0) close_with_reset(fd);
      fd = -1;
    }
  }
  if (listen_fd >= 0) ::close(listen_fd);
  for (int fd : wake) {
    if (fd >= 0) ::close(fd);
  }
}

void TcpProxy::State::wake_up() {
  const char byte = 1;
  // A full pipe already holds a wake-up: a failed write is ignored on purpose.
  [[maybe_unused]] const ssize_t wrote = ::write(wake[1], &byte, 1);
}

void TcpProxy::State::change(const std::function<void(Impairments&)>& edit) {
  {
    std::lock_guard<std::mutex> guard(mutex);
    edit(configured);
    REHEARSE_ASSERT(configured.cuts[0] >= 0);
    REHEARSE_ASSERT(configured.cuts[1] >= 0);
    REHEARSE_ASSERT(configured.delay_us >= 0);
  }
  wake_up();
}

Impairments TcpProxy::State::snapshot() const {
  std::lock_guard<std::mutex> guard(mutex);
  return configured;
}

double TcpProxy::State::next_unit() {
  std::uint64_t z = (random_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / 9007199254740992.0;
}

void TcpProxy::State::accept_clients(TimeUs /*now*/) {
  while (live.size() < kConnectionsMax) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: no one else waiting; other errors: the client is gone (ignored on purpose)
    set_nodelay(fd);
    auto connection = std::make_unique<Connection>();
    connection->fd[kClient] = fd;
    live.push_back(std::move(connection));
    ++connections;
    ++open_count;
  }
}

// The upstream connection starts once the link is not cut at all: a handshake needs both ways.
// A client that gave up before then never reached the backend: what it sent is discarded, as
// the data of a connection whose handshake never completed would be.
void TcpProxy::State::start_upstream(Connection& connection, const Impairments& impairments) {
  if (connection.upstream != UpstreamState::idle || connection.fd[kClient] < 0) return;
  if (connection.flow[kClient].end != End::none) {
    close_connection(connection);
    return;
  }
  if (impairments.cut_any()) return;
  const int fd = ::socket(upstream.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fail_side(connection, kUpstream);
    return;
  }
  set_nodelay(fd);
  connection.fd[kUpstream] = fd;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&upstream), upstream_length) == 0) {
    connection.upstream = UpstreamState::ready;
  } else if (errno == EINPROGRESS) {
    connection.upstream = UpstreamState::connecting;
  } else {
    fail_side(connection, kUpstream);  // refused: the client gets a reset
  }
}

void TcpProxy::State::finish_connect(Connection& connection) {
  REHEARSE_ASSERT(connection.upstream == UpstreamState::connecting);
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(connection.fd[kUpstream], SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  if (error == EINPROGRESS || error == EALREADY) return;
  if (error != 0) {
    fail_side(connection, kUpstream);
    return;
  }
  connection.upstream = UpstreamState::ready;
}

bool TcpProxy::State::wants_read(const Connection& connection, int d) const {
  const Flow& flow = connection.flow[d];
  const bool source_open = connection.fd[d] >= 0 && (d == kClient || connection.upstream == UpstreamState::ready);
  return source_open && flow.end == End::none && flow.held_bytes < kHeldBytesMax;
}

bool TcpProxy::State::wants_write(const Connection& connection, int d, const Impairments& impairments, TimeUs now) const {
  const Flow& flow = connection.flow[d];
  const int destination = 1 - d;
  const bool open = connection.fd[destination] >= 0 && (destination == kClient || connection.upstream == UpstreamState::ready);
  return open && !flow.done && impairments.cuts[d] == 0 && !flow.queue.empty() && flow.queue.front().due_us <= now;
}

// The delay and drop in force when the bytes were read apply to them: a fault set before a
// client sent something always applies to it.
void TcpProxy::State::read_flow(Connection& connection, int d) {
  Flow& flow = connection.flow[d];
  char buffer[kReadBytesMax];
  const ssize_t got = ::recv(connection.fd[d], buffer, sizeof buffer, 0);
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (got < 0) {
    fail_side(connection, d);
    return;
  }
  if (got == 0) {
    flow.end = End::eof;
    return;
  }
  const Impairments impairments = snapshot();
  const TimeUs now = steady_now_us();
  const double drop = impairments.drop_probability();
  if (drop > 0 && next_unit() < drop) {
    ++resets_injected;
    reset_connection(connection);
    return;
  }
  flow.queue.push_back(Chunk{now + impairments.delay_us, std::string(buffer, static_cast<std::size_t>(got)), 0});
  flow.held_bytes += static_cast<std::size_t>(got);
}

void TcpProxy::State::flush_flow(Connection& connection, int d, const Impairments& impairments, TimeUs now) {
  Flow& flow = connection.flow[d];
  const int destination = 1 - d;
  while (wants_write(connection, d, impairments, now)) {
    Chunk& chunk = flow.queue.front();
    REHEARSE_ASSERT(chunk.offset < chunk.bytes.size());
    const ssize_t wrote = ::send(connection.fd[destination], chunk.bytes.data() + chunk.offset, chunk.bytes.size() - chunk.offset, MSG_NOSIGNAL);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // poll() says when it drains
    if (wrote < 0) {
      fail_side(connection, destination);
      return;
    }
    chunk.offset += static_cast<std::size_t>(wrote);
    bytes_forwarded += wrote;
    if (chunk.offset == chunk.bytes.size()) {
      flow.held_bytes -= chunk.bytes.size();
      flow.queue.pop_front();
    }
  }
  const bool destination_open = connection.fd[destination] >= 0 && (destination == kClient || connection.upstream == UpstreamState::ready);
  if (flow.done || flow.end == End::none || !flow.queue.empty() || impairments.cuts[d] > 0 || !destination_open) return;
  flow.done = true;
  if (flow.end == End::eof) {
    ::shutdown(connection.fd[destination], SHUT_WR);  // the peer may already be gone: ignored on purpose
    return;
  }
  close_with_reset(connection.fd[destination]);
  connection.fd[destination] = -1;
  connection.flow[destination].done = true;  // nothing can be read from or written to it any more
}

// `side`'s socket failed (reset by its peer, a write refused, a connect refused): it is closed,
// what was meant for it is discarded, and the other side gets a reset once what came from the
// failed side before has been passed on.
void TcpProxy::State::fail_side(Connection& connection, int side) {
  if (connection.fd[side] >= 0) ::close(connection.fd[side]);
  connection.fd[side] = -1;
  if (side == kUpstream) connection.upstream = UpstreamState::ready;  // nothing more to connect
  Flow& toward = connection.flow[1 - side];
  toward.queue.clear();
  toward.held_bytes = 0;
  toward.done = true;
  Flow& from = connection.flow[side];
  if (from.end == End::none) from.end = End::reset;
  if (connection.fd[1 - side] < 0) from.done = true;
}

void TcpProxy::State::reset_connection(Connection& connection) {
  for (int& fd : connection.fd) {
    if (fd >= 0) close_with_reset(fd);
    fd = -1;
  }
  connection.flow[0].done = connection.flow[1].done = true;
}

void TcpProxy::State::close_connection(Connection& connection) {
  for (int& fd : connection.fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  connection.flow[0].done = connection.flow[1].done = true;
}

// When the earliest held chunk that waits only for its delay is due (or a slice from now).
TimeUs TcpProxy::State::next_due_us(const Impairments& impairments, TimeUs now) const {
  TimeUs due = now + kPollSliceUs;
  for (const auto& connection : live) {
    for (int d = 0; d < 2; ++d) {
      const Flow& flow = connection->flow[d];
      // A chunk already due waits for POLLOUT (or a connect), not for the timer.
      if (!flow.done && impairments.cuts[d] == 0 && !flow.queue.empty() && flow.queue.front().due_us > now) {
        due = std::min(due, flow.queue.front().due_us);
      }
    }
  }
  return std::max(due, now);
}

void TcpProxy::State::run() {
  std::vector<pollfd> polled;
  std::vector<std::pair<Connection*, int>> owners;  // per polled socket after the first two
  while (!stopping.load()) {
    const Impairments impairments = snapshot();
    TimeUs now = steady_now_us();
    for (auto& connection : live) {
      start_upstream(*connection, impairments);
      for (int d = 0; d < 2; ++d) flush_flow(*connection, d, impairments, now);
      if (connection->finished()) close_connection(*connection);
    }
    const auto before = live.size();
    std::erase_if(live, [](const auto& connection) { return connection->finished(); });
    open_count -= static_cast<int>(before - live.size());

    polled.assign({pollfd{wake[0], POLLIN, 0}, pollfd{live.size() < kConnectionsMax ? listen_fd : -1, POLLIN, 0}});
    owners.clear();
    for (auto& connection : live) {
      for (int side = 0; side < 2; ++side) {
        short events = 0;
        if (wants_read(*connection, side)) events |= POLLIN;
        if (wants_write(*connection, 1 - side, impairments, now)) events |= POLLOUT;
        if (side == kUpstream && connection->upstream == UpstreamState::connecting) events |= POLLOUT;
        polled.push_back(pollfd{events != 0 ? connection->fd[side] : -1, events, 0});
        owners.emplace_back(connection.get(), side);
      }
    }
    const TimeUs wait_us = next_due_us(impairments, now) - now;
    const timespec timeout{static_cast<time_t>(wait_us / kSec), static_cast<long>((wait_us % kSec) * 1000)};
    const int ready = ::ppoll(polled.data(), polled.size(), &timeout, nullptr);
    if (ready <= 0) continue;  // timeout (delays due) or EINTR
    if (polled[0].revents != 0) {
      char drain[256];
      while (::read(wake[0], drain, sizeof drain) > 0) {
      }
    }
    now = steady_now_us();
    if (polled[1].revents != 0) accept_clients(now);
    for (std::size_t i = 0; i < owners.size(); ++i) {
      const short revents = polled[i + 2].revents;
      if (revents == 0) continue;
      auto [connection, side] = owners[i];
      if (connection->fd[side] < 0) continue;  // reset earlier in this round
      if (side == kUpstream && connection->upstream == UpstreamState::connecting) {
        finish_connect(*connection);
        continue;
      }
      if (connection->fd[side] >= 0 && wants_read(*connection, side) && (revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        read_flow(*connection, side);
      }
    }
  }
}

TcpProxy::TcpProxy(std::unique_ptr<State> state) : state_(std::move(state)) {}

TcpProxy::~TcpProxy() {
  state_->stopping = true;
  state_->wake_up();
  if (state_->thread.joinable()) state_->thread.join();
}

Result<std::unique_ptr<TcpProxy>> TcpProxy::start(std::string name, const std::string& upstream_host, int upstream_port,
                                                  std::uint64_t seed) {
  REHEARSE_ASSERT(upstream_port > 0 && upstream_port < 65536);
  auto state = std::make_unique<State>();
  state->name = std::move(name);
  state->random_state = seed;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(upstream_host.c_str(), std::to_string(upstream_port).c_str(), &hints, &found) != 0 || found == nullptr) {
    return Status::unavailable(fmt::format("proxy {}: cannot resolve {}", state->name, upstream_host));
  }
  const addrinfo* chosen = found;
  for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
    if (entry->ai_family == AF_INET) {  // as libpq and hiredis would try first on loopback setups
      chosen = entry;
      break;
    }
  }
  std::memcpy(&state->upstream, chosen->ai_addr, chosen->ai_addrlen);
  state->upstream_length = chosen->ai_addrlen;
  ::freeaddrinfo(found);

  if (::pipe2(state->wake, O_NONBLOCK | O_CLOEXEC) != 0) return Status::unavailable("proxy: pipe failed");
  state->listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (state->listen_fd < 0) return Status::unavailable("proxy: socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(state->listen_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(state->listen_fd, kListenBacklog) != 0 ||
      ::getsockname(state->listen_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return Status::unavailable(fmt::format("proxy {}: cannot listen on 127.0.0.1: {}", state->name, std::strerror(errno)));
  }
  state->port = ntohs(address.sin_port);
  REHEARSE_ASSERT(state->port > 0);
  State* raw = state.get();
  state->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<TcpProxy>(new TcpProxy(std::move(state)));
}

const std::string& TcpProxy::name() const { return state_->name; }
int TcpProxy::port() const { return state_->port; }

void TcpProxy::cut(ProxyDirection direction) {
  state_->change([direction](Impairments& impairments) {
    if (direction != ProxyDirection::to_client) ++impairments.cuts[kClient];
    if (direction != ProxyDirection::to_upstream) ++impairments.cuts[kUpstream];
  });
}

void TcpProxy::uncut(ProxyDirection direction) {
  state_->change([direction](Impairments& impairments) {
    if (direction != ProxyDirection::to_client) --impairments.cuts[kClient];
    if (direction != ProxyDirection::to_upstream) --impairments.cuts[kUpstream];
  });
}

void TcpProxy::add_delay(TimeUs extra_us) {
  REHEARSE_ASSERT(extra_us >= 0);
  state_->change([extra_us](Impairments& impairments) { impairments.delay_us += extra_us; });
}

void TcpProxy::remove_delay(TimeUs extra_us) {
  REHEARSE_ASSERT(extra_us >= 0);
  state_->change([extra_us](Impairments& impairments) { impairments.delay_us -= extra_us; });
}

void TcpProxy::add_drop(double probability) {
  REHEARSE_ASSERT(probability >= 0 && probability <= 1);
  state_->change([probability](Impairments& impairments) { impairments.drops.push_back(probability); });
}

void TcpProxy::remove_drop(double probability) {
  state_->change([probability](Impairments& impairments) {
    auto it = std::find(impairments.drops.begin(), impairments.drops.end(), probability);
    REHEARSE_ASSERT(it != impairments.drops.end());
    impairments.drops.erase(it);
  });
}

void TcpProxy::heal() {
  state_->change([](Impairments& impairments) { impairments = Impairments{}; });
}

ProxyStats TcpProxy::stats() const {
  return ProxyStats{state_->connections.load(), state_->bytes_forwarded.load(), state_->resets_injected.load()};
}

int TcpProxy::open_connections() const { return state_->open_count.load(); }

}  // namespace rehearse::live
