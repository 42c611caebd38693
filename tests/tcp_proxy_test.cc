// Tests of the fault-injecting TCP proxy (real_backends/tcp_proxy.h) over loopback sockets, no
// database: bytes pass both ways unchanged; a cut holds bytes (and new connections) and heal
// delivers everything in order; a one-way cut stops one direction only; a delay holds bytes for
// at least the extra time (lower bounds only: this machine is shared and noisy); end-of-stream,
// half-close and resets propagate; a drop resets the connection; many connections at once; a
// refused upstream reaches the client as a reset.
#include "real_backends/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace rehearse::live {
namespace {

constexpr int kPatientMs = 5000;  // what "eventually" means here: long, only ever waited for on success
constexpr int kQuietMs = 300;     // how long nothing must arrive while a link is cut

int listen_loopback(int* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(::listen(fd, 64), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  *port = ntohs(address.sin_port);
  return fd;
}

int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  return fd;
}

bool readable(int fd, int timeout_ms) {
  pollfd polled{fd, POLLIN, 0};
  return ::poll(&polled, 1, timeout_ms) > 0;
}

// Accepts one connection within `timeout_ms`, or -1.
int accept_within(int listen_fd, int timeout_ms) {
  if (!readable(listen_fd, timeout_ms)) return -1;
  return ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
}

void send_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t wrote = ::send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
    ASSERT_GT(wrote, 0);
    done += static_cast<std::size_t>(wrote);
  }
}

// Reads until `bytes` arrived, the peer ended, or `timeout_ms` passed without a byte.
std::string receive(int fd, std::size_t bytes, int timeout_ms = kPatientMs) {
  std::string text;
  char buffer[65536];
  while (text.size() < bytes && readable(fd, timeout_ms)) {
    const ssize_t got = ::recv(fd, buffer, std::min(sizeof buffer, bytes - text.size()), 0);
    if (got <= 0) break;
    text.append(buffer, static_cast<std::size_t>(got));
  }
  return text;
}

// What the next read says once something happens: 0 = end-of-stream, -errno = an error, else bytes.
ssize_t next_read(int fd) {
  if (!readable(fd, kPatientMs)) return -ETIMEDOUT;
  char byte;
  const ssize_t got = ::recv(fd, &byte, 1, 0);
  return got < 0 ? -errno : got;
}

std::string pattern(std::size_t bytes) {
  std::string text(bytes, '\0');
  for (std::size_t i = 0; i < bytes; ++i) text[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return text;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

class TcpProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    upstream_listen_ = listen_loopback(&upstream_port_);
    Result<std::unique_ptr<TcpProxy>> started = TcpProxy::start("test", "127.0.0.1", upstream_port_, 42);
    ASSERT_TRUE(started.is_ok()) << started.status().to_string();
    proxy_ = std::move(started.value());
  }
  void TearDown() override {
    proxy_.reset();
    ::close(upstream_listen_);
  }
  // A client connected through the proxy and the server's end of that connection.
  std::pair<int, int> open_pair() {
    const int client = connect_loopback(proxy_->port());
    const int server = accept_within(upstream_listen_, kPatientMs);
    EXPECT_GE(server, 0);
    return {client, server};
  }

  int upstream_listen_ = -1;
  int upstream_port_ = 0;
  std::unique_ptr<TcpProxy> proxy_;
};

// Half a megabyte each way arrives unchanged (several reads, chunks and partial writes).
TEST_F(TcpProxyTest, PassesBytesBothWaysUnchanged) {
  auto [client, server] = open_pair();
  const std::string request = pattern(512 * 1024);
  std::thread sender([client = client, &request] { send_all(client, request); });
  EXPECT_EQ(receive(server, request.size()), request);
  sender.join();
  const std::string reply = pattern(300 * 1024 + 17);
  std::thread replier([server = server, &reply] { send_all(server, reply); });
  EXPECT_EQ(receive(client, reply.size()), reply);
  replier.join();
  EXPECT_EQ(proxy_->stats().connections, 1);
  // The proxy counts a chunk after its send returned, which can be after the reader has it.
  const auto forwarded = static_cast<std::int64_t>(request.size() + reply.size());
  for (int waited = 0; waited < kPatientMs && proxy_->stats().bytes_forwarded < forwarded; waited += 10) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(proxy_->stats().bytes_forwarded, forwarded);
  ::close(client);
  ::close(server);
}

