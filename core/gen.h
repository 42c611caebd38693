// A column's `gen` (scenario-format.md, table): how initial and application-written values are
// drawn. Parsed in one place for the loader (which rejects what cannot draw the column's type),
// the simulator and live traffic (which draw from it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rehearse {

struct GenForm {
  enum class Kind { type_default, range, email, uuid, one_of, invalid };
  Kind kind = Kind::type_default;
  std::int64_t low = 0;              // range: LOW..HIGH, inclusive, LOW <= HIGH
  std::int64_t high = 0;
  std::vector<std::string> choices;  // one_of(a, b, ...): spaces dropped, none empty
};

// "" is the type's default draw; anything that is not a range, email, uuid or one_of(...) with
// non-empty choices is `invalid`.
GenForm parse_gen(const std::string& gen);

}  // namespace rehearse
