// SQL values as the migration sees them: NULL, boolean, bigint/integer, exact numeric,
// text and timestamp. Used by the expression evaluator, the simulated databases and the
// checksums that validation compares. Numeric is an exact decimal (never a binary float).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/assert.h"
#include "core/block_pool.h"
#include "core/model.h"

namespace rehearse {

// The 128-bit mantissa type, spelled so that -Wpedantic accepts it (a GCC/Clang extension).
__extension__ typedef __int128 Int128;

// An exact decimal: value = mantissa / 10^scale. 0 <= scale <= kMaxScale.
struct Decimal {
  static constexpr int kMaxScale = 30;
  Int128 mantissa = 0;
  int scale = 0;
};

// Exact decimal arithmetic, shared by Value (comparison, hashing, text output) and the
// expression evaluator (core/expr.cc). Every function that reduces a scale rounds half away
// from zero, as PostgreSQL's numeric does. Functions returning std::optional give
// std::nullopt when the exact result does not fit a Decimal (|mantissa| < 2^127, that is about
// 38 significant digits, and scale <= kMaxScale): callers report "numeric value out of range".
namespace decimal {
Decimal from_integer(std::int64_t integer);
// Trailing fractional zeros removed (1.50 -> 1.5, 3.00 -> 3): the canonical form of a value.
Decimal normalized(const Decimal& value);
// -1, 0 or 1 comparing by value, whatever the scales (1.50 == 1.5).
int compare(const Decimal& a, const Decimal& b);
// PostgreSQL's output: all `scale` fractional digits, e.g. "12.50", "-0.5", "3".
std::string to_string(const Decimal& value);
// PostgreSQL's numeric input: optional surrounding spaces, sign, digits with an optional point,
// optional exponent ("1.5e3"). On failure *out_of_range (if given) tells a value that does not
// fit from bad syntax.
std::optional<Decimal> parse(std::string_view text, bool* out_of_range = nullptr);
// Rounds (or zero-extends) to `places` fractional digits; negative places round to tens,
// hundreds, ... with scale 0 (PostgreSQL's round(numeric, int)). REQUIRES: places <= kMaxScale.
std::optional<Decimal> round(const Decimal& value, int places);
Decimal floor(const Decimal& value);  // scale 0
Decimal ceil(const Decimal& value);   // scale 0
// Rounded half away from zero to an integer; nullopt outside the int64 range.
std::optional<std::int64_t> to_int64(const Decimal& value);
std::optional<Decimal> add(const Decimal& a, const Decimal& b);       // scale max(a, b)
std::optional<Decimal> subtract(const Decimal& a, const Decimal& b);  // scale max(a, b)
// Scale a.scale + b.scale, rounded to kMaxScale when larger.
std::optional<Decimal> multiply(const Decimal& a, const Decimal& b);
// The quotient rounded to divide_scale(a, b) digits. REQUIRES: b is not zero.
std::optional<Decimal> divide(const Decimal& a, const Decimal& b);
// PostgreSQL's result scale of numeric division (select_div_scale): at least 16 significant
// digits and at least the scale of either operand, here capped at kMaxScale.
int divide_scale(const Decimal& a, const Decimal& b);
// a - trunc(a / b) * b with the sign of a and scale max(a, b). REQUIRES: b is not zero.
std::optional<Decimal> remainder(const Decimal& a, const Decimal& b);
}  // namespace decimal

// Timestamps (microseconds since 1970-01-01 00:00:00, no time zone), PostgreSQL's formats.
// Output: "YYYY-MM-DD HH:MM:SS[.ffffff]" with trailing fractional zeros dropped, " BC" for
// years before 1, "infinity" / "-infinity". Input: PostgreSQL's timestamp input with DateStyle
// MDY for the forms value.cc lists (ISO, month names, M/D/Y, AM/PM, BC, a time zone that is
// ignored, epoch, infinity); std::nullopt where PostgreSQL reports invalid input or a date
// outside its range.
// PostgreSQL's 'infinity' and '-infinity' timestamps (its own encoding: the int64 extremes).
constexpr std::int64_t kTimestampInfinity = INT64_MAX;
constexpr std::int64_t kTimestampMinusInfinity = INT64_MIN;
std::string format_timestamp(std::int64_t micros_since_epoch);
std::optional<std::int64_t> parse_timestamp(std::string_view text);

// PostgreSQL's output of a double precision value (float8out with extra_float_digits = 1, the
// default): the shortest text that reads back exactly, in exponent form ("1e+15", "1.5e-05")
// when the decimal exponent is below -4 or at least 15; "NaN", "Infinity", "-Infinity".
std::string format_float8(double value);

class TextArena;

class Value {
 public:
  // float8 is PostgreSQL's double precision: what round, floor and ceil of an integer give.
  enum class Kind : std::uint8_t { null, boolean, integer, numeric, text, timestamp, float8 };

