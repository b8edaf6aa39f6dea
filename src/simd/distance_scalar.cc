// Scalar reference kernels. They define the expected results: the SIMD kernels
// are tested against these, so keep them a plain in-order float32 loop.
#include <cstddef>

#include "simd/kernels_internal.h"

namespace ksdb::simd::internal {

float L2SquaredScalar(const float* a, const float* b, size_t dim) {
  float sum = 0.0f;
  for (size_t i = 0; i < dim; ++i) {
    const float diff = a[i] - b[i];
    sum += diff * diff;
  }
  return sum;
}

float DotScalar(const float* a, const float* b, size_t dim) {
  float sum = 0.0f;
  for (size_t i = 0; i < dim; ++i)
    sum += a[i] * b[i];
  return sum;
}

float DotU8Scalar(const float* a, const uint8_t* codes, size_t dim) {
  float sum = 0.0f;
  for (size_t i = 0; i < dim; ++i)
    sum += a[i] * static_cast<float>(codes[i]);
  return sum;
}

float L2SquaredBf16Scalar(const float* a, const uint16_t* b, size_t dim) {
  float sum = 0.0f;
  for (size_t i = 0; i < dim; ++i) {
    const float d = a[i] - FloatFromBf16(b[i]);
    sum += d * d;
  }
  return sum;
}

float DotBf16Scalar(const float* a, const uint16_t* b, size_t dim) {
  float sum = 0.0f;
  for (size_t i = 0; i < dim; ++i)
    sum += a[i] * FloatFromBf16(b[i]);
  return sum;
}

float NormSquaredScalar(const float* a, size_t dim) {
  float sum = 0.0f;
  for (size_t i = 0; i < dim; ++i)
    sum += a[i] * a[i];
  return sum;
}

void L2SquaredBatchScalar(const float* a, const float* const* vectors, size_t n, size_t dim,
                          float* out) {
  for (size_t j = 0; j < n; ++j)
    out[j] = L2SquaredScalar(a, vectors[j], dim);
}

void DotBatchScalar(const float* a, const float* const* vectors, size_t n, size_t dim, float* out) {
  for (size_t j = 0; j < n; ++j)
    out[j] = DotScalar(a, vectors[j], dim);
}

}  // namespace ksdb::simd::internal
