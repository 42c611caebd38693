// SQL values and exact decimal arithmetic (core/value.h). The expression evaluator
// (core/expr.cc) computes with these; the simulated databases store them; validation sums
// Value::hash() over rows, so hash() and to_string() are part of the on-disk/cross-machine
// contract and are pinned by tests/expr_test.cc.
//
// Decimals keep an Int128 mantissa. Intermediate products and scaled dividends can need more
// than 128 bits, so multiplication, division and comparison go through a small unsigned 256-bit
// helper (Wide) and only the final result must fit.
#include "core/value.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <type_traits>
#include <new>
#include <utility>
#include <vector>

#include "core/assert.h"

namespace rehearse {
namespace {

__extension__ typedef unsigned __int128 UInt128;

// Magnitudes of mantissas are below 2^127: INT128_MIN is never a mantissa, so negation is safe.
constexpr UInt128 kMagnitudeLimit = static_cast<UInt128>(1) << 127;  // exclusive
constexpr int kPowersOfTenMax = 38;  // 10^38 < 2^127 <= 10^39
constexpr std::uint64_t kMask64 = ~static_cast<std::uint64_t>(0);

constexpr UInt128 power_of_ten(int exponent) {
  UInt128 result = 1;
  for (int i = 0; i < exponent; ++i) result *= 10;
  return result;
}

UInt128 checked_power_of_ten(int exponent) {
  REHEARSE_ASSERT(exponent >= 0);
  REHEARSE_ASSERT(exponent <= kPowersOfTenMax);
  return power_of_ten(exponent);
}

UInt128 magnitude(Int128 mantissa) {
  return mantissa < 0 ? static_cast<UInt128>(0) - static_cast<UInt128>(mantissa)
                      : static_cast<UInt128>(mantissa);
}

// Whether a mantissa is a 64-bit integer: held inline by a Value, multiplied in one step.
bool fits_int64(Int128 mantissa) {
  return mantissa >= std::numeric_limits<std::int64_t>::min() && mantissa <= std::numeric_limits<std::int64_t>::max();
}

// A signed mantissa from a magnitude, or nullopt when it does not fit.
std::optional<Int128> signed_mantissa(bool negative, UInt128 value_magnitude) {
  if (value_magnitude >= kMagnitudeLimit) return std::nullopt;
  const Int128 value = static_cast<Int128>(value_magnitude);
  return negative ? -value : value;
}

// An unsigned 256-bit integer: high * 2^128 + low.
struct Wide {
  UInt128 high = 0;
  UInt128 low = 0;
};

Wide wide_multiply(UInt128 a, UInt128 b) {
  const UInt128 a0 = a & kMask64, a1 = a >> 64;
  const UInt128 b0 = b & kMask64, b1 = b >> 64;
  const UInt128 p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const UInt128 middle = (p00 >> 64) + (p01 & kMask64) + (p10 & kMask64);  // < 3 * 2^64
  Wide result;
  result.low = (p00 & kMask64) | (middle << 64);
  result.high = p11 + (p01 >> 64) + (p10 >> 64) + (middle >> 64);
  return result;
}

// x *= factor; false when the product needs more than 256 bits.
bool wide_multiply_small(Wide* x, std::uint64_t factor) {
  std::uint64_t limbs[4] = {
      static_cast<std::uint64_t>(x->low), static_cast<std::uint64_t>(x->low >> 64),
      static_cast<std::uint64_t>(x->high), static_cast<std::uint64_t>(x->high >> 64)};
  UInt128 carry = 0;
  for (std::uint64_t& limb : limbs) {
    const UInt128 product = static_cast<UInt128>(limb) * factor + carry;
    limb = static_cast<std::uint64_t>(product);
    carry = product >> 64;
  }
  x->low = (static_cast<UInt128>(limbs[1]) << 64) | limbs[0];
  x->high = (static_cast<UInt128>(limbs[3]) << 64) | limbs[2];
  return carry == 0;
}

// x *= 10^digits; false on overflow of 256 bits.
bool wide_scale_up(Wide* x, int digits) {
  REHEARSE_ASSERT(digits >= 0);
  constexpr int kChunkDigits = 19;  // 10^19 < 2^64
  while (digits > 0) {
    const int chunk = std::min(digits, kChunkDigits);
    if (!wide_multiply_small(x, static_cast<std::uint64_t>(checked_power_of_ten(chunk)))) {
      return false;
    }
    digits -= chunk;
  }
  return true;
}

int wide_compare(const Wide& a, const Wide& b) {
  if (a.high != b.high) return a.high < b.high ? -1 : 1;
  if (a.low != b.low) return a.low < b.low ? -1 : 1;
  return 0;
}

bool wide_bit(const Wide& x, int bit) {
  return bit >= 128 ? ((x.high >> (bit - 128)) & 1) != 0 : ((x.low >> bit) & 1) != 0;
}

void wide_set_bit(Wide* x, int bit) {
  if (bit >= 128) {
    x->high |= static_cast<UInt128>(1) << (bit - 128);
  } else {
    x->low |= static_cast<UInt128>(1) << bit;
  }
}

// x / divisor rounded half away from zero (binary long division).
// REQUIRES: 0 < divisor <= 2^127, so that the running remainder never needs a 129th bit.
Wide wide_divide_rounded(const Wide& x, UInt128 divisor) {
  REHEARSE_ASSERT(divisor > 0);
  REHEARSE_ASSERT(divisor <= kMagnitudeLimit);
  Wide quotient;
  UInt128 remainder = 0;
  for (int bit = 255; bit >= 0; --bit) {
    remainder = (remainder << 1) | (wide_bit(x, bit) ? 1 : 0);
    if (remainder >= divisor) {
      remainder -= divisor;
      wide_set_bit(&quotient, bit);
    }
  }
  if (remainder >= divisor - remainder) {  // 2 * remainder >= divisor: round away from zero
    quotient.low += 1;
    if (quotient.low == 0) quotient.high += 1;
  }
  return quotient;
}

std::optional<Decimal> decimal_from_wide(bool negative, const Wide& value_magnitude, int scale) {
  REHEARSE_ASSERT(scale >= 0);
  REHEARSE_ASSERT(scale <= Decimal::kMaxScale);
  if (value_magnitude.high != 0) return std::nullopt;
  const std::optional<Int128> mantissa = signed_mantissa(negative, value_magnitude.low);
  if (!mantissa) return std::nullopt;
  return Decimal{*mantissa, scale};
}

std::string unsigned_digits(UInt128 value) {
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  } while (value != 0);
  std::reverse(digits.begin(), digits.end());
  return digits;
}

// Both mantissas brought to the larger scale; nullopt when one no longer fits.
struct Aligned {
  Int128 a = 0;
  Int128 b = 0;
  int scale = 0;
};

std::optional<Int128> scaled_mantissa(Int128 mantissa, int digits) {
  Int128 result = 0;
  if (__builtin_mul_overflow(mantissa, static_cast<Int128>(checked_power_of_ten(digits)),
                             &result)) {
    return std::nullopt;
  }
  if (magnitude(result) >= kMagnitudeLimit) return std::nullopt;
  return result;
}

std::optional<Aligned> align(const Decimal& a, const Decimal& b) {
  const int scale = std::max(a.scale, b.scale);
  const std::optional<Int128> scaled_a = scaled_mantissa(a.mantissa, scale - a.scale);
  const std::optional<Int128> scaled_b = scaled_mantissa(b.mantissa, scale - b.scale);
  if (!scaled_a || !scaled_b) return std::nullopt;
  return Aligned{*scaled_a, *scaled_b, scale};
}

void check_decimal(const Decimal& value) {
  REHEARSE_ASSERT(value.scale >= 0);
  REHEARSE_ASSERT(value.scale <= Decimal::kMaxScale);
  REHEARSE_ASSERT(magnitude(value.mantissa) < kMagnitudeLimit);
}

// PostgreSQL stores numerics in base-10000 digits aligned at the decimal point. Its division
// scale depends on the weight (position) and value of the first non-zero such digit.
struct LeadingGroup {
  int weight = 0;
  int value = 0;
};

LeadingGroup leading_group(const Decimal& value) {
  if (value.mantissa == 0) return LeadingGroup{};
  const int padded_scale = (value.scale + 3) / 4 * 4;
  std::string digits = unsigned_digits(magnitude(value.mantissa));
  digits.append(static_cast<std::size_t>(padded_scale - value.scale), '0');
  const int length = static_cast<int>(digits.size());
  const int top_index = (length - 1) / 4;  // counted from the least significant group
  const int top_length = length - 4 * top_index;
  LeadingGroup group;
  group.weight = top_index - padded_scale / 4;
  group.value = std::stoi(digits.substr(0, static_cast<std::size_t>(top_length)));
  REHEARSE_ASSERT(group.value > 0);
  return group;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim_spaces(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

namespace decimal {

Decimal from_integer(std::int64_t integer) { return Decimal{integer, 0}; }

Decimal normalized(const Decimal& value) {
  check_decimal(value);
  if (value.mantissa >= std::numeric_limits<std::int64_t>::min() && value.mantissa <= std::numeric_limits<std::int64_t>::max()) {
    // The same digits in 64 bits: a 128-bit division is a library call.
    auto mantissa = static_cast<std::int64_t>(value.mantissa);
    int scale = value.scale;
    while (scale > 0 && mantissa % 10 == 0) {
      mantissa /= 10;
      --scale;
    }
    return Decimal{mantissa, scale};
  }
  Decimal result = value;
  while (result.scale > 0 && result.mantissa % 10 == 0) {
    result.mantissa /= 10;
    result.scale -= 1;
  }
  return result;
}

int compare(const Decimal& a, const Decimal& b) {
  check_decimal(a);
  check_decimal(b);
  const int sign_a = (a.mantissa > 0) - (a.mantissa < 0);
  const int sign_b = (b.mantissa > 0) - (b.mantissa < 0);
  if (sign_a != sign_b) return sign_a < sign_b ? -1 : 1;
  if (sign_a == 0) return 0;
  const int scale = std::max(a.scale, b.scale);
  const Wide wide_a = wide_multiply(magnitude(a.mantissa), power_of_ten(scale - a.scale));
  const Wide wide_b = wide_multiply(magnitude(b.mantissa), power_of_ten(scale - b.scale));
  return sign_a * wide_compare(wide_a, wide_b);
}

std::string to_string(const Decimal& value) {
  check_decimal(value);
  std::string digits = unsigned_digits(magnitude(value.mantissa));
  const std::size_t scale = static_cast<std::size_t>(value.scale);
  if (digits.size() <= scale) digits.insert(0, scale + 1 - digits.size(), '0');
  if (scale > 0) digits.insert(digits.size() - scale, 1, '.');
  if (value.mantissa < 0) digits.insert(0, 1, '-');
  return digits;
}

namespace {

// The pieces of a numeric literal: "-12.50e3" is negative, 1250 with 2 fractional digits and
// exponent 3. Returns false on bad syntax; *too_large when the digits overflow.
struct NumberParts {
  bool negative = false;
  UInt128 digits = 0;
  int fraction_digits = 0;
  int exponent = 0;
  bool too_large = false;
};

bool accumulate_digit(NumberParts* parts, char c) {
  const UInt128 digit = static_cast<UInt128>(c - '0');
  if (parts->digits > (kMagnitudeLimit - 1 - digit) / 10) {
    parts->too_large = true;
    return false;
  }
  parts->digits = parts->digits * 10 + digit;
  return true;
}

bool parse_exponent(std::string_view text, std::size_t* index, int* exponent) {
  constexpr int kExponentMax = 1000;  // beyond this no value fits anyway
  std::size_t i = *index + 1;         // skip 'e'
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  if (i >= text.size() || !is_digit(text[i])) return false;
  int value = 0;
  for (; i < text.size() && is_digit(text[i]); ++i) {
    value = std::min(kExponentMax, value * 10 + (text[i] - '0'));
  }
  *exponent = negative ? -value : value;
  *index = i;
  return true;
}

bool parse_parts(std::string_view text, NumberParts* parts) {
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) parts->negative = text[i++] == '-';
  int digit_count = 0;
  bool seen_point = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.' && !seen_point) {
      seen_point = true;
    } else if (is_digit(c)) {
      ++digit_count;
      if (seen_point) ++parts->fraction_digits;
      if (!accumulate_digit(parts, c)) return false;
    } else {
      break;
    }
  }
  if (digit_count == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    if (!parse_exponent(text, &i, &parts->exponent)) return false;
  }
  return i == text.size();
}

}  // namespace

std::optional<Decimal> parse(std::string_view text, bool* out_of_range) {
  if (out_of_range != nullptr) *out_of_range = false;
  NumberParts parts;
  if (!parse_parts(trim_spaces(text), &parts)) {
    if (out_of_range != nullptr) *out_of_range = parts.too_large;
    return std::nullopt;
  }
  int scale = parts.fraction_digits - parts.exponent;
  UInt128 digits = parts.digits;
  if (scale < 0 && digits != 0) {
    Wide wide{0, digits};
    if (-scale > 2 * kPowersOfTenMax || !wide_scale_up(&wide, -scale) || wide.high != 0) {
      if (out_of_range != nullptr) *out_of_range = true;
      return std::nullopt;
    }
    digits = wide.low;
  }
  scale = std::max(scale, 0);
  const std::optional<Int128> mantissa = signed_mantissa(parts.negative, digits);
  if (!mantissa || scale > Decimal::kMaxScale) {
    if (out_of_range != nullptr) *out_of_range = true;
    return std::nullopt;
  }
  return Decimal{*mantissa, scale};
}

std::optional<Decimal> round(const Decimal& value, int places) {
  check_decimal(value);
  REHEARSE_ASSERT(places <= Decimal::kMaxScale);
  if (places >= value.scale) {
    const std::optional<Int128> mantissa = scaled_mantissa(value.mantissa, places - value.scale);
    if (!mantissa) return std::nullopt;
    return Decimal{*mantissa, places};
  }
  // Drop `dropped` digits, rounding half away from zero, then express at scale max(places, 0).
  const int dropped = value.scale - places;
  UInt128 quotient = 0;
  constexpr int kPowersOfTenIn64Bits = 19;  // 10^19 < 2^64
  if (dropped <= kPowersOfTenIn64Bits && magnitude(value.mantissa) <= std::numeric_limits<std::uint64_t>::max()) {
    // The same division in 64 bits (every inline numeric Value): no 128-bit division routine.
    const auto divisor = static_cast<std::uint64_t>(power_of_ten(dropped));
    const auto value_magnitude = static_cast<std::uint64_t>(magnitude(value.mantissa));
    const std::uint64_t remainder = value_magnitude % divisor;
    quotient = value_magnitude / divisor + (remainder >= divisor - remainder ? 1 : 0);
  } else if (dropped <= kPowersOfTenMax) {
    const UInt128 divisor = power_of_ten(dropped);
    const UInt128 value_magnitude = magnitude(value.mantissa);
    quotient = value_magnitude / divisor;
    const UInt128 remainder = value_magnitude % divisor;
    if (remainder >= divisor - remainder) quotient += 1;
  }  // else |value| < 0.5 * 10^-places: rounds to zero
  if (places < 0 && quotient != 0) {
    Wide wide{0, quotient};
    if (-places > kPowersOfTenMax || !wide_scale_up(&wide, -places)) return std::nullopt;
    return decimal_from_wide(value.mantissa < 0, wide, 0);
  }
  const std::optional<Int128> mantissa = signed_mantissa(value.mantissa < 0, quotient);
  if (!mantissa) return std::nullopt;
  return Decimal{*mantissa, std::max(places, 0)};
}

Decimal floor(const Decimal& value) {
  check_decimal(value);
  const Int128 divisor = static_cast<Int128>(power_of_ten(value.scale));
  Int128 quotient = value.mantissa / divisor;
  if (value.mantissa % divisor < 0) quotient -= 1;
  return Decimal{quotient, 0};
}

Decimal ceil(const Decimal& value) {
  check_decimal(value);
  const Int128 divisor = static_cast<Int128>(power_of_ten(value.scale));
  Int128 quotient = value.mantissa / divisor;
  if (value.mantissa % divisor > 0) quotient += 1;
  return Decimal{quotient, 0};
}

std::optional<std::int64_t> to_int64(const Decimal& value) {
  const std::optional<Decimal> rounded = round(value, 0);
  REHEARSE_ASSERT(rounded.has_value());  // reducing a scale never overflows
  if (!fits_int64(rounded->mantissa)) return std::nullopt;
  return static_cast<std::int64_t>(rounded->mantissa);
}

std::optional<Decimal> add(const Decimal& a, const Decimal& b) {
  const std::optional<Aligned> aligned = align(a, b);
  if (!aligned) return std::nullopt;
  Int128 sum = 0;
  if (__builtin_add_overflow(aligned->a, aligned->b, &sum)) return std::nullopt;
  if (magnitude(sum) >= kMagnitudeLimit) return std::nullopt;
  return Decimal{sum, aligned->scale};
}

std::optional<Decimal> subtract(const Decimal& a, const Decimal& b) {
  return add(a, Decimal{-b.mantissa, b.scale});
}

std::optional<Decimal> multiply(const Decimal& a, const Decimal& b) {
  check_decimal(a);
  check_decimal(b);
  // Both mantissas of 64 bits (every inline numeric Value): the product is exact in 126 bits.
  if (a.scale + b.scale <= Decimal::kMaxScale && fits_int64(a.mantissa) && fits_int64(b.mantissa)) {
    const Int128 product = static_cast<Int128>(static_cast<std::int64_t>(a.mantissa)) * static_cast<std::int64_t>(b.mantissa);
    return Decimal{product, a.scale + b.scale};
  }
  const bool negative = (a.mantissa < 0) != (b.mantissa < 0);
  Wide product = wide_multiply(magnitude(a.mantissa), magnitude(b.mantissa));
  int scale = a.scale + b.scale;
  if (scale > Decimal::kMaxScale) {
    product = wide_divide_rounded(product, power_of_ten(scale - Decimal::kMaxScale));
    scale = Decimal::kMaxScale;
  }
  return decimal_from_wide(negative, product, scale);
}

int divide_scale(const Decimal& a, const Decimal& b) {
  constexpr int kMinimumSignificantDigits = 16;  // PostgreSQL's NUMERIC_MIN_SIG_DIGITS
  constexpr int kDigitsPerGroup = 4;             // PostgreSQL's DEC_DIGITS
  const LeadingGroup dividend = leading_group(a);
  const LeadingGroup divisor = leading_group(b);
  int quotient_weight = dividend.weight - divisor.weight;
  if (dividend.value <= divisor.value) quotient_weight -= 1;
  int scale = kMinimumSignificantDigits - quotient_weight * kDigitsPerGroup;
  scale = std::max({scale, a.scale, b.scale, 0});
  return std::min(scale, Decimal::kMaxScale);
}

std::optional<Decimal> divide(const Decimal& a, const Decimal& b) {
  check_decimal(a);
  check_decimal(b);
  REHEARSE_ASSERT(b.mantissa != 0);
  const int scale = divide_scale(a, b);
  // quotient * 10^scale = a.mantissa * 10^(scale + b.scale - a.scale) / b.mantissa
  const int exponent = scale + b.scale - a.scale;
  REHEARSE_ASSERT(exponent >= 0);
  Wide dividend{0, magnitude(a.mantissa)};
  if (!wide_scale_up(&dividend, exponent)) return std::nullopt;
  const Wide quotient = wide_divide_rounded(dividend, magnitude(b.mantissa));
  const bool negative = (a.mantissa < 0) != (b.mantissa < 0);
  return decimal_from_wide(negative, quotient, scale);
}

std::optional<Decimal> remainder(const Decimal& a, const Decimal& b) {
  REHEARSE_ASSERT(b.mantissa != 0);
  const std::optional<Aligned> aligned = align(a, b);
  if (!aligned) return std::nullopt;
  return Decimal{aligned->a % aligned->b, aligned->scale};  // C++ %: sign of the dividend
}

}  // namespace decimal