  Value() = default;  // NULL
  static Value null() { return Value(); }
  static Value boolean(bool b);
  static Value integer(std::int64_t i);
  static Value numeric(Decimal d);
  static Value text(std::string_view s);
  static Value timestamp(std::int64_t micros_since_epoch);
  static Value float8(double d);
  // PostgreSQL's numeric NaN ('NaN'::numeric): equal to itself, above every number.
  static Value numeric_nan();

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::null; }
  bool as_bool() const;                 // REQUIRES: kind() == boolean
  std::int64_t as_int() const;          // REQUIRES: kind() == integer or timestamp
  bool is_nan() const { return kind_ == Kind::numeric && scale_ < 0; }
  Decimal as_decimal() const;           // REQUIRES: kind() == numeric, not is_nan()
  // REQUIRES: kind() == text; valid while this value lives (and, for a TextArena's, its arena)
  std::string_view as_text() const;
  // An integer (scale 0) or a numeric held inline (not NaN, its mantissa fits 64 bits) as
  // mantissa / 10^scale: true with both set; false for anything else. The evaluator's 64-bit
  // arithmetic (core/expr.cc) reads its operands through it.
  bool small_decimal(std::int64_t* mantissa, int* scale) const {
    if (kind_ == Kind::integer) {
      *mantissa = u_.integer;
      *scale = 0;
      return true;
    }
    if (kind_ != Kind::numeric || boxed_ || scale_ < 0) return false;
    *mantissa = u_.integer;
    *scale = scale_;
    return true;
  }
  // The numeric mantissa / 10^scale, as numeric(Decimal{mantissa, scale}) makes it.
  // REQUIRES: 0 <= scale <= Decimal::kMaxScale.
  static Value small_numeric(std::int64_t mantissa, int scale);
  double as_double() const;             // REQUIRES: kind() == float8

  // PostgreSQL's text output of the value ("NULL" for null), e.g. 12.50, t, 2024-01-01 00:00:00.
  // Booleans print as PostgreSQL's output function does ("t" / "f"); note that a cast to text
  // (CAST(b AS text), b || '') gives "true" / "false" in PostgreSQL and in the evaluator.
  std::string to_string() const;
  // A stable 64-bit hash, the same on every machine; equal values (SQL equality of the same
  // kind, numerics compared by value regardless of scale) hash equally.
  std::uint64_t hash() const;
  // SQL-value equality where NULL equals NULL (IS NOT DISTINCT FROM semantics).
  friend bool operator==(const Value& a, const Value& b);
  friend class TextArena;

 private:
  // 16 bytes: the simulator keeps millions of values. Booleans, integers, timestamps and
  // numerics whose mantissa fits 64 bits are held inline; text and wider numerics live in an
  // immutable, reference-counted box shared by copies (the count is atomic: sweeps copy a
  // scenario's literals on several threads). A TextArena's text is a box not counted: boxed_ is
  // false, so copies and releases leave it alone.
  struct Box;
  void release() noexcept {
    if (boxed_) release_box();
  }
  void release_box() noexcept;  // REQUIRES: boxed_; drops this handle's reference
  void add_ref() const noexcept;  // REQUIRES: boxed_

  Kind kind_ = Kind::null;
  std::int8_t scale_ = 0;  // inline numeric
  bool boxed_ = false;
  union {
    bool boolean;
    std::int64_t integer;  // integer, timestamp, inline numeric mantissa
    double real;           // float8
    Box* box;
  } u_{.integer = 0};

