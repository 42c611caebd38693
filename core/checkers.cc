// The invariant checkers.
#include "core/checkers.h"

#include <map>
#include <optional>
#include <set>
#include <utility>

#include <fmt/format.h>

namespace rehearse {

bool is_invariant_name(const std::string& name) {
  for (const char* known : kInvariantNames) {
    if (name == known) return true;
  }
  return false;
}

namespace {

struct Latest {
  std::int64_t token = 0;         // the largest token applied at this database so far
  std::uint64_t first_event = 0;  // the first applied write of the latest holder with that token
  std::string actor;
};

// A write with the latest token from another engine than the latest writer. A store that lost
// its token counter (a Redis failover, a restart without persistence) can hand one token to two
// holders; storage fencing cannot tell them apart. Handing the token over is no violation (the
// previous writer never writes again); a writer that already wrote with the token writing again
// after the other one is. Returns the proving event of the other writer, or nullopt.
std::optional<std::uint64_t> shared_token_interleaving(const Event& event, Latest& latest,
                                                       std::set<std::pair<std::int64_t, std::string>>& writers) {
  const bool wrote_before = writers.count({event.token, event.actor}) > 0;
  writers.insert({event.token, event.actor});
  if (event.actor == latest.actor) return std::nullopt;
  if (wrote_before) return latest.first_event;
  latest.actor = event.actor;
  latest.first_event = event.id;
  return std::nullopt;
}

}  // namespace

std::vector<Violation> check_mutual_exclusion(const History& history) {
  std::map<std::string, Latest> latest_by_database;
  std::map<std::string, std::set<std::pair<std::int64_t, std::string>>> writers_by_database;
  std::map<std::string, bool> reported;
  std::vector<Violation> violations;
  for (const Event& event : history.events()) {
    if (event.kind != EventKind::write || event.outcome != Outcome::applied) continue;
    Latest& latest = latest_by_database[event.node];
    auto& writers = writers_by_database[event.node];
    if (event.token > latest.token) {
      latest = Latest{event.token, event.id, event.actor};
      writers.insert({event.token, event.actor});
      continue;
    }
    if (event.token == latest.token) {
      const auto other = shared_token_interleaving(event, latest, writers);
      if (!other || reported[event.node]) continue;
      reported[event.node] = true;
      violations.push_back(Violation{
          "mutual-exclusion", event.time_us, event.node,
          fmt::format("{} of {} (token {}) applied after {} wrote with the same token: the lock store handed "
                      "token {} to two holders",
                      to_string(event.write), event.actor, event.token, latest.actor, event.token),
          {event.id, *other}});
      continue;
    }
    if (reported[event.node]) continue;
    reported[event.node] = true;
    violations.push_back(Violation{
        "mutual-exclusion", event.time_us, event.node,
        fmt::format("{} of {} (token {}) applied after {} (token {}) took over", to_string(event.write), event.actor,
                    event.token, latest.actor, latest.token),
        {event.id, latest.first_event}});
  }
  return violations;
}

}  // namespace rehearse