// ---- Timestamps ----

namespace {

constexpr std::int64_t kMicrosPerSecond = 1000000;
constexpr std::int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const std::int64_t year_of_era = year - era * 400;
  const std::int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const std::int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 +
                                  day_of_year;
  return era * 146097 + day_of_era - 719468;
}

struct CivilDate {
  std::int64_t year = 1970;
  int month = 1;
  int day = 1;
};

CivilDate civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t day_of_era = days - era * 146097;
  const std::int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const std::int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const std::int64_t month_index = (5 * day_of_year + 2) / 153;
  CivilDate date;
  date.day = static_cast<int>(day_of_year - (153 * month_index + 2) / 5 + 1);
  date.month = static_cast<int>(month_index < 10 ? month_index + 3 : month_index - 9);
  date.year = year_of_era + era * 400 + (date.month <= 2 ? 1 : 0);
  return date;
}

bool is_leap_year(std::int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(std::int64_t year, int month) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

// PostgreSQL's timestamp input (DecodeDateTime with DateStyle MDY), for the forms migrations
// meet: ISO dates and times ("2024-01-31 08:30:00.5", "2024-01-31T08:30"), "20240131", month
// names ("Jan 31 2024", "January 31, 2024", "31 Jan 2024", "2024-Jan-31"), M/D/Y, day names,
// AM / PM after a time ("3:15 PM"; "3pm" is invalid, as in PostgreSQL), "24:00:00", a time zone (ignored, as by timestamp without time
// zone: "+02", "-05:30", "UTC", "Z"), BC / AD, fractions rounded to microseconds, and the
// special values epoch, infinity and -infinity.
struct DateTimeFields {
  std::optional<std::int64_t> year, month, day;
  int year_digits = 0;
  std::optional<std::int64_t> hour, minute, second;
  double fraction = 0;  // of a second
  std::optional<bool> pm;
  bool before_common_era = false;
  bool zone_seen = false;
  std::vector<std::pair<std::int64_t, int>> numbers;  // loose numbers and their digit counts
};

std::optional<int> month_of(std::string_view word) {
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  static constexpr std::string_view kFull[] = {"january", "february", "march", "april", "may", "june",
                                               "july", "august", "september", "october", "november", "december"};
  for (int i = 0; i < 12; ++i) {
    if (word == kMonths[i] || word == kFull[i] || (i == 8 && word == "sept")) return i + 1;
  }
  return std::nullopt;
}

bool is_day_name(std::string_view word) {
  static constexpr std::string_view kDays[] = {"sun", "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat",
                                               "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
  return std::find(std::begin(kDays), std::end(kDays), word) != std::end(kDays);
}

std::string_view take_while(std::string_view text, std::size_t* index, bool (*accept)(char)) {
  const std::size_t start = *index;
  while (*index < text.size() && accept(text[*index])) ++*index;
  return text.substr(start, *index - start);
}

bool is_letter(char c) { return c >= 'a' && c <= 'z'; }

std::optional<std::int64_t> to_number(std::string_view digits) {
  if (digits.empty() || digits.size() > 9) return std::nullopt;
  std::int64_t value = 0;
  for (const char c : digits) value = value * 10 + (c - '0');
  return value;
}

// "HH:MM[:SS[.fff]]" starting at text[*index] (after the hour's digits were read).
bool read_clock(std::string_view text, std::size_t* index, std::int64_t hour, DateTimeFields* fields) {
  if (fields->hour) return false;
  fields->hour = hour;
  ++*index;  // ':'
  const std::optional<std::int64_t> minute = to_number(take_while(text, index, is_digit));
  if (!minute) return false;
  fields->minute = minute;
  if (*index < text.size() && text[*index] == ':') {
    ++*index;
    const std::optional<std::int64_t> second = to_number(take_while(text, index, is_digit));
    if (!second) return false;
    fields->second = second;
    if (*index < text.size() && text[*index] == '.') {
      ++*index;
      const std::string_view digits = take_while(text, index, is_digit);
      // PostgreSQL: rint(strtod("0.fff") * 1000000) microseconds.
      const std::string decimal = "0." + std::string(digits);
      double fraction = 0;
      std::from_chars(decimal.data(), decimal.data() + decimal.size(), fraction);
      fields->fraction = fraction;
    }
  }
  return true;
}

// A date written with separators: Y-M-D, M/D/Y, D-Mon-Y, Y-Mon-D.
bool read_separated_date(std::string_view text, std::size_t* index, DateTimeFields* fields) {
  if (fields->year) return false;
  std::vector<std::string_view> parts;
  char separator = '\0';
  while (parts.size() < 3) {
    if (!parts.empty()) {
      const char next = *index < text.size() ? text[*index] : '\0';
      if (next != '-' && next != '/' && next != '.') break;
      if (separator != '\0' && next != separator) return false;
      separator = next;
      ++*index;
    }
    const bool letters = *index < text.size() && is_letter(text[*index]);
    const std::string_view part = take_while(text, index, letters ? is_letter : is_digit);
    if (part.empty()) return false;
    parts.push_back(part);
  }
  if (parts.size() != 3) return false;
  int month_part = -1;
  for (int i = 0; i < 3; ++i) {
    if (!parts[static_cast<std::size_t>(i)].empty() && is_letter(parts[static_cast<std::size_t>(i)][0])) month_part = i;
  }
  std::optional<std::int64_t> numbers[3];
  for (int i = 0; i < 3; ++i) {
    if (i != month_part) {
      numbers[i] = to_number(parts[static_cast<std::size_t>(i)]);
      if (!numbers[i]) return false;
    }
  }
  int year_index = 2;
  if (month_part >= 0) {
    const std::optional<int> month = month_of(parts[static_cast<std::size_t>(month_part)]);
    if (!month) return false;
    fields->month = *month;
    const int first = month_part == 0 ? 1 : 0;
    const int second = month_part == 2 ? 1 : 2;
    year_index = parts[static_cast<std::size_t>(first)].size() >= 3 ? first : second;
    fields->day = numbers[year_index == first ? second : first];
  } else if (parts[0].size() >= 3) {
    year_index = 0;
    fields->month = numbers[1];
    fields->day = numbers[2];
  } else {
    fields->month = numbers[0];
    fields->day = numbers[1];
  }
  fields->year = numbers[year_index];
  fields->year_digits = static_cast<int>(parts[static_cast<std::size_t>(year_index)].size());
  return true;
}

bool read_word(std::string_view word, DateTimeFields* fields) {
  if (const std::optional<int> month = month_of(word)) {
    if (fields->month) return false;
    fields->month = *month;
    return true;
  }
  if (word == "am" || word == "pm") {
    fields->pm = word == "pm";
    return true;
  }
  if (word == "bc" || word == "ad") {
    fields->before_common_era = word == "bc";
    return true;
  }
  return is_day_name(word) || word == "utc" || word == "z" || word == "gmt";
}

// Splits the text into fields; false on anything PostgreSQL would not read.
bool read_fields(std::string_view text, DateTimeFields* fields) {
  std::size_t index = 0;
  while (index < text.size()) {
    const char c = text[index];
    if (c == ' ' || c == ',') {
      ++index;
    } else if ((c == '+' || c == '-') && fields->hour) {  // a time zone offset: ignored
      if (fields->zone_seen) return false;               // PostgreSQL reads one at most
      fields->zone_seen = true;
      ++index;
      take_while(text, &index, is_digit);
      if (index < text.size() && text[index] == ':') {
        ++index;
        take_while(text, &index, is_digit);
      }
    } else if (c == 't' && index + 1 < text.size() && is_digit(text[index + 1]) && fields->year) {
      ++index;  // ISO 8601's T between date and time
    } else if (is_letter(c)) {
      const std::string_view word = take_while(text, &index, is_letter);
      if (!read_word(word, fields)) return false;
    } else if (is_digit(c)) {
      const std::size_t start = index;
      const std::string_view digits = take_while(text, &index, is_digit);
      const char next = index < text.size() ? text[index] : '\0';
      if (next == ':') {
        if (!read_clock(text, &index, *to_number(digits.substr(0, 9)), fields)) return false;
      } else if (next == '-' || next == '/' || (next == '.' && !fields->year)) {
        index = start;
        if (!read_separated_date(text, &index, fields)) return false;
      } else if (is_letter(next)) {
        return false;  // "3pm", "12abc": PostgreSQL reads no number glued to a word
      } else if (digits.size() == 8 && !fields->year) {  // YYYYMMDD
        fields->year = to_number(digits.substr(0, 4));
        fields->year_digits = 4;
        fields->month = to_number(digits.substr(4, 2));
        fields->day = to_number(digits.substr(6, 2));
      } else {
        const std::optional<std::int64_t> number = to_number(digits);
        if (!number) return false;
        fields->numbers.emplace_back(*number, static_cast<int>(digits.size()));
      }
    } else {
      return false;
    }
  }
  return true;
}

// Loose numbers beside a month name: the one of three or more digits is the year, else day
// then year.
bool assign_numbers(DateTimeFields* fields) {
  auto& numbers = fields->numbers;
  if (numbers.empty()) return true;
  if (!fields->month || fields->year || numbers.size() > 2) return false;
  if (numbers.size() == 1) {
    if (fields->day || numbers[0].second < 3) return false;
    fields->year = numbers[0].first;
    fields->year_digits = numbers[0].second;
    return true;
  }
  const int year_index = numbers[0].second >= 3 ? 0 : 1;
  fields->year = numbers[static_cast<std::size_t>(year_index)].first;
  fields->year_digits = numbers[static_cast<std::size_t>(year_index)].second;
  fields->day = numbers[static_cast<std::size_t>(1 - year_index)].first;
  return true;
}

}  // namespace


std::string format_timestamp(std::int64_t micros_since_epoch) {
  if (micros_since_epoch == kTimestampInfinity) return "infinity";
  if (micros_since_epoch == kTimestampMinusInfinity) return "-infinity";
  std::int64_t days = micros_since_epoch / kMicrosPerDay;
  std::int64_t micros_of_day = micros_since_epoch % kMicrosPerDay;
  if (micros_of_day < 0) {
    days -= 1;
    micros_of_day += kMicrosPerDay;
  }
  const CivilDate date = civil_from_days(days);
  const std::int64_t seconds_of_day = micros_of_day / kMicrosPerSecond;
  const std::int64_t fraction = micros_of_day % kMicrosPerSecond;
  const bool before_common_era = date.year <= 0;
  std::string text = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                                 before_common_era ? 1 - date.year : date.year, date.month,
                                 date.day, seconds_of_day / 3600, seconds_of_day / 60 % 60,
                                 seconds_of_day % 60);
  if (fraction != 0) {
    std::string digits = fmt::format("{:06}", fraction);
    while (digits.back() == '0') digits.pop_back();
    text += "." + digits;
  }
  if (before_common_era) text += " BC";
  return text;
}

