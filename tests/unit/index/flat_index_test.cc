// Tests for the exact flat index: results equal a naive sort in every space,
// filters, holes and id reuse, replacement, original vectors for cosine, and
// rejected upserts that leave the index untouched.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/id_filter.h"
#include "index/vector_index.h"
#include "simd/distance.h"

namespace ksdb::index {
namespace {

using ::testing::TestWithParam;

std::vector<float> RandomVectors(size_t count, size_t dim, std::mt19937* rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(count * dim);
  for (float& x : v)
    x = dist(*rng);
  return v;
}

// The expected answer: every accepted row's distance (same kernels and formula
// as the index), sorted by (distance, id), cut to k.
std::vector<Neighbor> NaiveSearch(const VectorIndex& index, const std::vector<InternalId>& ids,
                                  const float* query, size_t k, const IdFilter* filter) {
  const simd::Kernels& kernels = simd::ActiveKernels();
  const size_t dim = index.dim();
  const float query_norm = std::sqrt(kernels.norm_squared(query, dim));
  std::vector<Neighbor> all;
  for (InternalId id : ids) {
    if (filter != nullptr && !filter->IsMember(id))
      continue;
    const std::span<const float> v = index.GetVector(id);
    const float norm = std::sqrt(kernels.norm_squared(v.data(), dim));
    all.push_back(
        {simd::Distance(kernels, index.space(), query, query_norm, v.data(), norm, dim), id});
  }
  std::sort(all.begin(), all.end(), [](const Neighbor& a, const Neighbor& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.internal_id < b.internal_id;
  });
  if (all.size() > k)
    all.resize(k);
  return all;
}

// Chroma's formulas in double precision, independent of the kernels.
double DoubleDistance(DistanceSpace space, std::span<const float> q, std::span<const float> v) {
  double l2 = 0, dot = 0, qq = 0, vv = 0;
  for (size_t i = 0; i < q.size(); ++i) {
    l2 += (static_cast<double>(q[i]) - v[i]) * (static_cast<double>(q[i]) - v[i]);
    dot += static_cast<double>(q[i]) * v[i];
    qq += static_cast<double>(q[i]) * q[i];
    vv += static_cast<double>(v[i]) * v[i];
  }
  switch (space) {
    case DistanceSpace::kL2:
      return l2;
    case DistanceSpace::kIp:
      return 1.0 - dot;
    case DistanceSpace::kCosine:
      return (qq == 0 || vv == 0) ? 1.0 : 1.0 - dot / std::sqrt(qq * vv);
  }
  return 0.0;
}

void ExpectSameNeighbors(const std::vector<Neighbor>& got, const std::vector<Neighbor>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE("rank " + std::to_string(i));
    EXPECT_EQ(got[i].internal_id, want[i].internal_id);
    EXPECT_EQ(got[i].distance, want[i].distance);
  }
}

std::vector<InternalId> Ids(const std::vector<Neighbor>& neighbors) {
  std::vector<InternalId> ids;
  for (const Neighbor& n : neighbors)
    ids.push_back(n.internal_id);
  return ids;
}

class FlatIndexSpaceTest : public TestWithParam<DistanceSpace> {};

TEST_P(FlatIndexSpaceTest, SearchEqualsNaiveSortOnRandomDataWithHoles) {
  constexpr size_t kDim = 37;  // not a multiple of the SIMD width
  constexpr size_t kCount = 600;
  std::mt19937 rng(static_cast<unsigned>(GetParam()) + 11);
  auto index = NewFlatIndex(kDim, GetParam());
  // Sparse ids: every third slot, so the index has holes from the start.
  std::vector<InternalId> ids;
  for (size_t i = 0; i < kCount; ++i)
    ids.push_back(static_cast<InternalId>(3 * i + 1));
  const std::vector<float> vectors = RandomVectors(kCount, kDim, &rng);
  ASSERT_TRUE(index->Upsert(ids, vectors).ok());
  ASSERT_EQ(index->size(), kCount);

  const std::vector<float> queries = RandomVectors(8, kDim, &rng);
  for (size_t q = 0; q < 8; ++q) {
    const float* query = queries.data() + q * kDim;
    for (size_t k : {1, 10, 57}) {
      SCOPED_TRACE("query " + std::to_string(q) + " k " + std::to_string(k));
      const std::vector<Neighbor> got = index->Search({query, kDim}, k, nullptr);
      ExpectSameNeighbors(got, NaiveSearch(*index, ids, query, k, nullptr));
      for (const Neighbor& n : got) {
        const double want =
            DoubleDistance(GetParam(), {query, kDim}, index->GetVector(n.internal_id));
        EXPECT_NEAR(n.distance, want, 1e-4 * std::max(1.0, std::fabs(want)));
      }
    }
  }
}

TEST_P(FlatIndexSpaceTest, FilterRestrictsResults) {
  constexpr size_t kDim = 16;
  constexpr size_t kCount = 300;
  std::mt19937 rng(5);
  auto index = NewFlatIndex(kDim, GetParam());
  std::vector<InternalId> ids;
  for (size_t i = 0; i < kCount; ++i)
    ids.push_back(static_cast<InternalId>(i));
  ASSERT_TRUE(index->Upsert(ids, RandomVectors(kCount, kDim, &rng)).ok());

  BitmapIdFilter filter(kCount);
  for (InternalId id = 0; id < kCount; id += 7)
    filter.Add(id);
  const std::vector<float> query = RandomVectors(1, kDim, &rng);
  const std::vector<Neighbor> got = index->Search(query, 10, &filter);
  ASSERT_EQ(got.size(), 10u);
  for (const Neighbor& n : got)
    EXPECT_TRUE(filter.IsMember(n.internal_id));
  ExpectSameNeighbors(got, NaiveSearch(*index, ids, query.data(), 10, &filter));

  // Fewer matches than k: all of them come back.
  const std::vector<Neighbor> all = index->Search(query, 1000, &filter);
  EXPECT_EQ(all.size(), filter.Count());
  ExpectSameNeighbors(all, NaiveSearch(*index, ids, query.data(), 1000, &filter));

  const BitmapIdFilter none(kCount);
  EXPECT_TRUE(index->Search(query, 10, &none).empty());
}

INSTANTIATE_TEST_SUITE_P(AllSpaces, FlatIndexSpaceTest,
                         ::testing::Values(DistanceSpace::kL2, DistanceSpace::kCosine,
                                           DistanceSpace::kIp),
                         [](const ::testing::TestParamInfo<DistanceSpace>& info) {
                           return std::string(DistanceSpaceName(info.param));
                         });

// The spec's example (§7.3): a=[1,0] b=[0,2] c=[3,4] d=[-1,-1] as ids 0..3.
std::unique_ptr<VectorIndex> SpecIndex(DistanceSpace space) {
  auto index = NewFlatIndex(2, space);
  const std::vector<InternalId> ids = {0, 1, 2, 3};
  const std::vector<float> vectors = {1, 0, 0, 2, 3, 4, -1, -1};
  EXPECT_TRUE(index->Upsert(ids, vectors).ok());
  return index;
}

TEST(FlatIndexTest, SpecExampleOrderAndDistances) {
  const std::vector<float> query = {1, 1};
  const std::vector<Neighbor> l2 = SpecIndex(DistanceSpace::kL2)->Search(query, 4, nullptr);
  ExpectSameNeighbors(l2, {{1.0f, 0}, {2.0f, 1}, {8.0f, 3}, {13.0f, 2}});
  const std::vector<Neighbor> cosine = SpecIndex(DistanceSpace::kCosine)->Search(query, 4, nullptr);
  ExpectSameNeighbors(cosine, {{0.010050476f, 2}, {0.29289323f, 0}, {0.29289323f, 1}, {2.0f, 3}});
  const std::vector<Neighbor> ip = SpecIndex(DistanceSpace::kIp)->Search(query, 4, nullptr);
  ExpectSameNeighbors(ip, {{-6.0f, 2}, {-1.0f, 1}, {0.0f, 0}, {3.0f, 3}});
}

TEST(FlatIndexTest, CosineKeepsOriginalVectors) {
  auto index = SpecIndex(DistanceSpace::kCosine);
  const std::span<const float> c = index->GetVector(2);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0], 3.0f);
  EXPECT_EQ(c[1], 4.0f);
}

