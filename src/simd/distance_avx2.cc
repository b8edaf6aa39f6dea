// AVX2+FMA kernels. This file alone is compiled with -mavx2 -mfma; nothing here
// may run before distance.cc has checked that the CPU supports both.
//
// Each kernel keeps four independent 8-lane accumulators so consecutive FMAs do
// not wait on each other's latency, then folds the remaining full 8-lane blocks
// and finally a masked partial block, so any dim (including dim < 8) is handled
// without reading past the end of the inputs.
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

}  // namespace

float L2SquaredAvx2(const float* a, const float* b, size_t dim) {
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps();
  __m256 acc3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + kUnroll * kLanes <= dim; i += kUnroll * kLanes) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    const __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
    const __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
    acc0 = _mm256_fmadd_ps(d0, d0, acc0);
    acc1 = _mm256_fmadd_ps(d1, d1, acc1);
    acc2 = _mm256_fmadd_ps(d2, d2, acc2);
    acc3 = _mm256_fmadd_ps(d3, d3, acc3);
  }
  for (; i + kLanes <= dim; i += kLanes) {
    const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    acc0 = _mm256_fmadd_ps(d, d, acc0);
  }
  if (i < dim) {
    // Masked-off lanes load as 0 in both inputs, so their difference adds 0.
    const __m256i mask = TailMask(dim - i);
    const __m256 d =
        _mm256_sub_ps(_mm256_maskload_ps(a + i, mask), _mm256_maskload_ps(b + i, mask));
    acc1 = _mm256_fmadd_ps(d, d, acc1);
  }
  return Reduce(acc0, acc1, acc2, acc3);
}

float DotAvx2(const float* a, const float* b, size_t dim) {
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps();
  __m256 acc3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + kUnroll * kLanes <= dim; i += kUnroll * kLanes) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), acc3);
  }
  for (; i + kLanes <= dim; i += kLanes) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  }
  if (i < dim) {
    const __m256i mask = TailMask(dim - i);
    acc1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, mask), _mm256_maskload_ps(b + i, mask), acc1);
  }
  return Reduce(acc0, acc1, acc2, acc3);
}

float NormSquaredAvx2(const float* a, size_t dim) {
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps();
  __m256 acc3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + kUnroll * kLanes <= dim; i += kUnroll * kLanes) {
    const __m256 v0 = _mm256_loadu_ps(a + i);
    const __m256 v1 = _mm256_loadu_ps(a + i + 8);
    const __m256 v2 = _mm256_loadu_ps(a + i + 16);
    const __m256 v3 = _mm256_loadu_ps(a + i + 24);
    acc0 = _mm256_fmadd_ps(v0, v0, acc0);
    acc1 = _mm256_fmadd_ps(v1, v1, acc1);
    acc2 = _mm256_fmadd_ps(v2, v2, acc2);
    acc3 = _mm256_fmadd_ps(v3, v3, acc3);
  }
  for (; i + kLanes <= dim; i += kLanes) {
    const __m256 v = _mm256_loadu_ps(a + i);
    acc0 = _mm256_fmadd_ps(v, v, acc0);
  }
  if (i < dim) {
    const __m256 v = _mm256_maskload_ps(a + i, TailMask(dim - i));
    acc1 = _mm256_fmadd_ps(v, v, acc1);
  }
  return Reduce(acc0, acc1, acc2, acc3);
}

}  // namespace ksdb::simd::internal