std::string format_float8(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  // The shortest round-trip digits, in scientific form "d.ddde[+-]x", then laid out as
  // PostgreSQL's float8out does (%g-like with the shortest precision).
  char buffer[64];
  std::to_chars_result written =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  REHEARSE_ASSERT(written.ec == std::errc());
  std::string scientific(buffer, written.ptr);
  // PostgreSQL's Ryu does not take a decimal that lies exactly halfway to a neighbouring double
  // (it would read back only by round-half-even), and prints one digit more there: checked
  // exactly in long double, which holds the decimal and the midpoints of such values.
  const long double shortest = std::strtold(scientific.c_str(), nullptr);
  const long double below = std::nextafter(value, -HUGE_VAL);
  const long double above = std::nextafter(value, HUGE_VAL);
  if (shortest == (static_cast<long double>(value) + below) / 2 ||
      shortest == (static_cast<long double>(value) + above) / 2) {
    const std::size_t point = scientific.find('.');
    const int after_point = point == std::string::npos ? 0 : static_cast<int>(scientific.find('e') - point - 1);
    written = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific, after_point + 1);
    REHEARSE_ASSERT(written.ec == std::errc());
    scientific.assign(buffer, written.ptr);
  }
  const std::size_t e = scientific.find('e');
  REHEARSE_ASSERT(e != std::string::npos);
  const int exponent = std::stoi(scientific.substr(e + 1));
  const bool negative = scientific[0] == '-';
  std::string digits;
  for (std::size_t i = negative ? 1 : 0; i < e; ++i) {
    if (scientific[i] != '.') digits += scientific[i];
  }
  std::string text = negative ? "-" : "";
  if (exponent < -4 || exponent >= 15) {
    text += digits.substr(0, 1);
    if (digits.size() > 1) text += "." + digits.substr(1);
    return text + fmt::format("e{}{:02}", exponent < 0 ? '-' : '+', exponent < 0 ? -exponent : exponent);
  }
  if (exponent < 0) return text + "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
  const std::size_t integer_digits = static_cast<std::size_t>(exponent) + 1;
  if (digits.size() <= integer_digits) return text + digits + std::string(integer_digits - digits.size(), '0');
  return text + digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
}