TEST(FlatIndexTest, CosineWithZeroVectors) {
  auto index = NewFlatIndex(3, DistanceSpace::kCosine);
  const std::vector<InternalId> ids = {0, 1};
  ASSERT_TRUE(index->Upsert(ids, std::vector<float>{0, 0, 0, 1, 2, 3}).ok());
  const std::vector<float> query = {1, 2, 3};
  const std::vector<Neighbor> got = index->Search(query, 2, nullptr);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].internal_id, 1u);
  EXPECT_NEAR(got[0].distance, 0.0f, 1e-6f);
  EXPECT_EQ(got[1].internal_id, 0u);
  EXPECT_EQ(got[1].distance, 1.0f);
  const std::vector<float> zero_query = {0, 0, 0};
  for (const Neighbor& n : index->Search(zero_query, 2, nullptr))
    EXPECT_EQ(n.distance, 1.0f);
}

TEST(FlatIndexTest, TiesBrokenBySmallerId) {
  auto index = NewFlatIndex(2, DistanceSpace::kL2);
  // Inserted out of order; 2, 5 and 9 are equally far from the query.
  const std::vector<InternalId> ids = {9, 5, 7, 2};
  ASSERT_TRUE(index->Upsert(ids, std::vector<float>{1, 1, 1, 1, 5, 5, 1, 1}).ok());
  const std::vector<float> query = {0, 0};
  EXPECT_EQ(Ids(index->Search(query, 4, nullptr)), (std::vector<InternalId>{2, 5, 9, 7}));
  EXPECT_EQ(Ids(index->Search(query, 2, nullptr)), (std::vector<InternalId>{2, 5}));
}

