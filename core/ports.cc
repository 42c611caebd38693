// Non-virtual helpers of the ports.
#include "core/ports.h"

#include "core/assert.h"

namespace rehearse {

std::int64_t Random::uniform(std::int64_t low, std::int64_t high) {
  REHEARSE_ASSERT(low <= high);
  const auto span = static_cast<std::uint64_t>(high - low) + 1;
  if (span == 0) return static_cast<std::int64_t>(next_u64());  // the whole 64-bit range
  // Lemire's unbiased bounded draw would be faster; modulo with rejection keeps it exact.
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  std::uint64_t draw = next_u64();
  while (draw >= limit) draw = next_u64();
  return low + static_cast<std::int64_t>(draw % span);
}

}  // namespace rehearse