std::optional<std::int64_t> parse_timestamp(std::string_view text) {
  constexpr std::int64_t kYearMax = 294276;  // PostgreSQL's timestamp range
  constexpr std::int64_t kYearMinBeforeCommonEra = 4713;
  const std::string lower = [&text] {
    std::string made(trim_spaces(text));
    for (char& c : made) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return made;
  }();
  if (lower == "epoch") return 0;
  if (lower == "infinity" || lower == "+infinity") return kTimestampInfinity;
  if (lower == "-infinity") return kTimestampMinusInfinity;
  DateTimeFields fields;
  if (lower.empty() || !read_fields(lower, &fields) || !assign_numbers(&fields)) return std::nullopt;
  if (!fields.year || !fields.month || !fields.day) return std::nullopt;
  std::int64_t year = *fields.year;
  if (fields.year_digits <= 2) year += year < 70 ? 2000 : 1900;  // two-digit years, as PostgreSQL
  if (year < 1 || (fields.before_common_era ? year > kYearMinBeforeCommonEra : year > kYearMax)) return std::nullopt;
  if (fields.before_common_era) year = 1 - year;
  const std::int64_t month = *fields.month;
  const std::int64_t day = *fields.day;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, static_cast<int>(month))) {
    return std::nullopt;
  }
  std::int64_t hour = fields.hour.value_or(0);
  const std::int64_t minute = fields.minute.value_or(0);
  const std::int64_t second = fields.second.value_or(0);
  if (fields.pm) {
    if (hour < 1 || hour > 12) return std::nullopt;
    hour = (hour % 12) + (*fields.pm ? 12 : 0);
  }
  const std::int64_t fraction = static_cast<std::int64_t>(std::nearbyint(fields.fraction * 1000000));
  const bool midnight_after = hour == 24 && minute == 0 && second == 0 && fraction == 0;
  if ((hour > 23 && !midnight_after) || minute > 59 || second > 60) return std::nullopt;
  return days_from_civil(year, static_cast<int>(month), static_cast<int>(day)) * kMicrosPerDay +
         ((hour * 60 + minute) * 60 + second) * kMicrosPerSecond + fraction;
}

