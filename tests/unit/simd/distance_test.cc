// Tests for the distance kernels and their dispatch: every SIMD level against
// the scalar reference, the level-selection rule and KSDB_SIMD_LEVEL, and
// Chroma's distance formulas on the spec's worked example (§7.3).
#include "simd/distance.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "simd/kernels_internal.h"

namespace ksdb::simd {
namespace {

constexpr size_t kMaxSmallDim = 65;

std::vector<SimdLevel> SupportedLevels() {
  std::vector<SimdLevel> levels;
  for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
    if (LevelSupported(level))
      levels.push_back(level);
  }
  return levels;
}

std::vector<float> IntegerValued(size_t dim, std::mt19937* rng) {
  std::uniform_int_distribution<int> dist(-8, 8);
  std::vector<float> v(dim);
  for (float& x : v)
    x = static_cast<float>(dist(*rng));
  return v;
}

std::vector<float> RandomFloats(size_t dim, std::mt19937* rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(dim);
  for (float& x : v)
    x = dist(*rng);
  return v;
}

// Sum of |term| for a kernel's terms: the scale its rounding error is
// proportional to (the result itself may cancel to near zero for dot).
double TermMagnitude(const std::vector<float>& a, const std::vector<float>& b, bool diff) {
  double sum = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double t = diff ? static_cast<double>(a[i]) - b[i] : static_cast<double>(a[i]);
    const double u = diff ? t : static_cast<double>(b[i]);
    sum += std::fabs(t * u);
  }
  return sum;
}

class KernelLevelTest : public ::testing::TestWithParam<SimdLevel> {
 protected:
  const Kernels& kernels() const { return KernelsFor(GetParam()); }
};

TEST_P(KernelLevelTest, TableMatchesLevel) {
  EXPECT_EQ(kernels().level, GetParam());
}

TEST_P(KernelLevelTest, IntegerValuedInputsMatchScalarExactly) {
  // Integer-valued floats of small magnitude make every partial sum exact, so
  // any summation order must give the reference result bit for bit.
  std::mt19937 rng(42);
  for (size_t dim = 1; dim <= kMaxSmallDim; ++dim) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    const std::vector<float> a = IntegerValued(dim, &rng);
    const std::vector<float> b = IntegerValued(dim, &rng);
    EXPECT_EQ(kernels().l2_squared(a.data(), b.data(), dim),
              internal::L2SquaredScalar(a.data(), b.data(), dim));
    EXPECT_EQ(kernels().dot(a.data(), b.data(), dim), internal::DotScalar(a.data(), b.data(), dim));
    EXPECT_EQ(kernels().norm_squared(a.data(), dim), internal::NormSquaredScalar(a.data(), dim));
  }
}

// Two pages, the second inaccessible: a vector copied to the very end of the
// first one faults if a kernel reads even one element past its end.
class GuardedPage {
 public:
  GuardedPage() : page_(static_cast<size_t>(sysconf(_SC_PAGESIZE))) {
    void* p = mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      return;
    base_ = static_cast<char*>(p);
    if (mprotect(base_ + page_, page_, PROT_NONE) != 0) {
      munmap(base_, 2 * page_);
      base_ = nullptr;
    }
  }
  ~GuardedPage() {
    if (base_ != nullptr)
      munmap(base_, 2 * page_);
  }
  bool ok() const { return base_ != nullptr; }
  // `v` copied so that its last element ends at the guard page.
  const float* PlaceAtEnd(const std::vector<float>& v) {
    char* dst = base_ + page_ - v.size() * sizeof(float);
    std::memcpy(dst, v.data(), v.size() * sizeof(float));
    return reinterpret_cast<const float*>(dst);
  }

 private:
  size_t page_;
  char* base_ = nullptr;
};

TEST_P(KernelLevelTest, NeverReadPastTheEndOfAVector) {
  std::mt19937 rng(11);
  GuardedPage a_page;
  GuardedPage b_page;
  ASSERT_TRUE(a_page.ok() && b_page.ok());
  for (size_t dim = 1; dim <= kMaxSmallDim + 40; ++dim) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    const std::vector<float> a = IntegerValued(dim, &rng);
    const std::vector<float> b = IntegerValued(dim, &rng);
    const float* ga = a_page.PlaceAtEnd(a);
    const float* gb = b_page.PlaceAtEnd(b);
    EXPECT_EQ(kernels().l2_squared(ga, gb, dim), internal::L2SquaredScalar(a.data(), b.data(), dim));
    EXPECT_EQ(kernels().dot(ga, gb, dim), internal::DotScalar(a.data(), b.data(), dim));
    EXPECT_EQ(kernels().norm_squared(ga, dim), internal::NormSquaredScalar(a.data(), dim));
  }
}

