// The invariant checkers.
#include "core/checkers.h"

#include <map>

#include <fmt/format.h>

namespace rehearse {

bool is_invariant_name(const std::string& name) {
  for (const char* known : kInvariantNames) {
    if (name == known) return true;
  }
  return false;
}

std::vector<Violation> check_mutual_exclusion(const History& history) {
  struct Latest {
    std::int64_t token = 0;        // the largest token applied at this database so far
    std::uint64_t first_event = 0;  // the first applied write with that token
    std::string actor;
  };
  std::map<std::string, Latest> latest_by_database;
  std::map<std::string, bool> reported;
  std::vector<Violation> violations;
  for (const Event& event : history.events()) {
    if (event.kind != EventKind::write || event.outcome != Outcome::applied) continue;
    Latest& latest = latest_by_database[event.node];
    if (event.token > latest.token) {
      latest = Latest{event.token, event.id, event.actor};
      continue;
    }
    if (event.token == latest.token || reported[event.node]) continue;
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
