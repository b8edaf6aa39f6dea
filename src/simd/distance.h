// Distance kernels, chosen once per CPU.
//
// Every kernel has a scalar reference (distance_scalar.cc); the AVX2+FMA versions
// (distance_avx2.cc, compiled with -mavx2 -mfma) and the AVX-512F versions
// (distance_avx512.cc) are used only when the CPU has them.
// KSDB_SIMD_LEVEL=scalar|avx2 in the environment caps the level.
// All arithmetic is float32, as in Chroma.
#ifndef KSDB_SIMD_DISTANCE_H_
#define KSDB_SIMD_DISTANCE_H_

#include <cstddef>
#include <cstdint>

#include "core/collection_config.h"

namespace ksdb::simd {

enum class SimdLevel { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

// "scalar" | "avx2" | "avx512".
const char* SimdLevelName(SimdLevel level);
// Best level this CPU supports, lowered by KSDB_SIMD_LEVEL if set. Computed once.
SimdLevel ActiveLevel();
// Whether `level` can run on this CPU.
bool LevelSupported(SimdLevel level);

using PairFn = float (*)(const float* a, const float* b, size_t dim);
using NormFn = float (*)(const float* a, size_t dim);
using DotU8Fn = float (*)(const float* a, const uint8_t* codes, size_t dim);
// `b` in bfloat16 (the top 16 bits of a float32; see Bf16FromFloat).
using Bf16Fn = float (*)(const float* a, const uint16_t* b, size_t dim);
// out[j] = f(a, vectors[j], dim) for j < n: one call for all the neighbours of
// a graph node, so a search pays one indirect call per expansion, not per
// distance. Each out[j] equals the single-vector kernel's result exactly.
using BatchFn = void (*)(const float* a, const float* const* vectors, size_t n, size_t dim,
                         float* out);

struct Kernels {
  SimdLevel level;
  PairFn l2_squared;  // sum (a_i - b_i)^2
  PairFn dot;         // sum a_i * b_i
  NormFn norm_squared;  // sum a_i^2
  DotU8Fn dot_u8;       // sum a_i * codes_i (int8 scalar quantisation)
  BatchFn l2_squared_batch;  // l2_squared against several vectors
  BatchFn dot_batch;         // dot against several vectors
  Bf16Fn l2_squared_bf16;    // l2_squared with b in bfloat16
  Bf16Fn dot_bf16;           // dot with b in bfloat16
};

// bfloat16 of `x`, rounded to nearest even (x finite). bfloat16 keeps float32's
// exponent and 8 significant bits: half the bytes, relative error <= 2^-8.
inline uint16_t Bf16FromFloat(float x) {
  uint32_t bits;
  __builtin_memcpy(&bits, &x, sizeof bits);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

inline float FloatFromBf16(uint16_t b) {
  const uint32_t bits = uint32_t{b} << 16;
  float x;
  __builtin_memcpy(&x, &bits, sizeof x);
  return x;
}

// Kernels of `level`; precondition LevelSupported(level).
const Kernels& KernelsFor(SimdLevel level);
// Kernels of ActiveLevel().
const Kernels& ActiveKernels();

// Chroma's distance between `query` and `vector` in `space`:
//   l2: squared L2; ip: 1 - dot; cosine: 1 - dot / (|q| |v|), 1 when either norm is 0.
// `query_norm` and `vector_norm` are the Euclidean norms (only read for cosine).
float Distance(const Kernels& k, DistanceSpace space, const float* query, float query_norm,
               const float* vector, float vector_norm, size_t dim);

}  // namespace ksdb::simd

#endif  // KSDB_SIMD_DISTANCE_H_