TEST_P(KernelLevelTest, BatchKernelsEqualTheSingleVectorKernelsExactly) {
  std::mt19937 rng(5);
  for (size_t dim : {1, 3, 4, 7, 16, 17, 64, 100, 128, 385}) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    const std::vector<float> a = RandomFloats(dim, &rng);
    std::vector<std::vector<float>> rows;
    std::vector<const float*> pointers;
    for (size_t j = 0; j < 9; ++j)
      rows.push_back(RandomFloats(dim, &rng));
    for (const auto& row : rows)
      pointers.push_back(row.data());
    std::vector<float> l2(rows.size(), -1.0f);
    std::vector<float> dot(rows.size(), -1.0f);
    kernels().l2_squared_batch(a.data(), pointers.data(), rows.size(), dim, l2.data());
    kernels().dot_batch(a.data(), pointers.data(), rows.size(), dim, dot.data());
    for (size_t j = 0; j < rows.size(); ++j) {
      EXPECT_EQ(l2[j], kernels().l2_squared(a.data(), rows[j].data(), dim));
      EXPECT_EQ(dot[j], kernels().dot(a.data(), rows[j].data(), dim));
    }
    // n == 0 writes nothing.
    float untouched = 42.0f;
    kernels().dot_batch(a.data(), pointers.data(), 0, dim, &untouched);
    EXPECT_EQ(untouched, 42.0f);
  }
}

TEST_P(KernelLevelTest, IntegerValuedInputsGiveTheExactSums) {
  std::mt19937 rng(7);
  for (size_t dim = 1; dim <= kMaxSmallDim; ++dim) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    const std::vector<float> a = IntegerValued(dim, &rng);
    const std::vector<float> b = IntegerValued(dim, &rng);
    long l2 = 0, dot = 0, norm = 0;
    for (size_t i = 0; i < dim; ++i) {
      const long x = static_cast<long>(a[i]), y = static_cast<long>(b[i]);
      l2 += (x - y) * (x - y);
      dot += x * y;
      norm += x * x;
    }
    EXPECT_EQ(kernels().l2_squared(a.data(), b.data(), dim), static_cast<float>(l2));
    EXPECT_EQ(kernels().dot(a.data(), b.data(), dim), static_cast<float>(dot));
    EXPECT_EQ(kernels().norm_squared(a.data(), dim), static_cast<float>(norm));
  }
}

TEST_P(KernelLevelTest, RandomFloatsMatchScalarWithinTolerance) {
  std::mt19937 rng(1234);
  std::vector<size_t> dims;
  for (size_t dim = 1; dim <= kMaxSmallDim; ++dim)
    dims.push_back(dim);
  for (size_t dim : {100, 128, 384, 768, 1000, 1536})
    dims.push_back(dim);
  for (size_t dim : dims) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    const std::vector<float> a = RandomFloats(dim, &rng);
    const std::vector<float> b = RandomFloats(dim, &rng);
    // float32 summation error grows at most linearly with dim (a loose bound).
    const double rel = 4.0 * static_cast<double>(dim) * 6e-8;
    EXPECT_NEAR(kernels().l2_squared(a.data(), b.data(), dim),
                internal::L2SquaredScalar(a.data(), b.data(), dim),
                rel * TermMagnitude(a, b, /*diff=*/true));
    EXPECT_NEAR(kernels().dot(a.data(), b.data(), dim),
                internal::DotScalar(a.data(), b.data(), dim),
                rel * TermMagnitude(a, b, /*diff=*/false));
    EXPECT_NEAR(kernels().norm_squared(a.data(), dim), internal::NormSquaredScalar(a.data(), dim),
                rel * TermMagnitude(a, a, /*diff=*/false));
  }
}

TEST_P(KernelLevelTest, DotWithByteCodesIsExactOnSmallIntegers) {
  // Integer-valued floats times byte codes sum exactly in float32 at these
  // sizes, so every level must give the exact value for every dim (all tails).
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> value(-8, 8);
  std::uniform_int_distribution<int> code(0, 255);
  for (size_t dim = 0; dim <= 70; ++dim) {
    std::vector<float> a(dim);
    std::vector<uint8_t> c(dim);
    double exact = 0;
    for (size_t i = 0; i < dim; ++i) {
      a[i] = static_cast<float>(value(rng));
      c[i] = static_cast<uint8_t>(code(rng));
      exact += static_cast<double>(a[i]) * c[i];
    }
    EXPECT_EQ(kernels().dot_u8(a.data(), c.data(), dim), static_cast<float>(exact)) << dim;
  }
}

