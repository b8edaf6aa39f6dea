// AVX2+FMA kernels. This file alone is compiled with -mavx2 -mfma; nothing here
// may run before distance.cc has checked that the CPU supports both.
//
// Each kernel keeps four independent 8-lane accumulators so consecutive FMAs do
// not wait on each other's latency, then folds the remaining full 8-lane blocks,
// one 4-lane block and finally a masked block of at most 3 lanes, so any dim
// (including dim < 8) is handled without reading past the end of the inputs.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "simd/kernels_internal.h"

namespace ksdb::simd::internal {
namespace {

constexpr size_t kLanes = 8;
constexpr size_t kUnroll = 4;

// Mask for the last `rem` (1..7) elements: 8 - rem zeros are skipped by
// starting the load at kMaskTable + 8 - rem, so lanes [0, rem) are all-ones.
alignas(32) constexpr int32_t kMaskTable[2 * kLanes] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                        0,  0,  0,  0,  0,  0,  0,  0};

__m256i TailMask(size_t rem) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskTable + kLanes - rem));
}

float HorizontalSum(__m256 v) {
  const __m128 lo = _mm256_castps256_ps128(v);
  const __m128 hi = _mm256_extractf128_ps(v, 1);
  __m128 sum = _mm_add_ps(lo, hi);
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_shuffle_ps(sum, sum, 0x55));
  return _mm_cvtss_f32(sum);
}

float Reduce(__m256 acc0, __m256 acc1, __m256 acc2, __m256 acc3) {
  return HorizontalSum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

// The loop shared by every kernel: sums step(acc, a_block, b_block) over all
// 8-lane blocks of `a` and `b` with the accumulator layout described above.
// Masked-off tail lanes load as 0 in both inputs, and every step maps a pair
// of zeros to +0, so the tail adds nothing spurious. Forced inline so each
// kernel compiles to the same straight-line code as a hand-written loop.
template <typename Step>
[[gnu::always_inline]] inline float SumBlocks(const float* a, const float* b, size_t dim,
                                              Step step) {
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps();
  __m256 acc3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + kUnroll * kLanes <= dim; i += kUnroll * kLanes) {
    acc0 = step(acc0, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    acc1 = step(acc1, _mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    acc2 = step(acc2, _mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
    acc3 = step(acc3, _mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
  }
  for (; i + kLanes <= dim; i += kLanes)
    acc0 = step(acc0, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
  // As in distance_avx512.cc: a masked load waits for every line its full
  // width spans, so the tail takes a 4-lane piece first and masks at most 3.
  if (i + 4 <= dim) {
    acc1 = step(acc1, _mm256_zextps128_ps256(_mm_loadu_ps(a + i)),
                _mm256_zextps128_ps256(_mm_loadu_ps(b + i)));
    i += 4;
  }
  if (i < dim) {
    const __m128i mask = _mm256_castsi256_si128(TailMask(dim - i));
    acc2 = step(acc2, _mm256_zextps128_ps256(_mm_maskload_ps(a + i, mask)),
                _mm256_zextps128_ps256(_mm_maskload_ps(b + i, mask)));
  }
  return Reduce(acc0, acc1, acc2, acc3);
}

// The block steps the kernels share (float, batch and bfloat16 rows alike):
// acc + (x - y)^2 and acc + x * y.
constexpr auto kL2Step = [](__m256 acc, __m256 x, __m256 y) {
  const __m256 d = _mm256_sub_ps(x, y);
  return _mm256_fmadd_ps(d, d, acc);
};
constexpr auto kDotStep = [](__m256 acc, __m256 x, __m256 y) { return _mm256_fmadd_ps(x, y, acc); };

}  // namespace

float L2SquaredAvx2(const float* a, const float* b, size_t dim) {
  return SumBlocks(a, b, dim, kL2Step);
}

float DotAvx2(const float* a, const float* b, size_t dim) {
  return SumBlocks(a, b, dim, kDotStep);
}

float NormSquaredAvx2(const float* a, size_t dim) {
  // `b` is `a` again and ignored by the step; its loads are dead and dropped.
  return SumBlocks(a, a, dim,
                   [](__m256 acc, __m256 x, __m256 /*y*/) { return _mm256_fmadd_ps(x, x, acc); });
}

float DotU8Avx2(const float* a, const uint8_t* codes, size_t dim) {
  // Codes widen 8 at a time (u8 -> i32 -> f32) into two accumulators.
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 2 * kLanes <= dim; i += 2 * kLanes) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i));
    const __m256 c0 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
    const __m256 c1 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8)));
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), c0, acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), c1, acc1);
  }
  float sum = HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; i < dim; ++i)
    sum += a[i] * static_cast<float>(codes[i]);
  return sum;
}

// The batch kernels inline the single-vector loop (same operations, so the
// same results) into one loop over the vectors.
void L2SquaredBatchAvx2(const float* a, const float* const* vectors, size_t n, size_t dim,
                        float* out) {
  for (size_t j = 0; j < n; ++j) {
    out[j] = SumBlocks(a, vectors[j], dim, kL2Step);
  }
}

void DotBatchAvx2(const float* a, const float* const* vectors, size_t n, size_t dim, float* out) {
  for (size_t j = 0; j < n; ++j) {
    out[j] = SumBlocks(a, vectors[j], dim, kDotStep);
  }
}

namespace {

// 8 bfloat16 values widened to float32 (a bfloat16 is a float32's top half).
__m256 LoadBf16x8(const uint16_t* b) {
  const __m128i halves = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(halves), 16));
}

// Two accumulators over 8-lane blocks of a float row and a bfloat16 row; the
// tail (dim % 8) is summed by the scalar kernel's loop.
template <typename Step>
[[gnu::always_inline]] inline float SumBf16Blocks(const float* a, const uint16_t* b, size_t dim,
                                                  Step step) {
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 2 * kLanes <= dim; i += 2 * kLanes) {
    acc0 = step(acc0, _mm256_loadu_ps(a + i), LoadBf16x8(b + i));
    acc1 = step(acc1, _mm256_loadu_ps(a + i + kLanes), LoadBf16x8(b + i + kLanes));
  }
  if (i + kLanes <= dim) {
    acc0 = step(acc0, _mm256_loadu_ps(a + i), LoadBf16x8(b + i));
    i += kLanes;
  }
  float sum = HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; i < dim; ++i) {
    const __m256 x = _mm256_set1_ps(a[i]);
    const __m256 y = _mm256_set1_ps(FloatFromBf16(b[i]));
    sum += _mm256_cvtss_f32(step(_mm256_setzero_ps(), x, y));
  }
  return sum;
}

}  // namespace

float L2SquaredBf16Avx2(const float* a, const uint16_t* b, size_t dim) {
  return SumBf16Blocks(a, b, dim, kL2Step);
}

float DotBf16Avx2(const float* a, const uint16_t* b, size_t dim) {
  return SumBf16Blocks(a, b, dim, kDotStep);
}

}  // namespace ksdb::simd::internal
