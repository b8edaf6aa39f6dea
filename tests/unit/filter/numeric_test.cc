// Exact int64/double comparison (filter/numeric.h) and ValueSet membership,
// checked against an independent long-double oracle (x86 long double holds
// every int64 and every double exactly).
#include "filter/numeric.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "filter/value_set.h"

namespace ksdb::filter {
namespace {

std::partial_ordering Oracle(int64_t i, double d) {
  return static_cast<long double>(i) <=> static_cast<long double>(d);
}

TEST(NumericTest, KnownCases) {
  EXPECT_EQ(CompareIntDouble(1, 1.5), std::partial_ordering::less);
  EXPECT_EQ(CompareIntDouble(1, 1.0), std::partial_ordering::equivalent);
  EXPECT_EQ(CompareIntDouble(2, 1.5), std::partial_ordering::greater);
  EXPECT_EQ(CompareIntDouble(-1, -1.5), std::partial_ordering::greater);
  EXPECT_EQ(CompareIntDouble(-2, -1.5), std::partial_ordering::less);
  EXPECT_EQ(CompareIntDouble(0, -0.0), std::partial_ordering::equivalent);
  EXPECT_EQ(CompareIntDouble(9007199254740993, 9007199254740992.0), std::partial_ordering::greater);
  EXPECT_EQ(CompareIntDouble(9007199254740992, 9007199254740992.0),
            std::partial_ordering::equivalent);
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(CompareIntDouble(kMax, 9223372036854775808.0), std::partial_ordering::less);
  EXPECT_EQ(CompareIntDouble(kMin, -9223372036854775808.0), std::partial_ordering::equivalent);
  EXPECT_EQ(CompareIntDouble(kMin, -9223372036854777856.0), std::partial_ordering::greater);
  EXPECT_EQ(CompareIntDouble(0, std::numeric_limits<double>::infinity()),
            std::partial_ordering::less);
  EXPECT_EQ(CompareIntDouble(0, -std::numeric_limits<double>::infinity()),
            std::partial_ordering::greater);
  EXPECT_EQ(CompareIntDouble(0, std::nan("")), std::partial_ordering::unordered);
  EXPECT_EQ(CompareIntDouble(0, 5e-324), std::partial_ordering::less);
}

TEST(NumericTest, AgreesWithLongDoubleOracle) {
  static_assert(std::numeric_limits<long double>::digits >= 64, "oracle needs a 64-bit mantissa");
  std::mt19937_64 rng(42);
  for (int n = 0; n < 200'000; ++n) {
    int64_t i = static_cast<int64_t>(rng());
    // Draw doubles near `i` so the interesting boundaries are hit often.
    if (n % 3 == 0)
      i >>= rng() % 64;
    double d = static_cast<double>(i);
    switch (n % 4) {
      case 0:
        d = std::nextafter(d, rng() % 2 ? 1e300 : -1e300);
        break;
      case 1:
        d += static_cast<double>(static_cast<int64_t>(rng() % 5) - 2) * 0.5;
        break;
      case 2:
        d = std::ldexp(static_cast<double>(rng() % 1000) - 500.0, static_cast<int>(rng() % 70));
        break;
      default:
        break;
    }
    ASSERT_EQ(CompareIntDouble(i, d), Oracle(i, d)) << i << " vs " << d;
    const Number as_double = Number::Double(d);
    ASSERT_EQ(CompareNumber(i, as_double), Oracle(i, d));
    ASSERT_EQ(CompareNumber(d, Number::Int(i)), 0 <=> Oracle(i, d));
  }
}

TEST(NumericTest, ExactConversions) {
  EXPECT_EQ(ExactInt(3.0), 3);
  EXPECT_EQ(ExactInt(-0.0), 0);
  EXPECT_EQ(ExactInt(3.5), std::nullopt);
  EXPECT_EQ(ExactInt(9223372036854775808.0), std::nullopt);
  EXPECT_EQ(ExactInt(-9223372036854775808.0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(ExactInt(std::nan("")), std::nullopt);
  EXPECT_EQ(ExactDouble(9007199254740992), 9007199254740992.0);
  EXPECT_EQ(ExactDouble(9007199254740993), std::nullopt);
  EXPECT_EQ(ExactDouble(std::numeric_limits<int64_t>::max()), std::nullopt);
}

TEST(ValueSetTest, NumericMembershipIsExactAcrossKinds) {
  ValueSet set;
  set.AddInt(1);
  set.AddDouble(2.0);
  set.AddDouble(2.5);
  set.AddInt(9007199254740993);
  set.AddInt(1);
  set.Finalize();
  EXPECT_EQ(set.size(), 4u);
  EXPECT_TRUE(set.ContainsInt(1));
  EXPECT_TRUE(set.ContainsDouble(1.0));
  EXPECT_TRUE(set.ContainsInt(2));
  EXPECT_TRUE(set.ContainsDouble(2.5));
  EXPECT_FALSE(set.ContainsInt(3));
  EXPECT_FALSE(set.ContainsDouble(1.5));
  EXPECT_TRUE(set.ContainsInt(9007199254740993));
  EXPECT_FALSE(set.ContainsDouble(9007199254740992.0));
  EXPECT_FALSE(set.ContainsBool(true));
  EXPECT_FALSE(set.ContainsString("1"));
  EXPECT_TRUE(set.ContainsScalar(MetadataValue(2.0)));
  EXPECT_FALSE(set.ContainsScalar(MetadataValue(std::vector<int64_t>{1})));
  EXPECT_TRUE(set.ContainsAnyElement(MetadataValue(std::vector<double>{7.0, 2.5})));
  EXPECT_FALSE(set.ContainsAnyElement(MetadataValue(int64_t{1})));
}

TEST(ValueSetTest, StringsAndBools) {
  ValueSet set;
  set.AddString("b");
  set.AddString("a");
  set.AddBool(false);
  set.Finalize();
  EXPECT_TRUE(set.ContainsString("a"));
  EXPECT_FALSE(set.ContainsString("A"));
  EXPECT_TRUE(set.ContainsBool(false));
  EXPECT_FALSE(set.ContainsBool(true));
  EXPECT_TRUE(set.ContainsAnyElement(MetadataValue(std::vector<bool>{true, false})));
  EXPECT_TRUE(set.ContainsAnyElement(MetadataValue(std::vector<std::string>{"z", "b"})));
}

}  // namespace
}  // namespace ksdb::filter
