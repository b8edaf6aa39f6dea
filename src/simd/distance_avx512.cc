// AVX-512F kernels. This file alone is compiled with -mavx512f -mfma; nothing
// here may run before distance.cc has checked that the CPU supports AVX-512F.
//
// The same shape as the AVX2 kernels with 16-lane registers: four independent
// accumulators, then the remaining full 16-lane blocks, then 4-lane blocks and
// a masked block of at most 3 lanes for the tail (nothing is read past the end
// of the inputs).
// GCC 12's AVX-512 headers trip a false -Wuninitialized inside their own
// inline functions (GCC bug 105593); silence it for the header only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstddef>
#include <cstdint>

#include "simd/kernels_internal.h"

namespace ksdb::simd::internal {
namespace {

constexpr size_t kLanes = 16;
constexpr size_t kUnroll = 4;

// Mask for the first `rem` (1..3) of 4 lanes, as in distance_avx2.cc.
alignas(16) constexpr int32_t kMaskTable4[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

__m128i TailMask4(size_t rem) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(kMaskTable4 + 4 - rem));
}

template <typename Step>
[[gnu::always_inline]] inline float SumBlocks(const float* a, const float* b, size_t dim,
                                              Step step) {
  __m512 acc0 = _mm512_setzero_ps();
  __m512 acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps();
  __m512 acc3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + kUnroll * kLanes <= dim; i += kUnroll * kLanes) {
    acc0 = step(acc0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    acc1 = step(acc1, _mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    acc2 = step(acc2, _mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
    acc3 = step(acc3, _mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
  }
  for (; i + kLanes <= dim; i += kLanes)
    acc0 = step(acc0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
  // The tail in 4-lane pieces rather than one masked 16-lane load: a masked
  // load still waits for every cache line its full width spans, and the line
  // after a stored vector is usually not in cache (graph search prefetches
  // exactly the vector's lines), so a masked tail cost one extra cache miss
  // per distance.
  for (; i + 4 <= dim; i += 4)
    acc1 = step(acc1, _mm512_zextps128_ps512(_mm_loadu_ps(a + i)),
                _mm512_zextps128_ps512(_mm_loadu_ps(b + i)));
  if (i < dim) {
    const __m128i mask = TailMask4(dim - i);
    acc2 = step(acc2, _mm512_zextps128_ps512(_mm_maskload_ps(a + i, mask)),
                _mm512_zextps128_ps512(_mm_maskload_ps(b + i, mask)));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

// The block steps the kernels share (float, batch and bfloat16 rows alike):
// acc + (x - y)^2 and acc + x * y.
constexpr auto kL2Step = [](__m512 acc, __m512 x, __m512 y) {
  const __m512 d = _mm512_sub_ps(x, y);
  return _mm512_fmadd_ps(d, d, acc);
};
constexpr auto kDotStep = [](__m512 acc, __m512 x, __m512 y) { return _mm512_fmadd_ps(x, y, acc); };

}  // namespace

float L2SquaredAvx512(const float* a, const float* b, size_t dim) {
  return SumBlocks(a, b, dim, kL2Step);
}

float DotAvx512(const float* a, const float* b, size_t dim) {
  return SumBlocks(a, b, dim, kDotStep);
}

float NormSquaredAvx512(const float* a, size_t dim) {
  return SumBlocks(a, a, dim,
                   [](__m512 acc, __m512 x, __m512 /*y*/) { return _mm512_fmadd_ps(x, x, acc); });
}

float DotU8Avx512(const float* a, const uint8_t* codes, size_t dim) {
  // Codes widen 16 at a time (u8 -> i32 -> f32); the few tail codes are
  // summed one by one (a masked byte load would need AVX-512BW).
  __m512 acc0 = _mm512_setzero_ps();
  __m512 acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 2 * kLanes <= dim; i += 2 * kLanes) {
    const __m512 c0 = _mm512_cvtepi32_ps(
        _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i))));
    const __m512 c1 = _mm512_cvtepi32_ps(
        _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i + 16))));
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), c0, acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), c1, acc1);
  }
  if (i + kLanes <= dim) {
    const __m512 c = _mm512_cvtepi32_ps(
        _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i))));
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), c, acc1);
    i += kLanes;
  }
  float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  for (; i < dim; ++i)
    sum += a[i] * static_cast<float>(codes[i]);
  return sum;
}

// The batch kernels inline the single-vector loop (same operations, so the
// same results) into one loop over the vectors.
void L2SquaredBatchAvx512(const float* a, const float* const* vectors, size_t n, size_t dim,
                          float* out) {
  for (size_t j = 0; j < n; ++j) {
    out[j] = SumBlocks(a, vectors[j], dim, kL2Step);
  }
}

void DotBatchAvx512(const float* a, const float* const* vectors, size_t n, size_t dim, float* out) {
  for (size_t j = 0; j < n; ++j) {
    out[j] = SumBlocks(a, vectors[j], dim, kDotStep);
  }
}

namespace {

// 16 bfloat16 values widened to float32 (a bfloat16 is a float32's top half).
__m512 LoadBf16x16(const uint16_t* b) {
  const __m256i halves = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(halves), 16));
}

// Two accumulators over 16-lane blocks of a float row and a bfloat16 row; the
// tail (dim % 16) one lane at a time (a masked 16-bit load needs AVX-512BW).
template <typename Step>
[[gnu::always_inline]] inline float SumBf16Blocks(const float* a, const uint16_t* b, size_t dim,
                                                  Step step) {
  __m512 acc0 = _mm512_setzero_ps();
  __m512 acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 2 * kLanes <= dim; i += 2 * kLanes) {
    acc0 = step(acc0, _mm512_loadu_ps(a + i), LoadBf16x16(b + i));
    acc1 = step(acc1, _mm512_loadu_ps(a + i + kLanes), LoadBf16x16(b + i + kLanes));
  }
  if (i + kLanes <= dim) {
    acc0 = step(acc0, _mm512_loadu_ps(a + i), LoadBf16x16(b + i));
    i += kLanes;
  }
  float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  for (; i < dim; ++i) {
    const __m512 x = _mm512_set1_ps(a[i]);
    const __m512 y = _mm512_set1_ps(FloatFromBf16(b[i]));
    sum += _mm512_cvtss_f32(step(_mm512_setzero_ps(), x, y));
  }
  return sum;
}

}  // namespace

float L2SquaredBf16Avx512(const float* a, const uint16_t* b, size_t dim) {
  return SumBf16Blocks(a, b, dim, kL2Step);
}

float DotBf16Avx512(const float* a, const uint16_t* b, size_t dim) {
  return SumBf16Blocks(a, b, dim, kDotStep);
}

}  // namespace ksdb::simd::internal