// A cut link holds what is sent both ways; heal delivers all of it, in order.
TEST_F(TcpProxyTest, CutHoldsBytesAndHealDeliversThemInOrder) {
  auto [client, server] = open_pair();
  proxy_->cut(ProxyDirection::both);
  send_all(client, "first ");
  send_all(client, "second");
  send_all(server, "reply");
  EXPECT_FALSE(readable(server, kQuietMs)) << "bytes crossed a cut link to the server";
  EXPECT_FALSE(readable(client, kQuietMs)) << "bytes crossed a cut link to the client";
  proxy_->uncut(ProxyDirection::both);
  EXPECT_EQ(receive(server, 12), "first second");
  EXPECT_EQ(receive(client, 5), "reply");
  ::close(client);
  ::close(server);
}

// Overlapping cuts are counted: the link stays cut until the last one ends; heal() ends all.
TEST_F(TcpProxyTest, OverlappingCutsEndIndependently) {
  auto [client, server] = open_pair();
  proxy_->cut(ProxyDirection::both);
  proxy_->cut(ProxyDirection::to_upstream);
  proxy_->uncut(ProxyDirection::both);
  send_all(client, "x");
  EXPECT_FALSE(readable(server, kQuietMs));
  proxy_->heal();
  EXPECT_EQ(receive(server, 1), "x");
  ::close(client);
  ::close(server);
}

// A one-way cut (client -> upstream) stops that direction only.
TEST_F(TcpProxyTest, OnewayCutStopsOneDirectionOnly) {
  auto [client, server] = open_pair();
  proxy_->cut(ProxyDirection::to_upstream);
  send_all(client, "request");
  send_all(server, "news");
  EXPECT_EQ(receive(client, 4), "news");
  EXPECT_FALSE(readable(server, kQuietMs));
  proxy_->uncut(ProxyDirection::to_upstream);
  EXPECT_EQ(receive(server, 7), "request");

  proxy_->cut(ProxyDirection::to_client);
  send_all(server, "answer");
  send_all(client, "more");
  EXPECT_EQ(receive(server, 4), "more");
  EXPECT_FALSE(readable(client, kQuietMs));
  proxy_->uncut(ProxyDirection::to_client);
  EXPECT_EQ(receive(client, 6), "answer");
  ::close(client);
  ::close(server);
}

// A connection opened during a partition does not reach the backend until the link heals;
// what the client sent meanwhile arrives then.
TEST_F(TcpProxyTest, NewConnectionDuringCutReachesTheBackendAfterHeal) {
  proxy_->cut(ProxyDirection::both);
  const int client = connect_loopback(proxy_->port());
  send_all(client, "hello");
  EXPECT_EQ(accept_within(upstream_listen_, kQuietMs), -1) << "a connection crossed a cut link";
  proxy_->heal();
  const int server = accept_within(upstream_listen_, kPatientMs);
  ASSERT_GE(server, 0);
  EXPECT_EQ(receive(server, 5), "hello");
  ::close(client);
  ::close(server);
}

// A client that connects during a partition and gives up before it heals never reaches the
// backend: a late, stale request (a lock renewal, say) must not arrive after the heal.
TEST_F(TcpProxyTest, ConnectionAbandonedDuringCutNeverReachesTheBackend) {
  proxy_->cut(ProxyDirection::both);
  const int client = connect_loopback(proxy_->port());
  send_all(client, "stale request");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ::close(client);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  proxy_->heal();
  EXPECT_EQ(accept_within(upstream_listen_, kQuietMs), -1) << "an abandoned connection reached the backend";
}

// Each direction is held back at least `extra`; order is kept.
TEST_F(TcpProxyTest, DelayHoldsBytesAtLeastTheExtraTime) {
  auto [client, server] = open_pair();
  constexpr int kExtraMs = 200;
  proxy_->add_delay(kExtraMs * kMs);
  const std::int64_t sent = now_ms();
  send_all(client, "ping");
  EXPECT_EQ(receive(server, 4), "ping");
  const std::int64_t arrived = now_ms();
  EXPECT_GE(arrived - sent, kExtraMs);
  send_all(server, "pong");
  send_all(server, "-and-more");
  EXPECT_EQ(receive(client, 13), "pong-and-more");
  EXPECT_GE(now_ms() - arrived, kExtraMs);
  proxy_->remove_delay(kExtraMs * kMs);
  ::close(client);
  ::close(server);
}