// ---- Value ----

// A boxed value: text, its bytes right after the 8-byte header, or a numeric too wide for 64
// bits, its Decimal in the 16 bytes after the header's (aligned as Int128 wants). A text box is
// 8 bytes plus its text: a generated email (22 bytes) takes one 32-byte block, within one cache
// line, where a header holding a Decimal for every box made it 70 bytes over two lines, and the
// rows' copies, comparisons and releases touch it at random.
struct Value::Box {
  std::atomic<std::uint32_t> refs{1};
  std::uint32_t size = 0;  // text bytes

  static constexpr std::size_t kDecimalOffset = 16;
  static_assert(kDecimalOffset >= 8 && kDecimalOffset % alignof(Decimal) == 0);
  static Box* make(std::string_view text) { return place(::operator new(bytes_for(text)), text); }
  // A text box's bytes (header and text), and the box built in `memory` of that size: the one
  // layout of a text box, for the heap's (make) and an arena's (TextArena::text).
  static std::size_t bytes_for(std::string_view text) {
    static_assert(sizeof(Box) == 8);
    return sizeof(Box) + text.size();
  }
  static Box* place(void* memory, std::string_view text) {
    Box* box = new (memory) Box();
    box->size = static_cast<std::uint32_t>(text.size());
    if (!text.empty()) std::memcpy(box->bytes(), text.data(), text.size());
    return box;
  }
  static Box* make(const Decimal& decimal) {
    void* memory = ::operator new(kDecimalOffset + sizeof(Decimal));  // 16-aligned, as new gives
    Box* box = new (memory) Box();
    new (static_cast<char*>(memory) + kDecimalOffset) Decimal(decimal);
    return box;
  }
  char* bytes() { return reinterpret_cast<char*>(this + 1); }
  const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
  const Decimal& decimal() const {
    return *std::launder(reinterpret_cast<const Decimal*>(reinterpret_cast<const char*>(this) + kDecimalOffset));
  }
  void destroy() {  // a Decimal is trivially destructible: the block goes as it is
    static_assert(std::is_trivially_destructible_v<Decimal>);
    this->~Box();
    ::operator delete(static_cast<void*>(this));
  }
};

