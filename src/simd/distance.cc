// Level detection, kernel tables and Chroma's distance formulas.
#include "simd/distance.h"

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "common/logging.h"
#include "simd/kernels_internal.h"

namespace ksdb::simd {
namespace {

constexpr char kLevelEnvVar[] = "KSDB_SIMD_LEVEL";

constexpr Kernels kScalarKernels = {SimdLevel::kScalar, &internal::L2SquaredScalar,
                                    &internal::DotScalar, &internal::NormSquaredScalar,
                                    &internal::DotU8Scalar, &internal::L2SquaredBatchScalar,
                                    &internal::DotBatchScalar, &internal::L2SquaredBf16Scalar,
                                    &internal::DotBf16Scalar};
constexpr Kernels kAvx2Kernels = {SimdLevel::kAvx2, &internal::L2SquaredAvx2, &internal::DotAvx2,
                                  &internal::NormSquaredAvx2, &internal::DotU8Avx2,
                                  &internal::L2SquaredBatchAvx2, &internal::DotBatchAvx2,
                                  &internal::L2SquaredBf16Avx2, &internal::DotBf16Avx2};
constexpr Kernels kAvx512Kernels = {SimdLevel::kAvx512, &internal::L2SquaredAvx512,
                                    &internal::DotAvx512, &internal::NormSquaredAvx512,
                                    &internal::DotU8Avx512, &internal::L2SquaredBatchAvx512,
                                    &internal::DotBatchAvx512, &internal::L2SquaredBf16Avx512,
                                    &internal::DotBf16Avx512};

std::optional<SimdLevel> ParseLevelName(std::string_view name) {
  if (name == "scalar")
    return SimdLevel::kScalar;
  if (name == "avx2")
    return SimdLevel::kAvx2;
  if (name == "avx512")
    return SimdLevel::kAvx512;
  return std::nullopt;
}

SimdLevel CpuLevel() {
  // The CPU does not change while we run; probe it once.
  static const SimdLevel level = internal::DetectCpuLevel();
  return level;
}

SimdLevel ComputeActiveLevel() {
  const char* env_value = std::getenv(kLevelEnvVar);
  if (env_value != nullptr && !ParseLevelName(env_value).has_value()) {
    Log(LogLevel::kWarning, std::string("ignoring unknown ") + kLevelEnvVar + "=\"" + env_value +
                                "\" (expected \"scalar\", \"avx2\" or \"avx512\")");
  }
  return internal::ResolveLevel(CpuLevel(), env_value);
}

}  // namespace

namespace internal {

SimdLevel DetectCpuLevel() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    return SimdLevel::kScalar;
  if (__builtin_cpu_supports("avx512f"))
    return SimdLevel::kAvx512;
  return SimdLevel::kAvx2;
#endif
  return SimdLevel::kScalar;
}

SimdLevel ResolveLevel(SimdLevel cpu_level, const char* env_value) {
  if (env_value == nullptr)
    return cpu_level;
  const std::optional<SimdLevel> requested = ParseLevelName(env_value);
  if (!requested.has_value())
    return cpu_level;
  // The variable may only lower the level: asking for more than the CPU has
  // would crash on the first illegal instruction.
  return static_cast<int>(*requested) < static_cast<int>(cpu_level) ? *requested : cpu_level;
}

}  // namespace internal

const char* SimdLevelName(SimdLevel level) {
  switch (level) {
    case SimdLevel::kScalar:
      return "scalar";
    case SimdLevel::kAvx2:
      return "avx2";
    case SimdLevel::kAvx512:
      return "avx512";
  }
  return "unknown";
}

SimdLevel ActiveLevel() {
  // A function-local static is initialised once, thread-safely.
  static const SimdLevel level = ComputeActiveLevel();
  return level;
}

bool LevelSupported(SimdLevel level) {
  return static_cast<int>(level) <= static_cast<int>(CpuLevel());
}

const Kernels& KernelsFor(SimdLevel level) {
  KSDB_CHECK(LevelSupported(level));
  switch (level) {
    case SimdLevel::kAvx512:
      return kAvx512Kernels;
    case SimdLevel::kAvx2:
      return kAvx2Kernels;
    case SimdLevel::kScalar:
      break;
  }
  return kScalarKernels;
}

const Kernels& ActiveKernels() {
  return KernelsFor(ActiveLevel());
}

float Distance(const Kernels& k, DistanceSpace space, const float* query, float query_norm,
               const float* vector, float vector_norm, size_t dim) {
  switch (space) {
    case DistanceSpace::kL2:
      return k.l2_squared(query, vector, dim);
    case DistanceSpace::kIp:
      return 1.0f - k.dot(query, vector, dim);
    case DistanceSpace::kCosine: {
      // Chroma treats cosine with a zero vector as 0, hence distance 1.
      if (query_norm == 0.0f || vector_norm == 0.0f)
        return 1.0f;
      // Scale by the reciprocal norms one after the other, as Chroma does when it
      // normalises both vectors before its inner product. This reproduces the
      // reference's float32 results (e.g. 0.010050476 for [1,1] vs [3,4]), where
      // dot / (|q| * |v|) rounds differently (0.010050535).
      const float cosine = (k.dot(query, vector, dim) * (1.0f / query_norm)) * (1.0f / vector_norm);
      return 1.0f - cosine;
    }
  }
  return 0.0f;
}

}  // namespace ksdb::simd