TEST(FlatIndexTest, KLargerThanSizeAndEmptyCases) {
  auto index = SpecIndex(DistanceSpace::kL2);
  const std::vector<float> query = {1, 1};
  EXPECT_EQ(index->Search(query, 100, nullptr).size(), 4u);
  EXPECT_TRUE(index->Search(query, 0, nullptr).empty());
  EXPECT_TRUE(NewFlatIndex(2, DistanceSpace::kL2)->Search(query, 3, nullptr).empty());
  // A query of the wrong dimension matches nothing rather than reading past it.
  const std::vector<float> wrong = {1, 1, 1};
  EXPECT_TRUE(index->Search(wrong, 3, nullptr).empty());
}

TEST(FlatIndexTest, RemoveHidesVectorAndIgnoresUnknownIds) {
  auto index = SpecIndex(DistanceSpace::kL2);
  const std::vector<InternalId> to_remove = {0, 2, 42, 0};
  index->Remove(to_remove);
  EXPECT_EQ(index->size(), 2u);
  EXPECT_FALSE(index->Contains(0));
  EXPECT_FALSE(index->Contains(2));
  EXPECT_TRUE(index->Contains(1));
  EXPECT_FALSE(index->Contains(42));
  EXPECT_TRUE(index->GetVector(0).empty());
  const std::vector<float> query = {1, 1};
  EXPECT_EQ(Ids(index->Search(query, 10, nullptr)), (std::vector<InternalId>{1, 3}));
}

TEST(FlatIndexTest, RemovedIdCanBeReused) {
  auto index = SpecIndex(DistanceSpace::kL2);
  const std::vector<InternalId> id = {0};
  index->Remove(id);
  ASSERT_TRUE(index->Upsert(id, std::vector<float>{10, 10}).ok());
  EXPECT_EQ(index->size(), 4u);
  EXPECT_TRUE(index->Contains(0));
  EXPECT_EQ(std::vector<float>(index->GetVector(0).begin(), index->GetVector(0).end()),
            (std::vector<float>{10, 10}));
  const std::vector<float> query = {10, 10};
  const std::vector<Neighbor> got = index->Search(query, 1, nullptr);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].internal_id, 0u);
  EXPECT_EQ(got[0].distance, 0.0f);
}

TEST(FlatIndexTest, UpsertReplacesExistingVector) {
  auto index = SpecIndex(DistanceSpace::kCosine);
  const std::vector<InternalId> id = {2};
  ASSERT_TRUE(index->Upsert(id, std::vector<float>{-3, -4}).ok());
  EXPECT_EQ(index->size(), 4u);
  EXPECT_EQ(index->GetVector(2)[0], -3.0f);
  // The cached norm must follow the new vector: [-3,-4] is opposite to [3,4].
  const std::vector<float> query = {3, 4};
  const std::vector<Neighbor> got = index->Search(query, 4, nullptr);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got.back().internal_id, 2u);
  EXPECT_NEAR(got.back().distance, 2.0f, 1e-6f);
}