void Value::add_ref() const noexcept { u_.box->refs.fetch_add(1, std::memory_order_relaxed); }

void Value::release_box() noexcept {
  if (u_.box->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) u_.box->destroy();
  boxed_ = false;
}

Value Value::boolean(bool b) {
  Value value;
  value.kind_ = Kind::boolean;
  value.u_.boolean = b;
  return value;
}

Value Value::integer(std::int64_t i) {
  Value value;
  value.kind_ = Kind::integer;
  value.u_.integer = i;
  return value;
}

Value Value::numeric(Decimal d) {
  check_decimal(d);
  Value value;
  value.kind_ = Kind::numeric;
  value.scale_ = static_cast<std::int8_t>(d.scale);
  if (fits_int64(d.mantissa)) {
    value.u_.integer = static_cast<std::int64_t>(d.mantissa);
  } else {
    value.u_.box = Box::make(d);
    value.boxed_ = true;
  }
  return value;
}

Value Value::small_numeric(std::int64_t mantissa, int scale) {
  REHEARSE_ASSERT(scale >= 0);
  REHEARSE_ASSERT(scale <= Decimal::kMaxScale);
  Value value;
  value.kind_ = Kind::numeric;
  value.scale_ = static_cast<std::int8_t>(scale);
  value.u_.integer = mantissa;
  return value;
}

