// Private to simd/: the per-level kernel tables and the level-selection rule
// shared by distance.cc, distance_scalar.cc and distance_avx2.cc. Not part of
// the layer's API; tests may include it to check the selection rule directly.
#ifndef KSDB_SIMD_KERNELS_INTERNAL_H_
#define KSDB_SIMD_KERNELS_INTERNAL_H_

#include <cstddef>
#include <cstdint>

#include "simd/distance.h"

namespace ksdb::simd::internal {

// Scalar reference kernels: one float32 accumulator, indices in order.
float L2SquaredScalar(const float* a, const float* b, size_t dim);
float DotScalar(const float* a, const float* b, size_t dim);
float NormSquaredScalar(const float* a, size_t dim);
float DotU8Scalar(const float* a, const uint8_t* codes, size_t dim);
void L2SquaredBatchScalar(const float* a, const float* const* vectors, size_t n, size_t dim,
                        float* out);
void DotBatchScalar(const float* a, const float* const* vectors, size_t n, size_t dim, float* out);
float L2SquaredBf16Scalar(const float* a, const uint16_t* b, size_t dim);
float DotBf16Scalar(const float* a, const uint16_t* b, size_t dim);

// AVX2+FMA kernels. Only call when the CPU supports AVX2 and FMA.
float L2SquaredAvx2(const float* a, const float* b, size_t dim);
float DotAvx2(const float* a, const float* b, size_t dim);
float NormSquaredAvx2(const float* a, size_t dim);
float DotU8Avx2(const float* a, const uint8_t* codes, size_t dim);
void L2SquaredBatchAvx2(const float* a, const float* const* vectors, size_t n, size_t dim,
                        float* out);
void DotBatchAvx2(const float* a, const float* const* vectors, size_t n, size_t dim, float* out);
float L2SquaredBf16Avx2(const float* a, const uint16_t* b, size_t dim);
float DotBf16Avx2(const float* a, const uint16_t* b, size_t dim);

// AVX-512F kernels. Only call when the CPU supports AVX-512F.
float L2SquaredAvx512(const float* a, const float* b, size_t dim);
float DotAvx512(const float* a, const float* b, size_t dim);
float NormSquaredAvx512(const float* a, size_t dim);
float DotU8Avx512(const float* a, const uint8_t* codes, size_t dim);
void L2SquaredBatchAvx512(const float* a, const float* const* vectors, size_t n, size_t dim,
                        float* out);
void DotBatchAvx512(const float* a, const float* const* vectors, size_t n, size_t dim, float* out);
float L2SquaredBf16Avx512(const float* a, const uint16_t* b, size_t dim);
float DotBf16Avx512(const float* a, const uint16_t* b, size_t dim);

// The best level the CPU supports, ignoring the environment.
SimdLevel DetectCpuLevel();

// The level to run given the CPU's best level and the value of KSDB_SIMD_LEVEL
// (`env_value`, nullptr when unset). The variable can only lower the level:
// "scalar" forces scalar, "avx2" caps at avx2, "avx512" keeps avx512 when the
// CPU has it. Unknown values are ignored (the CPU's level is used).
SimdLevel ResolveLevel(SimdLevel cpu_level, const char* env_value);

}  // namespace ksdb::simd::internal

#endif  // KSDB_SIMD_KERNELS_INTERNAL_H_
