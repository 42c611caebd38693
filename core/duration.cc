// The duration formatter of core/duration.h: one function per style.
#include "core/duration.h"

#include <utility>

#include <fmt/format.h>

#include "core/assert.h"

namespace rehearse {

std::string trimmed_decimal(double value, int digits) {
  std::string text = fmt::format("{:.{}f}", value, digits);
  if (text.find('.') == std::string::npos) return text;
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

namespace {

std::string scenario_text(TimeUs us) {
  if (us == 0) return "0s";
  const std::pair<TimeUs, const char*> units[] = {{kHour, "h"}, {kMin, "m"}, {kSec, "s"}, {kMs, "ms"}};
  for (const auto& [unit, name] : units) {
    if (us % unit == 0) return fmt::format("{}{}", us / unit, name);
  }
  return fmt::format("{}us", us);
}

std::string whole_text(TimeUs us) {
  if (us % kSec == 0) return fmt::format("{}s", us / kSec);
  if (us % kMs == 0) return fmt::format("{}ms", us / kMs);
  return fmt::format("{}us", us);
}

std::string estimate_text(TimeUs us) {
  if (us != 0 && us % kSec == 0) return fmt::format("{}s", us / kSec);
  if (us % kMs == 0) return fmt::format("{}ms", us / kMs);
  if (us < kMs) return fmt::format("{}us", us);
  return fmt::format("{:.1f}ms", static_cast<double>(us) / static_cast<double>(kMs));
}

// `value` in `unit` with up to `digits` fractional digits, trailing zeros dropped ("1.5").
std::string in_unit(TimeUs value, TimeUs unit, int digits) {
  std::string text = fmt::format("{}", value / unit);
  if (value % unit == 0) return text;
  std::string fraction = fmt::format("{:0{}}", value % unit, digits);
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  return text + "." + fraction;
}

std::string compound_text(TimeUs us) {
  if (us < 0) return "-" + compound_text(-us);
  if (us < kMs) return fmt::format("{}us", us);
  if (us < kSec) return in_unit(us, kMs, 3) + "ms";
  if (us < kMin) return in_unit(us, kSec, 6) + "s";
  const TimeUs hours = us / kHour;
  const TimeUs minutes = (us % kHour) / kMin;
  const TimeUs rest = us % kMin;
  std::string text = hours > 0 ? fmt::format("{}h", hours) : "";
  if (minutes > 0 || (hours > 0 && rest > 0)) text += fmt::format("{}m", minutes);
  if (rest > 0) text += in_unit(rest, kSec, 6) + "s";
  return text;
}

std::string clock_text(TimeUs us, const char* unit) {
  const char* sign = us < 0 ? "-" : "";
  const TimeUs magnitude = us < 0 ? -us : us;
  return fmt::format("{}{}.{:03d}{}", sign, magnitude / kSec, static_cast<int>((magnitude % kSec) / kMs), unit);
}

std::string rounded_text(TimeUs us) {
  const char* sign = us < 0 ? "-" : "";
  const TimeUs magnitude = us < 0 ? -us : us;
  if (magnitude < kMs) return fmt::format("{}{} us", sign, magnitude);
  if (magnitude < kSec) return fmt::format("{}{} ms", sign, trimmed_decimal(static_cast<double>(magnitude) / kMs, 1));
  return fmt::format("{}{} s", sign, trimmed_decimal(static_cast<double>(magnitude) / kSec, 3));
}

}  // namespace

std::string duration_text(TimeUs us, DurationStyle style) {
  switch (style) {
    case DurationStyle::scenario: return scenario_text(us);
    case DurationStyle::whole: return whole_text(us);
    case DurationStyle::estimate: return estimate_text(us);
    case DurationStyle::compound: return compound_text(us);
    case DurationStyle::clock: return clock_text(us, "s");
    case DurationStyle::clock_spaced: return clock_text(us, " s");
    case DurationStyle::rounded_spaced: return rounded_text(us);
  }
  REHEARSE_ASSERT(false);  // every style is handled above
  return "";
}

}  // namespace rehearse
