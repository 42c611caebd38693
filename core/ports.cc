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

namespace rehearse {

namespace {
// Live runs: no fault point ever fires, so no duration is ever drawn.
class NeverFaultPoints final : public FaultPoints {
 public:
  bool fires(FaultSite site) override {
    (void)site;
    return false;
  }
  TimeUs draw_us(FaultSite site, TimeUs low_us, TimeUs high_us) override {
    (void)site;
    REHEARSE_ASSERT(0 <= low_us && low_us <= high_us);
    return low_us;
  }
};
}  // namespace

FaultPoints& FaultPoints::never() {
  static NeverFaultPoints instance;  // stateless: safe to share between threads
  return instance;
}

}  // namespace rehearse
