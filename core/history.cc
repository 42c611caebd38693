// History storage and the machine-independent trace hash.
#include "core/history.h"

#include <fmt/format.h>

#include "core/assert.h"

namespace rehearse {

namespace {
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;
}

std::uint64_t hash_bytes(std::uint64_t hash, const void* data, std::size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= kFnvPrime;
  }
  return hash;
}

std::uint64_t hash_u64(std::uint64_t hash, std::uint64_t value) {
  // Explicit little-endian byte order, so the hash is the same on every machine.
  for (int i = 0; i < 8; ++i) {
    hash ^= (value >> (8 * i)) & 0xffU;
    hash *= kFnvPrime;
  }
  return hash;
}

std::uint64_t hash_string(std::uint64_t hash, const std::string& text) {
  hash = hash_u64(hash, text.size());
  return hash_bytes(hash, text.data(), text.size());
}

std::uint64_t History::append(Event event) {
  event.id = events_.size();
  std::uint64_t h = hash_;
  h = hash_u64(h, static_cast<std::uint64_t>(event.time_us));
  h = hash_string(h, event.node);
  h = hash_u64(h, static_cast<std::uint64_t>(event.kind));
  h = hash_u64(h, static_cast<std::uint64_t>(event.outcome));
  h = hash_u64(h, static_cast<std::uint64_t>(event.write));
  h = hash_u64(h, static_cast<std::uint64_t>(event.token));
  h = hash_string(h, event.actor);
  h = hash_string(h, event.region);
  h = hash_string(h, event.detail);
  // A fault event's `a` is the scenario line that wrote the fault (for reports): where it was
  // written, not what happened, so a comment added above it must not change the hash.
  const bool fault = event.kind == EventKind::fault_start || event.kind == EventKind::fault_end ||
                     event.kind == EventKind::fault_skipped;
  h = hash_u64(h, fault ? 0 : static_cast<std::uint64_t>(event.a));
  h = hash_u64(h, static_cast<std::uint64_t>(event.b));
  hash_ = h;
  REHEARSE_ASSERT(events_.empty() || events_.back().time_us <= event.time_us);
  events_.push_back(std::move(event));
  return events_.size() - 1;
}

std::string History::trace_hash_hex() const { return fmt::format("{:016x}", hash_); }

const char* to_string(EventKind kind) {
  switch (kind) {
    case EventKind::run_start: return "run_start";
    case EventKind::run_end: return "run_end";
    case EventKind::node_start: return "node_start";
    case EventKind::node_pause: return "node_pause";
    case EventKind::node_resume: return "node_resume";
    case EventKind::node_crash: return "node_crash";
    case EventKind::node_restart: return "node_restart";
    case EventKind::fault_start: return "fault_start";
    case EventKind::fault_end: return "fault_end";
    case EventKind::fault_skipped: return "fault_skipped";
    case EventKind::lock_acquire: return "lock_acquire";
    case EventKind::lock_renew: return "lock_renew";
    case EventKind::lock_release: return "lock_release";
    case EventKind::lock_lost: return "lock_lost";
    case EventKind::lock_grant: return "lock_grant";
    case EventKind::lock_expire: return "lock_expire";
    case EventKind::engine_start: return "engine_start";
    case EventKind::engine_exit: return "engine_exit";
    case EventKind::phase: return "phase";
    case EventKind::write: return "write";
    case EventKind::validate: return "validate";
    case EventKind::region_state: return "region_state";
    case EventKind::message: return "message";
  }
  return "?";
}

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::none: return "none";
    case Outcome::ok: return "ok";
    case Outcome::failed: return "failed";
    case Outcome::applied: return "applied";
    case Outcome::rejected: return "rejected";
    case Outcome::unknown: return "unknown";
    case Outcome::skipped: return "skipped";
  }
  return "?";
}

const char* to_string(WriteKind write) {
  switch (write) {
    case WriteKind::none: return "none";
    case WriteKind::ddl: return "ddl";
    case WriteKind::backfill: return "backfill";
    case WriteKind::flag: return "flag";
    case WriteKind::checkpoint: return "checkpoint";
  }
  return "?";
}

}  // namespace rehearse