 public:
  // Inline: the simulator copies, moves and drops values on every request; only a boxed
  // value's reference count leaves the header.
  Value(const Value& other) noexcept : kind_(other.kind_), scale_(other.scale_), boxed_(other.boxed_), u_(other.u_) {
    if (boxed_) add_ref();
  }
  Value(Value&& other) noexcept : kind_(other.kind_), scale_(other.scale_), boxed_(other.boxed_), u_(other.u_) {
    other.kind_ = Kind::null;
    other.boxed_ = false;
    other.u_.integer = 0;
  }
  Value& operator=(const Value& other) noexcept {
    if (this != &other) {
      if (other.boxed_) other.add_ref();
      release();
      kind_ = other.kind_;
      scale_ = other.scale_;
      boxed_ = other.boxed_;
      u_ = other.u_;
    }
    return *this;
  }
  Value& operator=(Value&& other) noexcept {
    if (this != &other) {
      release();
      kind_ = other.kind_;
      scale_ = other.scale_;
      boxed_ = other.boxed_;
      u_ = other.u_;
      other.kind_ = Kind::null;
      other.boxed_ = false;
      other.u_.integer = 0;
    }
    return *this;
  }
  ~Value() { release(); }
};
static_assert(sizeof(Value) == 16);

// Texts that live as long as the arena that made them, for the values a simulated run generates
// (its tables' data, its application's writes): such a value is not reference counted, so a
// copy, a move or a release touches only its 16-byte handle and never its text, which copying
// a row version, taking a snapshot and ending a run otherwise do at random across the heap. The
// texts are packed one after another, in the order they were made. A value from an arena must
// not be read after the arena is gone (a simulated world keeps its arena as long as anything
// holding its values: itself and its Observations, core/observations.h). One thread's.
class TextArena {
 public:
  TextArena() = default;
  TextArena(const TextArena&) = delete;
  TextArena& operator=(const TextArena&) = delete;
  ~TextArena();
  // A text value whose bytes live in this arena.
  Value text(std::string_view text);

 private:
  static constexpr std::size_t kChunk = 64 * 1024;
  std::vector<char*> chunks_;
  char* next_ = nullptr;
  std::size_t left_ = 0;
};

// A row's values by column name, as an application writes them: a few columns, so a sorted
// vector rather than a tree (a simulated write makes and copies several), in one block of the
// pool (core/block_pool.h), so a simulated write allocates none in steady state. The part of
// std::map's interface its users need; iteration is in name order, as a std::map's.
class ColumnValues {
 public:
  using value_type = std::pair<std::string, Value>;
  using Storage = std::vector<value_type, PoolAllocator<value_type>>;
  using iterator = Storage::iterator;
  using const_iterator = Storage::const_iterator;

  ColumnValues() = default;
  ColumnValues(std::initializer_list<value_type> entries) {  // NOLINT(google-explicit-constructor): as std::map's
    for (const value_type& entry : entries) {
      if (count(entry.first) == 0) (*this)[entry.first] = entry.second;  // of equal names the first, as std::map
    }
  }

  iterator begin() { return entries_.begin(); }
  iterator end() { return entries_.end(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void clear() { entries_.clear(); }

  iterator find(std::string_view column) {
    const iterator at = lower_bound(column);
    return at != entries_.end() && at->first == column ? at : entries_.end();
  }
  const_iterator find(std::string_view column) const { return const_cast<ColumnValues*>(this)->find(column); }
  std::size_t count(std::string_view column) const { return find(column) != end() ? 1 : 0; }
  // The value of `column`, a NULL one inserted in name order when there is none.
  Value& operator[](std::string_view column) {
    if (entries_.empty() || std::string_view(entries_.back().first) < column) {  // names in order: appended
      if (entries_.capacity() == 0) entries_.reserve(kFirstCapacity);
      return entries_.emplace_back(std::string(column), Value()).second;
    }
    const iterator at = lower_bound(column);
    if (at != entries_.end() && at->first == column) return at->second;
    return entries_.emplace(at, std::string(column), Value())->second;
  }
  iterator erase(const_iterator at) { return entries_.erase(at); }
  friend bool operator==(const ColumnValues& a, const ColumnValues& b) { return a.entries_ == b.entries_; }

 private:
  static constexpr std::size_t kFirstCapacity = 4;  // a write's columns, usually
  iterator lower_bound(std::string_view column) {
    return std::lower_bound(entries_.begin(), entries_.end(), column,
                            [](const value_type& entry, std::string_view key) { return std::string_view(entry.first) < key; });
  }
  Storage entries_;
};

}  // namespace rehearse