TEST_P(KernelLevelTest, Bf16KernelsAreExactOnSmallIntegers) {
  // Integers up to 256 are exact in bfloat16 and their sums exact in float32,
  // so every level must give the exact value for every dim (all tails).
  std::mt19937 rng(13);
  std::uniform_int_distribution<int> value(-16, 16);
  for (size_t dim = 0; dim <= 70; ++dim) {
    std::vector<float> a(dim);
    std::vector<uint16_t> b(dim);
    double dot = 0;
    double l2 = 0;
    for (size_t i = 0; i < dim; ++i) {
      a[i] = static_cast<float>(value(rng));
      const float y = static_cast<float>(value(rng));
      b[i] = Bf16FromFloat(y);
      dot += static_cast<double>(a[i]) * y;
      l2 += (static_cast<double>(a[i]) - y) * (static_cast<double>(a[i]) - y);
    }
    EXPECT_EQ(kernels().dot_bf16(a.data(), b.data(), dim), static_cast<float>(dot)) << dim;
    EXPECT_EQ(kernels().l2_squared_bf16(a.data(), b.data(), dim), static_cast<float>(l2)) << dim;
  }
}

TEST_P(KernelLevelTest, Bf16KernelsApproximateFloatDistances) {
  // The use: graph construction on a bfloat16 copy of float rows. The result
  // must be within bfloat16's rounding (2^-8 relative per component) of the
  // float32 distance.
  std::mt19937 rng(17);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  for (size_t dim : {1, 7, 16, 100, 384, 1536}) {
    std::vector<float> a(dim);
    std::vector<float> b(dim);
    std::vector<uint16_t> b16(dim);
    double magnitude = 0;
    for (size_t i = 0; i < dim; ++i) {
      a[i] = gauss(rng);
      b[i] = gauss(rng);
      b16[i] = Bf16FromFloat(b[i]);
      magnitude += std::fabs(static_cast<double>(a[i]) * b[i]);
    }
    const double tolerance = magnitude / 256.0 + 1e-6;
    EXPECT_NEAR(kernels().dot_bf16(a.data(), b16.data(), dim),
                internal::DotScalar(a.data(), b.data(), dim), tolerance)
        << dim;
    const float l2 = internal::L2SquaredScalar(a.data(), b.data(), dim);
    EXPECT_NEAR(kernels().l2_squared_bf16(a.data(), b16.data(), dim), l2, l2 / 64.0 + 1e-6) << dim;
  }
}

TEST(Bf16Test, RoundsToNearestEvenAndKeepsExponent) {
  EXPECT_EQ(Bf16FromFloat(1.0f), 0x3f80);
  EXPECT_EQ(Bf16FromFloat(-2.0f), 0xc000);
  EXPECT_EQ(Bf16FromFloat(0.0f), 0x0000);
  EXPECT_EQ(FloatFromBf16(0x3f80), 1.0f);
  // 1 + 2^-8 is halfway between two bfloat16 values: ties go to even (1.0);
  // 1 + 3 * 2^-8 is halfway too and goes up to the even 1 + 2^-6.
  EXPECT_EQ(FloatFromBf16(Bf16FromFloat(1.0f + 0x1p-8f)), 1.0f);
  EXPECT_EQ(FloatFromBf16(Bf16FromFloat(1.0f + 3 * 0x1p-8f)), 1.0f + 0x1p-6f);
  // Large and small magnitudes keep float32's range.
  EXPECT_NEAR(FloatFromBf16(Bf16FromFloat(3e38f)), 3e38f, 3e38f / 256);
  EXPECT_NEAR(FloatFromBf16(Bf16FromFloat(1e-30f)), 1e-30f, 1e-30f / 256);
  std::mt19937 rng(19);
  std::normal_distribution<float> gauss(0.0f, 100.0f);
  for (int i = 0; i < 10000; ++i) {
    const float x = gauss(rng);
    EXPECT_LE(std::fabs(FloatFromBf16(Bf16FromFloat(x)) - x), std::fabs(x) * 0x1p-8f) << x;
  }
}