TEST(FlatIndexTest, RepeatedIdInOneUpsertKeepsLastVector) {
  auto index = NewFlatIndex(2, DistanceSpace::kL2);
  const std::vector<InternalId> ids = {4, 4};
  ASSERT_TRUE(index->Upsert(ids, std::vector<float>{1, 2, 3, 4}).ok());
  EXPECT_EQ(index->size(), 1u);
  EXPECT_EQ(index->GetVector(4)[0], 3.0f);
}

TEST(FlatIndexTest, InvalidUpsertChangesNothing) {
  auto index = SpecIndex(DistanceSpace::kCosine);
  const size_t memory_before = index->MemoryBytes();
  const std::vector<float> query = {1, 1};
  const std::vector<Neighbor> before = index->Search(query, 4, nullptr);

  // Ids 0 (existing) and 1000 (would grow the buffers) with one float missing.
  const std::vector<InternalId> ids = {0, 1000};
  const Status short_vectors = index->Upsert(ids, std::vector<float>{7, 7, 7});
  EXPECT_EQ(short_vectors.code(), StatusCode::kInvalidArgument);
  const Status long_vectors = index->Upsert(ids, std::vector<float>{7, 7, 7, 7, 7});
  EXPECT_EQ(long_vectors.code(), StatusCode::kInvalidArgument);
  const Status non_finite = index->Upsert(ids, std::vector<float>{7, 7, 7, NAN});
  EXPECT_EQ(non_finite.code(), StatusCode::kInvalidArgument);

  EXPECT_EQ(index->size(), 4u);
  EXPECT_FALSE(index->Contains(1000));
  EXPECT_EQ(index->GetVector(0)[0], 1.0f);
  EXPECT_EQ(index->GetVector(0)[1], 0.0f);
  EXPECT_EQ(index->MemoryBytes(), memory_before);
  ExpectSameNeighbors(index->Search(query, 4, nullptr), before);
}

TEST(FlatIndexTest, EmptyUpsertIsAccepted) {
  auto index = NewFlatIndex(3, DistanceSpace::kL2);
  EXPECT_TRUE(index->Upsert({}, {}).ok());
  EXPECT_EQ(index->size(), 0u);
}

TEST(FlatIndexTest, AccessorsAndMemoryGrowth) {
  auto index = NewFlatIndex(384, DistanceSpace::kIp);
  EXPECT_EQ(index->dim(), 384u);
  EXPECT_EQ(index->space(), DistanceSpace::kIp);
  std::mt19937 rng(3);
  std::vector<InternalId> ids;
  for (InternalId i = 0; i < 100; ++i)
    ids.push_back(i);
  ASSERT_TRUE(index->Upsert(ids, RandomVectors(100, 384, &rng)).ok());
  EXPECT_GE(index->MemoryBytes(), 100 * 384 * sizeof(float));
  // Geometric growth: far less than 2x the payload plus small per-row overhead.
  EXPECT_LE(index->MemoryBytes(), 2 * 128 * 384 * sizeof(float));
}

TEST(FlatIndexTest, ConcurrentSearchesAgree) {
  constexpr size_t kDim = 24;
  std::mt19937 rng(8);
  auto index = NewFlatIndex(kDim, DistanceSpace::kCosine);
  std::vector<InternalId> ids;
  for (InternalId i = 0; i < 500; ++i)
    ids.push_back(i);
  ASSERT_TRUE(index->Upsert(ids, RandomVectors(500, kDim, &rng)).ok());
  const std::vector<float> queries = RandomVectors(4, kDim, &rng);
  std::vector<std::vector<Neighbor>> expected;
  for (size_t q = 0; q < 4; ++q) {
    expected.push_back(index->Search({queries.data() + q * kDim, kDim}, 10, nullptr));
  }
  std::vector<std::vector<std::vector<Neighbor>>> results(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 20; ++rep) {
        results[t].push_back(index->Search({queries.data() + t * kDim, kDim}, 10, nullptr));
      }
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  for (size_t t = 0; t < 4; ++t) {
    for (const std::vector<Neighbor>& r : results[t])
      ExpectSameNeighbors(r, expected[t]);
  }
}

}  // namespace
}  // namespace ksdb::index
