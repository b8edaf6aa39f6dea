// Test data shared by the index tests: reproducible Gaussian vectors and runs
// of internal ids.
#ifndef KSDB_TESTS_UNIT_INDEX_INDEX_TEST_UTIL_H_
#define KSDB_TESTS_UNIT_INDEX_INDEX_TEST_UTIL_H_

#include <cstdint>
#include <random>
#include <vector>

#include "core/id_filter.h"

namespace ksdb::index::testing {

// `count` row-major vectors of `dim` components drawn from N(0, 1) with a
// generator seeded by `seed` (the same seed always gives the same vectors).
inline std::vector<float> RandomVectors(size_t count, size_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(count * dim);
  for (float& x : v)
    x = dist(rng);
  return v;
}

// The ids first, first + 1, ..., first + count - 1.
inline std::vector<InternalId> Iota(size_t count, InternalId first = 0) {
  std::vector<InternalId> ids(count);
  for (size_t i = 0; i < count; ++i)
    ids[i] = first + static_cast<InternalId>(i);
  return ids;
}

}  // namespace ksdb::index::testing

#endif  // KSDB_TESTS_UNIT_INDEX_INDEX_TEST_UTIL_H_
