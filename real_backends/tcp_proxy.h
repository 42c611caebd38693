// A fault-injecting TCP proxy: the network faults of live mode (`partition`, `delay`, `drop`)
// made real between one client (an engine process, a region's application) and one backend (a
// PostgreSQL server, a Redis lock server). The client connects to 127.0.0.1:port() instead of
// the backend; every accepted connection gets its own upstream connection, and bytes are
// forwarded both ways by one thread per proxy (a poll() loop over non-blocking sockets).
// live_network.h decides which proxies a run needs and which faults reach which of them.
//
// The faults, per direction (client -> upstream, upstream -> client):
// - cut: bytes are read but held, not forwarded, as on a partitioned link where TCP keeps
//   retransmitting; so are end-of-stream and resets. A connection accepted while the link is
//   cut in either direction does not reach the backend until it heals (a handshake needs both
//   directions). heal: everything held goes out, in order, nothing lost.
// - delay: each chunk read is forwarded no earlier than `extra` after it was read; order kept.
// - drop: TCP has no message loss an application can see, so a dropped chunk resets the
//   connection instead (both sides get a RST): with probability p per chunk read.
// Faults are counted, so overlapping faults on one link end independently.
// The fault methods are thread-safe; the proxy's own thread is the only one touching sockets.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/model.h"
#include "core/status.h"

namespace rehearse::live {

enum class ProxyDirection { to_upstream, to_client, both };

struct ProxyStats {
  std::int64_t connections = 0;      // accepted from clients
  std::int64_t bytes_forwarded = 0;  // both directions
  std::int64_t resets_injected = 0;  // connections reset by `drop`
};

class TcpProxy {
 public:
  // Listens on 127.0.0.1 (ephemeral port) for `upstream_host:upstream_port` and starts the
  // forwarding thread. `seed` draws the drops. Returns unavailable when the host does not
  // resolve or the listening socket cannot be opened.
  static Result<std::unique_ptr<TcpProxy>> start(std::string name, const std::string& upstream_host, int upstream_port,
                                                 std::uint64_t seed);
  ~TcpProxy();  // stops the thread and closes every connection (the clients see a reset)
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  const std::string& name() const;
  int port() const;  // the listening port on 127.0.0.1

  // Adds one cut of `direction` (counted); uncut() removes one. REQUIRES: uncut matches a cut.
  void cut(ProxyDirection direction);
  void uncut(ProxyDirection direction);
  // Adds / removes `extra_us` of delay (active delays add up). REQUIRES: extra_us >= 0.
  void add_delay(TimeUs extra_us);
  void remove_delay(TimeUs extra_us);
  // Adds / removes a drop probability (independent drops combine: 1 - prod(1 - p)).
  // REQUIRES: 0 <= probability <= 1.
  void add_drop(double probability);
  void remove_drop(double probability);
  // Ends every cut, delay and drop.
  void heal();

  ProxyStats stats() const;
  // Connections open now (tests).
  int open_connections() const;

 private:
  struct State;
  explicit TcpProxy(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace rehearse::live