TEST_P(KernelLevelTest, UnalignedInputsAndZeroDim) {
  // Rows inside a flat buffer start at arbitrary float offsets.
  std::mt19937 rng(9);
  const size_t dim = 45;
  std::vector<float> a = IntegerValued(dim + 3, &rng);
  std::vector<float> b = IntegerValued(dim + 3, &rng);
  for (size_t offset = 0; offset < 3; ++offset) {
    const float* pa = a.data() + offset;
    const float* pb = b.data() + 2 - offset;
    EXPECT_EQ(kernels().l2_squared(pa, pb, dim), internal::L2SquaredScalar(pa, pb, dim));
    EXPECT_EQ(kernels().dot(pa, pb, dim), internal::DotScalar(pa, pb, dim));
    EXPECT_EQ(kernels().norm_squared(pa, dim), internal::NormSquaredScalar(pa, dim));
  }
  EXPECT_EQ(kernels().l2_squared(a.data(), b.data(), 0), 0.0f);
  EXPECT_EQ(kernels().dot(a.data(), b.data(), 0), 0.0f);
  EXPECT_EQ(kernels().norm_squared(a.data(), 0), 0.0f);
}

// The spec's example (§7.3): a=[1,0] b=[0,2] c=[3,4] d=[-1,-1], query [1,1].
struct SpecCase {
  std::vector<float> v;
  float l2;
  float cosine;
  float ip;
};

TEST_P(KernelLevelTest, DistanceMatchesChromaOnSpecExample) {
  const std::vector<float> query = {1.0f, 1.0f};
  const std::vector<SpecCase> cases = {
      {{1.0f, 0.0f}, 1.0f, 0.29289323f, 0.0f},
      {{0.0f, 2.0f}, 2.0f, 0.29289323f, -1.0f},
      {{3.0f, 4.0f}, 13.0f, 0.010050476f, -6.0f},
      {{-1.0f, -1.0f}, 8.0f, 2.0f, 3.0f},
  };
  const Kernels& k = kernels();
  const float query_norm = std::sqrt(k.norm_squared(query.data(), 2));
  for (const SpecCase& c : cases) {
    SCOPED_TRACE("v = [" + std::to_string(c.v[0]) + ", " + std::to_string(c.v[1]) + "]");
    const float norm = std::sqrt(k.norm_squared(c.v.data(), 2));
    EXPECT_EQ(Distance(k, DistanceSpace::kL2, query.data(), query_norm, c.v.data(), norm, 2), c.l2);
    EXPECT_EQ(Distance(k, DistanceSpace::kIp, query.data(), query_norm, c.v.data(), norm, 2), c.ip);
    EXPECT_EQ(Distance(k, DistanceSpace::kCosine, query.data(), query_norm, c.v.data(), norm, 2),
              c.cosine);
  }
}

TEST_P(KernelLevelTest, CosineReproducesReferenceRoundingBitForBit) {
  // The reference returned 0.010050476 (float32); 1 - dot/(|q||v|) would round
  // to 0.010050535, so this pins the order of operations.
  const float q[] = {1.0f, 1.0f};
  const float v[] = {3.0f, 4.0f};
  EXPECT_EQ(Distance(kernels(), DistanceSpace::kCosine, q, std::sqrt(2.0f), v, 5.0f, 2),
            0.010050476f);
}

TEST_P(KernelLevelTest, CosineWithZeroVectorIsOne) {
  const float zero[] = {0.0f, 0.0f, 0.0f};
  const float v[] = {3.0f, -4.0f, 12.0f};
  EXPECT_EQ(Distance(kernels(), DistanceSpace::kCosine, zero, 0.0f, v, 13.0f, 3), 1.0f);
  EXPECT_EQ(Distance(kernels(), DistanceSpace::kCosine, v, 13.0f, zero, 0.0f, 3), 1.0f);
  EXPECT_EQ(Distance(kernels(), DistanceSpace::kCosine, zero, 0.0f, zero, 0.0f, 3), 1.0f);
}

TEST_P(KernelLevelTest, CosineOfParallelAndOppositeVectors) {
  const float v[] = {3.0f, 4.0f};
  const float w[] = {6.0f, 8.0f};
  const float opposite[] = {-3.0f, -4.0f};
  EXPECT_NEAR(Distance(kernels(), DistanceSpace::kCosine, v, 5.0f, w, 10.0f, 2), 0.0f, 1e-6f);
  EXPECT_NEAR(Distance(kernels(), DistanceSpace::kCosine, v, 5.0f, opposite, 5.0f, 2), 2.0f, 1e-6f);
}

