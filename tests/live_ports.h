// Where the live tests find scripts/live-up's servers (docs/live.md, "Ports"): their directory
// and their ports, per checkout, so two checkouts on one machine run the live suites side by
// side.
//
// - The directory is $REHEARSE_LIVE_DIR, or /tmp/rehearse-live-test-HASH, HASH eight hex digits
//   of this checkout's path (REHEARSE_SOURCE_DIR).
// - The port base handed to live-up is $REHEARSE_LIVE_PORT_BASE, or 20000 + 100 x (HASH mod 100):
//   a block of 20000..29999, below the kernel's ephemeral ports (32768..60999, where the
//   fault-injecting proxies and every client's connections take theirs).
// - A port is read from the directory's ports.env (written by live-up, so a directory started
//   by hand with other ports is read as it is); before live-up has written it, it is the port
//   live-up will choose for that base (the same table as scripts/live-up).
// - $REHEARSE_LIVE_SET (1 by default) picks one of the checkout's server sets, so that CTest runs
//   the live suites' halves side by side (CMakeLists.txt): set N > 1 adds "-setN" to the
//   directory and moves the port base by 50 blocks (derived) or N-1 blocks (given as a number).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace rehearse::testing {

// FNV-1a, 32 bits: stable across builds and machines (std::hash is not).
inline std::uint32_t checkout_hash() {
  std::uint32_t hash = 2166136261u;
  for (const char c : std::string(REHEARSE_SOURCE_DIR)) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619u;
  }
  return hash;
}

inline std::string env_text_or(const char* name, const std::string& fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::string(text) : fallback;
}

// This process's server set: $REHEARSE_LIVE_SET, 1..9, 1 when unset. Another value is a broken
// test set-up: it stops the process with a message rather than sharing set 1's servers.
inline int live_set() {
  static const int set = [] {
    const std::string text = env_text_or("REHEARSE_LIVE_SET", "1");
    if (text.size() != 1 || text[0] < '1' || text[0] > '9') {
      std::fprintf(stderr, "REHEARSE_LIVE_SET=%s: expected one digit 1..9\n", text.c_str());
      std::abort();
    }
    return text[0] - '0';
  }();
  return set;
}

// The servers' directory of this checkout's live tests (of its set).
inline const std::string& live_dir() {
  static const std::string dir = [] {
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(checkout_hash()));
    const std::string base = env_text_or("REHEARSE_LIVE_DIR", std::string("/tmp/rehearse-live-test-") + hex);
    return live_set() == 1 ? base : base + "-set" + std::to_string(live_set());
  }();
  return dir;
}

// The port base the tests hand to scripts/live-up ("" would mean the fixed ports of old; a
// number; or "auto").
inline const std::string& live_port_base() {
  static const std::string base = [] {
    const int other_sets = live_set() - 1;
    const std::string given = env_text_or("REHEARSE_LIVE_PORT_BASE", "");
    if (given.empty()) return std::to_string(20000 + 100 * ((checkout_hash() + 50u * static_cast<unsigned>(other_sets)) % 100));
    if (given.find_first_not_of("0123456789") != std::string::npos) return given;  // "auto": live-up picks a free block
    return std::to_string(std::atoi(given.c_str()) + 100 * other_sets);
  }();
  return base;
}

// The environment of a scripts/live-up or live-down call: "REHEARSE_LIVE_DIR=... REHEARSE_LIVE_PORT_BASE=... ".
inline std::string live_script_env() {
  return "REHEARSE_LIVE_DIR='" + live_dir() + "' REHEARSE_LIVE_PORT_BASE='" + live_port_base() + "' ";
}

// `scripts/NAME` (live-up, live-down) for this checkout's directory and ports, output discarded;
// true when it exited 0.
inline bool run_live_script(const std::string& name) {
  return std::system((live_script_env() + REHEARSE_SOURCE_DIR + "/scripts/" + name + " >/dev/null 2>&1").c_str()) == 0;
}

