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

float NormSquaredScalar(const float* a, size_t dim) {
  float sum = 0.0f;
  for (size_t i = 0; i < dim; ++i)
    sum += a[i] * a[i];
  return sum;
}

}  // namespace ksdb::simd::internal