Value Value::text(std::string_view s) {
  Value value;
  value.kind_ = Kind::text;
  value.u_.box = Box::make(s);
  value.boxed_ = true;
  return value;
}

TextArena::~TextArena() {
  for (char* chunk : chunks_) ::operator delete(static_cast<void*>(chunk));
}

Value TextArena::text(std::string_view text) {
  // A box's header is 8 bytes with 4-byte fields: boxes start 8-aligned.
  const std::size_t size = (Value::Box::bytes_for(text) + 7) & ~std::size_t{7};
  if (size > left_) {
    const std::size_t chunk = std::max(kChunk, size);
    chunks_.push_back(static_cast<char*>(::operator new(chunk)));
    next_ = chunks_.back();
    left_ = chunk;
  }
  Value::Box* box = Value::Box::place(next_, text);
  next_ += size;
  left_ -= size;
  Value value;
  value.kind_ = Value::Kind::text;
  value.u_.box = box;  // not boxed_: no count to keep, nothing to release
  return value;
}

Value Value::numeric_nan() {
  Value value;
  value.kind_ = Kind::numeric;
  value.scale_ = -1;
  return value;
}

Value Value::float8(double d) {
  Value value;
  value.kind_ = Kind::float8;
  value.u_.real = d;
  return value;
}

Value Value::timestamp(std::int64_t micros_since_epoch) {
  Value value;
  value.kind_ = Kind::timestamp;
  value.u_.integer = micros_since_epoch;
  return value;
}