// Half-close passes through (the other direction keeps working), then the full close.
TEST_F(TcpProxyTest, EndOfStreamAndHalfClosePropagate) {
  auto [client, server] = open_pair();
  send_all(client, "last words");
  ::shutdown(client, SHUT_WR);
  EXPECT_EQ(receive(server, 10), "last words");
  EXPECT_EQ(next_read(server), 0) << "the client's end-of-stream did not reach the server";
  send_all(server, "still here");
  EXPECT_EQ(receive(client, 10), "still here");
  ::close(server);
  EXPECT_EQ(next_read(client), 0) << "the server's close did not reach the client";
  ::close(client);
  for (int waited = 0; waited < kPatientMs && proxy_->open_connections() > 0; waited += 10) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(proxy_->open_connections(), 0);
}

// A reset by the server reaches the client as a reset (not as an orderly end).
TEST_F(TcpProxyTest, ResetPropagates) {
  auto [client, server] = open_pair();
  const linger abort_now{1, 0};
  ::setsockopt(server, SOL_SOCKET, SO_LINGER, &abort_now, sizeof abort_now);
  ::close(server);
  EXPECT_EQ(next_read(client), -ECONNRESET);
  ::close(client);
}

// With drop probability 1 the first chunk resets the connection: both sides see it end.
TEST_F(TcpProxyTest, DropResetsTheConnection) {
  auto [client, server] = open_pair();
  proxy_->add_drop(1.0);
  send_all(client, "lost");
  EXPECT_EQ(next_read(client), -ECONNRESET);
  EXPECT_LE(next_read(server), 0) << "the server received a dropped chunk";
  EXPECT_EQ(proxy_->stats().resets_injected, 1);
  proxy_->remove_drop(1.0);
  ::close(client);
  ::close(server);
}

// Forty clients at once, each echoed by its own server thread, all get their own bytes back.
TEST_F(TcpProxyTest, ManyConnectionsAtOnce) {
  constexpr int kClients = 40;
  std::vector<std::thread> echoes;
  std::thread acceptor([&] {
    for (int i = 0; i < kClients; ++i) {
      const int server = accept_within(upstream_listen_, kPatientMs);
      if (server < 0) return;
      echoes.emplace_back([server] {
        char buffer[4096];
        for (ssize_t got; (got = ::recv(server, buffer, sizeof buffer, 0)) > 0;) send_all(server, std::string(buffer, static_cast<std::size_t>(got)));
        ::close(server);
      });
    }
  });
  std::vector<int> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(connect_loopback(proxy_->port()));
  for (int i = 0; i < kClients; ++i) send_all(clients[static_cast<std::size_t>(i)], "client-" + std::to_string(i + 1000) + pattern(5000));
  for (int i = 0; i < kClients; ++i) {
    const std::string expected = "client-" + std::to_string(i + 1000) + pattern(5000);
    EXPECT_EQ(receive(clients[static_cast<std::size_t>(i)], expected.size()), expected) << i;
    ::close(clients[static_cast<std::size_t>(i)]);
  }
  acceptor.join();
  for (auto& echo : echoes) echo.join();
  EXPECT_EQ(proxy_->stats().connections, kClients);
}

// An upstream that refuses connections: the client's connection is reset.
TEST(TcpProxyRefused, RefusedUpstreamResetsTheClient) {
  int port = 0;
  const int closed = listen_loopback(&port);
  ::close(closed);  // nothing listens on `port` now
  Result<std::unique_ptr<TcpProxy>> proxy = TcpProxy::start("refused", "127.0.0.1", port, 1);
  ASSERT_TRUE(proxy.is_ok());
  // Nothing is sent: a send that met the reset first would consume the error, and the read
  // after it would see a plain end-of-stream.
  const int client = connect_loopback(proxy.value()->port());
  EXPECT_EQ(next_read(client), -ECONNRESET);
  ::close(client);
}

}  // namespace
}  // namespace rehearse::live