INSTANTIATE_TEST_SUITE_P(AllSupportedLevels, KernelLevelTest,
                         ::testing::ValuesIn(SupportedLevels()),
                         [](const ::testing::TestParamInfo<SimdLevel>& info) {
                           return std::string(SimdLevelName(info.param));
                         });

TEST(SimdLevelTest, Names) {
  EXPECT_STREQ(SimdLevelName(SimdLevel::kScalar), "scalar");
  EXPECT_STREQ(SimdLevelName(SimdLevel::kAvx2), "avx2");
  EXPECT_STREQ(SimdLevelName(SimdLevel::kAvx512), "avx512");
}

TEST(SimdLevelTest, SupportFollowsCpuDetection) {
  EXPECT_TRUE(LevelSupported(SimdLevel::kScalar));
  const SimdLevel cpu = internal::DetectCpuLevel();
  EXPECT_EQ(LevelSupported(SimdLevel::kAvx2), cpu == SimdLevel::kAvx2 || cpu == SimdLevel::kAvx512);
  EXPECT_EQ(LevelSupported(SimdLevel::kAvx512), cpu == SimdLevel::kAvx512);
  EXPECT_TRUE(LevelSupported(ActiveLevel()));
  EXPECT_EQ(ActiveKernels().level, ActiveLevel());
}

TEST(SimdLevelTest, ResolveLevelOnlyLowers) {
  using internal::ResolveLevel;
  EXPECT_EQ(ResolveLevel(SimdLevel::kAvx2, nullptr), SimdLevel::kAvx2);
  EXPECT_EQ(ResolveLevel(SimdLevel::kAvx2, "scalar"), SimdLevel::kScalar);
  EXPECT_EQ(ResolveLevel(SimdLevel::kAvx2, "avx2"), SimdLevel::kAvx2);
  EXPECT_EQ(ResolveLevel(SimdLevel::kScalar, "avx2"), SimdLevel::kScalar);
  EXPECT_EQ(ResolveLevel(SimdLevel::kScalar, nullptr), SimdLevel::kScalar);
  EXPECT_EQ(ResolveLevel(SimdLevel::kAvx2, "AVX512"), SimdLevel::kAvx2);
  EXPECT_EQ(ResolveLevel(SimdLevel::kAvx2, "avx512"), SimdLevel::kAvx2);
  EXPECT_EQ(ResolveLevel(SimdLevel::kAvx512, "avx2"), SimdLevel::kAvx2);
  EXPECT_EQ(ResolveLevel(SimdLevel::kAvx512, "scalar"), SimdLevel::kScalar);
  EXPECT_EQ(ResolveLevel(SimdLevel::kAvx512, nullptr), SimdLevel::kAvx512);
  EXPECT_EQ(ResolveLevel(SimdLevel::kAvx2, ""), SimdLevel::kAvx2);
}

// ActiveLevel() is computed once per process, so the environment is checked in
// a freshly executed child ("threadsafe" death tests re-run the binary).
void ExpectActiveLevelWithEnv(const char* env_value, SimdLevel expected) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        if (env_value == nullptr) {
          unsetenv("KSDB_SIMD_LEVEL");
        } else {
          setenv("KSDB_SIMD_LEVEL", env_value, 1);
        }
        const bool ok = ActiveLevel() == expected && ActiveKernels().level == expected;
        std::exit(ok ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(SimdLevelEnvDeathTest, ScalarForcesScalarKernels) {
  ExpectActiveLevelWithEnv("scalar", SimdLevel::kScalar);
}

TEST(SimdLevelEnvDeathTest, UnsetUsesBestCpuLevel) {
  ExpectActiveLevelWithEnv(nullptr, internal::DetectCpuLevel());
}

TEST(SimdLevelEnvDeathTest, Avx2CapsButCannotRaiseAboveCpu) {
  const SimdLevel cpu = internal::DetectCpuLevel();
  ExpectActiveLevelWithEnv("avx2", cpu == SimdLevel::kScalar ? cpu : SimdLevel::kAvx2);
}

TEST(SimdLevelEnvDeathTest, UnknownValueIsIgnored) {
  ExpectActiveLevelWithEnv("turbo", internal::DetectCpuLevel());
}

}  // namespace
}  // namespace ksdb::simd