// The port of one server, by its ports.env name without the REHEARSE_PORT_ prefix:
// PG_US_EAST_1, PG_US_EAST_1_REPLICA_1, PG_EU_WEST_1, REDIS_1..3, REDIS_REPLICA, ETCD_CLIENT, ETCD_PEER (member 1),
// ETCD_CLIENT_2, ETCD_PEER_2, ETCD_CLIENT_3, ETCD_PEER_3,
// ZK_CLIENT_1..3, ZK_QUORUM_1..3, ZK_ELECTION_1..3. Throws std::out_of_range for another name.
inline int live_port(const std::string& name) {
  static const std::map<std::string, int> fixed{
      {"PG_US_EAST_1", 55432}, {"PG_US_EAST_1_REPLICA_1", 55433}, {"PG_EU_WEST_1", 55434}, {"REDIS_1", 56379},
      {"REDIS_2", 56380},      {"REDIS_3", 56381},                {"REDIS_REPLICA", 56382}, {"ETCD_CLIENT", 52379},  {"ETCD_PEER", 52380},
      {"ETCD_CLIENT_2", 52381}, {"ETCD_PEER_2", 52382}, {"ETCD_CLIENT_3", 52383}, {"ETCD_PEER_3", 52384},
      {"ZK_CLIENT_1", 52181},  {"ZK_CLIENT_2", 52182},            {"ZK_CLIENT_3", 52183},  {"ZK_QUORUM_1", 52191},
      {"ZK_QUORUM_2", 52192},  {"ZK_QUORUM_3", 52193},            {"ZK_ELECTION_1", 52201}, {"ZK_ELECTION_2", 52202},
      {"ZK_ELECTION_3", 52203}};
  static const std::map<std::string, int> offsets{
      {"PG_US_EAST_1", 0},  {"PG_US_EAST_1_REPLICA_1", 1}, {"PG_EU_WEST_1", 2}, {"REDIS_1", 10},     {"REDIS_2", 11},
      {"REDIS_3", 12},      {"REDIS_REPLICA", 13},  {"ETCD_CLIENT", 20},           {"ETCD_PEER", 21},
      {"ETCD_CLIENT_2", 22}, {"ETCD_PEER_2", 23}, {"ETCD_CLIENT_3", 24}, {"ETCD_PEER_3", 25},   {"ZK_CLIENT_1", 30}, {"ZK_CLIENT_2", 31},
      {"ZK_CLIENT_3", 32},  {"ZK_QUORUM_1", 40},           {"ZK_QUORUM_2", 41}, {"ZK_QUORUM_3", 42}, {"ZK_ELECTION_1", 50},
      {"ZK_ELECTION_2", 51}, {"ZK_ELECTION_3", 52}};
  const int fallback_fixed = fixed.at(name);
  // ports.env first: read each time (live-up may have written it since the last call).
  std::ifstream file(live_dir() + "/ports.env");
  const std::string key = "REHEARSE_PORT_" + name + "=";
  for (std::string line; std::getline(file, line);) {
    if (line.rfind(key, 0) == 0) return std::atoi(line.c_str() + key.size());
  }
  const std::string& base = live_port_base();
  if (base.empty() || base.find_first_not_of("0123456789") != std::string::npos) return fallback_fixed;
  return std::atoi(base.c_str()) + offsets.at(name);
}

// "host=127.0.0.1 port=P dbname=DATABASE user=postgres" of a PostgreSQL server (PG_* names);
// no dbname when `database` is empty.
inline std::string live_pg_dsn(const std::string& server, const std::string& database = "app") {
  return "host=127.0.0.1 port=" + std::to_string(live_port(server)) + (database.empty() ? "" : " dbname=" + database) + " user=postgres";
}

// "127.0.0.1:P" of a lock server (REDIS_*, ZK_CLIENT_*); live_etcd_url() etcd member 1's client URL,
// live_etcd_urls() the three members'.
inline std::string live_endpoint(const std::string& server) { return "127.0.0.1:" + std::to_string(live_port(server)); }
inline std::string live_etcd_url() { return "http://" + live_endpoint("ETCD_CLIENT"); }
inline std::vector<std::string> live_etcd_urls() {
  return {live_etcd_url(), "http://" + live_endpoint("ETCD_CLIENT_2"), "http://" + live_endpoint("ETCD_CLIENT_3")};
}

}  // namespace rehearse::testing
