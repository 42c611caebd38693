// Rng::below against the rejection sampler it replaced: the same draws, the same results, the
// same stream position after, for every kind of bound (a hash of every run depends on it).
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "core/random.h"

namespace rehearse {
namespace {

// The sampler as first written: two divisions a draw.
std::uint64_t below_as_before(Rng& rng, std::uint64_t bound) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  std::uint64_t draw = rng.next();
  while (draw >= limit) draw = rng.next();
  return draw % bound;
}

TEST(RandomTest, BelowDrawsAsTheTwoDivisionSampler) {
  std::vector<std::uint64_t> bounds = {1, 2, 3, 7, 10, 100, 1000, 1024, 10'001, 1ULL << 32, (1ULL << 32) + 1,
                                       1ULL << 63, (1ULL << 63) + 1, (1ULL << 63) - 1, 3ULL << 62, (3ULL << 62) + 5,
                                       UINT64_MAX, UINT64_MAX - 1, UINT64_MAX / 3, UINT64_MAX / 3 * 2 + 1};
  Rng bound_source(42, "bounds");
  for (int i = 0; i < 200; ++i) bounds.push_back(1 + bound_source.next() % (i % 2 == 0 ? 1'000'000 : UINT64_MAX));
  for (int i = 0; i < 50; ++i) bounds.push_back((1ULL << 63) + bound_source.below(1ULL << 62));  // many redraws
  Rng now(7, "below");
  Rng before(7, "below");
  int redraws_possible = 0;
  for (const std::uint64_t bound : bounds) {
    for (int draw = 0; draw < 2000; ++draw) {
      ASSERT_EQ(now.below(bound), below_as_before(before, bound)) << "bound " << bound << ", draw " << draw;
    }
    ASSERT_EQ(now.next(), before.next()) << "the streams parted at bound " << bound;
    if (bound > (1ULL << 63)) ++redraws_possible;
  }
  EXPECT_GT(redraws_possible, 50);  // the redraw path ran (about half the draws of such a bound)
}

TEST(RandomTest, UniformCoversItsRangeInclusive) {
  Rng rng(1, "uniform");
  bool low = false;
  bool high = false;
  for (int i = 0; i < 10'000; ++i) {
    const std::int64_t value = rng.uniform(-3, 3);
    ASSERT_GE(value, -3);
    ASSERT_LE(value, 3);
    low = low || value == -3;
    high = high || value == 3;
  }
  EXPECT_TRUE(low);
  EXPECT_TRUE(high);
  EXPECT_GE(rng.uniform(INT64_MIN, INT64_MAX), INT64_MIN);  // the whole range: one raw draw
}

}  // namespace
}  // namespace rehearse
