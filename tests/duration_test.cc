// The duration formatter (core/duration.h): each style writes the examples its comment promises,
// as the formatter folded into it wrote them. `whole` matters most: the fault descriptions written
// with it go into the history and its trace hash.
#include <gtest/gtest.h>

#include "core/duration.h"

namespace rehearse {
namespace {

TEST(DurationTest, ScenarioStyleUsesTheLargestUnitThatDivides) {
  EXPECT_EQ(duration_text(0, DurationStyle::scenario), "0s");
  EXPECT_EQ(duration_text(kHour, DurationStyle::scenario), "1h");
  EXPECT_EQ(duration_text(2 * kMin, DurationStyle::scenario), "2m");
  EXPECT_EQ(duration_text(90 * kSec, DurationStyle::scenario), "90s");
  EXPECT_EQ(duration_text(1500 * kMs, DurationStyle::scenario), "1500ms");
  EXPECT_EQ(duration_text(250, DurationStyle::scenario), "250us");
  EXPECT_EQ(duration_text(-5 * kSec, DurationStyle::scenario), "-5s");
}

TEST(DurationTest, WholeStyleNeverUsesMinutes) {
  EXPECT_EQ(duration_text(0, DurationStyle::whole), "0s");
  EXPECT_EQ(duration_text(kHour, DurationStyle::whole), "3600s");
  EXPECT_EQ(duration_text(90 * kSec, DurationStyle::whole), "90s");
  EXPECT_EQ(duration_text(1500 * kMs, DurationStyle::whole), "1500ms");
  EXPECT_EQ(duration_text(1500001, DurationStyle::whole), "1500001us");
}

TEST(DurationTest, EstimateStyleRoundsToATenthOfAMillisecond) {
  EXPECT_EQ(duration_text(0, DurationStyle::estimate), "0ms");
  EXPECT_EQ(duration_text(10 * kSec, DurationStyle::estimate), "10s");
  EXPECT_EQ(duration_text(150 * kMs, DurationStyle::estimate), "150ms");
  EXPECT_EQ(duration_text(1800300, DurationStyle::estimate), "1800.3ms");
  EXPECT_EQ(duration_text(40, DurationStyle::estimate), "40us");
}

TEST(DurationTest, CompoundStyleIsExactInHoursMinutesAndSeconds) {
  EXPECT_EQ(duration_text(0, DurationStyle::compound), "0us");
  EXPECT_EQ(duration_text(850, DurationStyle::compound), "850us");
  EXPECT_EQ(duration_text(12500, DurationStyle::compound), "12.5ms");
  EXPECT_EQ(duration_text(1500 * kMs, DurationStyle::compound), "1.5s");
  EXPECT_EQ(duration_text(130 * kSec, DurationStyle::compound), "2m10s");
  EXPECT_EQ(duration_text(kHour + 5 * kSec, DurationStyle::compound), "1h0m5s");
  EXPECT_EQ(duration_text(2 * kHour, DurationStyle::compound), "2h");
  EXPECT_EQ(duration_text(-1500 * kMs, DurationStyle::compound), "-1.5s");
}

TEST(DurationTest, ClockStylesTruncateToMilliseconds) {
  EXPECT_EQ(duration_text(23992999, DurationStyle::clock), "23.992s");
  EXPECT_EQ(duration_text(0, DurationStyle::clock), "0.000s");
  EXPECT_EQ(duration_text(-500 * kMs, DurationStyle::clock), "-0.500s");
  EXPECT_EQ(duration_text(23992999, DurationStyle::clock_spaced), "23.992 s");
  EXPECT_EQ(duration_text(-500 * kMs, DurationStyle::clock_spaced), "-0.500 s");
}

TEST(DurationTest, RoundedSpacedStyleDropsTrailingZeros) {
  EXPECT_EQ(duration_text(800, DurationStyle::rounded_spaced), "800 us");
  EXPECT_EQ(duration_text(150 * kMs, DurationStyle::rounded_spaced), "150 ms");
  EXPECT_EQ(duration_text(12345, DurationStyle::rounded_spaced), "12.3 ms");
  EXPECT_EQ(duration_text(4075 * kMs, DurationStyle::rounded_spaced), "4.075 s");
  EXPECT_EQ(duration_text(20 * kSec, DurationStyle::rounded_spaced), "20 s");
  EXPECT_EQ(duration_text(-150 * kMs, DurationStyle::rounded_spaced), "-150 ms");
}

}  // namespace
}  // namespace rehearse
