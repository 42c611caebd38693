// The history of a run: every event with its true time, node, kind, fencing token and outcome.
// The simulator (or the live runner) appends; the invariant checkers and reports read it.
// Every event is folded into a 64-bit trace hash that does not depend on the machine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model.h"

namespace rehearse {

enum class EventKind : std::uint8_t {
  run_start,
  run_end,
  node_start,
  node_pause,
  node_resume,
  node_crash,
  node_restart,
  fault_start,
  fault_end,
  fault_skipped,
  lock_acquire,   // client: outcome ok (token) or failed
  lock_renew,     // client
  lock_release,   // client
  lock_lost,      // client: learned that its lease is gone
  lock_grant,     // store: granted the key to a client (token)
  lock_expire,    // store: the key expired on the store's clock
  engine_start,
  engine_exit,
  phase,          // the engine entered a phase in a region (detail = phase name)
  write,          // a protected write at a database: outcome applied / rejected
  validate,       // validation result in a region
  region_state,   // a region's persisted state changed (detail = state)
  message,        // free-form engine log line
};

enum class Outcome : std::uint8_t { none, ok, failed, applied, rejected, unknown, skipped };

// What a protected write did (kind of the write, for the mutual-exclusion checker and reports).
enum class WriteKind : std::uint8_t { none, ddl, backfill, flag, checkpoint };

struct Event {
  std::uint64_t id = 0;      // position in the history, 0-based
  TimeUs time_us = 0;        // true simulated (or live wall) time
  std::string node;          // node where it happened: engine-1, db:us-east-1, lock, ...
  EventKind kind = EventKind::message;
  Outcome outcome = Outcome::none;
  WriteKind write = WriteKind::none;
  std::int64_t token = 0;    // fencing token involved, 0 = none
  std::string actor;         // for writes and grants: the engine instance (engine-2)
  std::string region;        // region concerned, if any
  std::string detail;        // one short human sentence or name
  std::int64_t a = 0;        // kind-specific numbers (batch low id, rows, ...)
  std::int64_t b = 0;
};

const char* to_string(EventKind kind);
const char* to_string(Outcome outcome);
const char* to_string(WriteKind write);

class History {
 public:
  // Appends `event` (its id is assigned here) and folds it into the hash; returns the id.
  std::uint64_t append(Event event);
  const std::vector<Event>& events() const { return events_; }
  std::uint64_t trace_hash() const { return hash_; }
  // The hash as 16 lowercase hex digits.
  std::string trace_hash_hex() const;

 private:
  std::vector<Event> events_;
  std::uint64_t hash_ = 0x9c1f03ab77e2d410ULL;
};

// Stable 64-bit hashing helpers (FNV-1a over explicit little-endian bytes).
std::uint64_t hash_bytes(std::uint64_t hash, const void* data, std::size_t size);
std::uint64_t hash_u64(std::uint64_t hash, std::uint64_t value);
std::uint64_t hash_string(std::uint64_t hash, const std::string& text);

}  // namespace rehearse
