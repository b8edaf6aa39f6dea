// Exact comparison of metadata numbers across the int64/double kinds.
//
// An int64 and a double are compared as the mathematical values they denote:
// no truncation of the double and no rounding of the int (9007199254740993 is
// not equal to the double 9007199254740992.0). This deliberately departs from the
// reference server's truncation bug (spec §6.2, §12 #4).
#ifndef KSDB_FILTER_NUMERIC_H_
#define KSDB_FILTER_NUMERIC_H_

#include <cmath>
#include <compare>
#include <cstdint>
#include <optional>

namespace ksdb::filter {

// A numeric operand that keeps the kind of its JSON token.
struct Number {
  bool is_int = true;
  int64_t int_value = 0;
  double double_value = 0.0;

  static Number Int(int64_t v) { return Number{true, v, 0.0}; }
  static Number Double(double v) { return Number{false, 0, v}; }
};

// 2^63 = INT64_MAX + 1 = -INT64_MIN, exactly representable as a double.
inline constexpr double kTwoPow63 = 9223372036854775808.0;

// Three-way comparison of `i` with `d`; unordered when `d` is NaN.
inline std::partial_ordering CompareIntDouble(int64_t i, double d) {
  if (std::isnan(d))
    return std::partial_ordering::unordered;
  if (d >= kTwoPow63)
    return std::partial_ordering::less;
  if (d < -kTwoPow63)
    return std::partial_ordering::greater;
  // |trunc(d)| < 2^63 or trunc(d) == -2^63, so the cast below is exact.
  const double whole = std::trunc(d);
  const int64_t whole_int = static_cast<int64_t>(whole);
  if (i != whole_int)
    return i <=> whole_int;
  // Same integer part: the fraction of `d` alone decides.
  if (d > whole)
    return std::partial_ordering::less;
  if (d < whole)
    return std::partial_ordering::greater;
  return std::partial_ordering::equivalent;
}

// Three-way comparison of a stored int64 with an operand.
inline std::partial_ordering CompareNumber(int64_t stored, const Number& operand) {
  if (operand.is_int)
    return stored <=> operand.int_value;
  return CompareIntDouble(stored, operand.double_value);
}

// Three-way comparison of a stored double with an operand.
inline std::partial_ordering CompareNumber(double stored, const Number& operand) {
  if (operand.is_int)
    return 0 <=> CompareIntDouble(operand.int_value, stored);
  return stored <=> operand.double_value;
}

// The int64 equal to `d`, if `d` is integral and in range.
inline std::optional<int64_t> ExactInt(double d) {
  if (!(d >= -kTwoPow63 && d < kTwoPow63))
    return std::nullopt;  // also rejects NaN
  if (std::trunc(d) != d)
    return std::nullopt;
  return static_cast<int64_t>(d);
}

// The double equal to `i`, if `i` is exactly representable.
inline std::optional<double> ExactDouble(int64_t i) {
  const double d = static_cast<double>(i);
  if (CompareIntDouble(i, d) != 0)
    return std::nullopt;
  return d;
}

}  // namespace ksdb::filter

#endif  // KSDB_FILTER_NUMERIC_H_