bool Value::as_bool() const {
  REHEARSE_ASSERT(kind_ == Kind::boolean);
  return u_.boolean;
}

std::int64_t Value::as_int() const {
  REHEARSE_ASSERT(kind_ == Kind::integer || kind_ == Kind::timestamp);
  return u_.integer;
}

Decimal Value::as_decimal() const {
  REHEARSE_ASSERT(kind_ == Kind::numeric);
  REHEARSE_ASSERT(!is_nan());
  if (boxed_) return u_.box->decimal();
  return Decimal{u_.integer, scale_};
}

double Value::as_double() const {
  REHEARSE_ASSERT(kind_ == Kind::float8);
  return u_.real;
}

std::string_view Value::as_text() const {
  REHEARSE_ASSERT(kind_ == Kind::text);
  return std::string_view(u_.box->bytes(), u_.box->size);
}

std::string Value::to_string() const {
  switch (kind_) {
    case Kind::null: return "NULL";
    case Kind::boolean: return u_.boolean ? "t" : "f";
    case Kind::integer: return fmt::format("{}", u_.integer);
    case Kind::numeric: return is_nan() ? "NaN" : decimal::to_string(as_decimal());
    case Kind::text: return std::string(as_text());
    case Kind::timestamp: return format_timestamp(u_.integer);
    case Kind::float8: return format_float8(u_.real);
  }
  REHEARSE_ASSERT(false);
  return "";
}

namespace {

// 64-bit FNV-1a over a canonical byte encoding: fixed little-endian widths, one tag byte per
// kind. Integers and numerics share the "number" tag and are encoded as the normalised decimal,
// so 3, 3.0 and 3.00 hash equally. Changing any of this changes every stored checksum.
class StableHasher {
 public:
  void add_byte(std::uint8_t byte) {
    constexpr std::uint64_t kFnvPrime = 1099511628211ULL;
    state_ = (state_ ^ byte) * kFnvPrime;
  }
  void add_unsigned(UInt128 value, int bytes) {
    for (int i = 0; i < bytes; ++i) add_byte(static_cast<std::uint8_t>(value >> (8 * i)));
  }
  std::uint64_t state() const { return state_; }

 private:
  std::uint64_t state_ = 14695981039346656037ULL;  // FNV-1a 64-bit offset basis
};

enum HashTag : std::uint8_t { kTagNull = 0, kTagBoolean = 1, kTagNumber = 2, kTagText = 3,
                              kTagTimestamp = 4, kTagFloat8 = 5, kTagNumericNaN = 6 };

bool is_number(Value::Kind kind) {
  return kind == Value::Kind::integer || kind == Value::Kind::numeric;
}

Decimal number_of(const Value& value) {
  return value.kind() == Value::Kind::integer ? decimal::from_integer(value.as_int())
                                              : value.as_decimal();
}

}  // namespace

std::uint64_t Value::hash() const {
  StableHasher hasher;
  switch (kind_) {
    case Kind::null: hasher.add_byte(kTagNull); break;
    case Kind::boolean:
      hasher.add_byte(kTagBoolean);
      hasher.add_byte(u_.boolean ? 1 : 0);
      break;
    case Kind::integer:
    case Kind::numeric: {
      if (is_nan()) {
        hasher.add_byte(kTagNumericNaN);
        break;
      }
      const Decimal canonical = decimal::normalized(number_of(*this));
      hasher.add_byte(kTagNumber);
      hasher.add_unsigned(static_cast<UInt128>(canonical.mantissa), 16);  // two's complement
      hasher.add_byte(static_cast<std::uint8_t>(canonical.scale));
      break;
    }
    case Kind::text: {
      const std::string_view text = as_text();
      hasher.add_byte(kTagText);
      hasher.add_unsigned(text.size(), 8);
      for (const char c : text) hasher.add_byte(static_cast<std::uint8_t>(c));
      break;
    }
    case Kind::timestamp:
      hasher.add_byte(kTagTimestamp);
      hasher.add_unsigned(static_cast<std::uint64_t>(u_.integer), 8);
      break;
    case Kind::float8: {
      // Equal doubles hash equally: -0 as 0, every NaN as one (PostgreSQL's float8 equality).
      const double canonical = u_.real == 0 ? 0.0 : std::isnan(u_.real) ? std::numeric_limits<double>::quiet_NaN() : u_.real;
      std::uint64_t bits = 0;
      std::memcpy(&bits, &canonical, sizeof bits);
      hasher.add_byte(kTagFloat8);
      hasher.add_unsigned(bits, 8);
      break;
    }
  }
  return hasher.state();
}

bool operator==(const Value& a, const Value& b) {
  if (is_number(a.kind()) && is_number(b.kind())) {
    if (a.is_nan() || b.is_nan()) return a.is_nan() && b.is_nan();
    std::int64_t x = 0, y = 0;
    int x_scale = 0, y_scale = 0;
    if (a.small_decimal(&x, &x_scale) && b.small_decimal(&y, &y_scale) && x_scale == y_scale) return x == y;
    return decimal::compare(number_of(a), number_of(b)) == 0;
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::null: return true;
    case Value::Kind::boolean: return a.as_bool() == b.as_bool();
    // The same box (a row version's copy, the write it came from) is equal without reading it.
    case Value::Kind::text: return a.u_.box == b.u_.box || a.as_text() == b.as_text();
    case Value::Kind::timestamp: return a.as_int() == b.as_int();
    case Value::Kind::float8:
      return a.as_double() == b.as_double() || (std::isnan(a.as_double()) && std::isnan(b.as_double()));
    case Value::Kind::integer:
    case Value::Kind::numeric: break;
  }
  REHEARSE_ASSERT(false);
  return false;
}

}  // namespace rehearse
