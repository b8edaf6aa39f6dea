// HnswGraph 1-bit sketches: binary quantisation with exact rescoring for
// selective filters.
//
// A node's sketch holds one bit per dimension: whether the component of its
// vector (cosine: of v / |v|) lies above the centre's. The Hamming distance
// between two sketches counts the coordinate half-spaces (around the centre)
// that separate the vectors, a coarse proxy for their angle seen from the
// centre. A scan of the accepted nodes' sketches reads ceil(dim/64) words per
// node instead of dim floats (48 instead of 1,536 bytes at 384-d), keeps the
// nearest RescoreCount by Hamming distance and rescores those exactly, so the
// distances returned are always exact and only the choice of candidates is
// approximate.
//
// The centre is the mean of the stored vectors when the index first holds
// kSketchCentreMin of them (the origin before that), recomputed only at a
// snapshot load. Data that drifts away from it afterwards makes the sketches
// less informative (more components fall on one side), which costs recall
// but never correctness: results are rescored exactly, and the index is
// consistent because every sketch and every query use the same centre.
// GCC 12's AVX-512 headers trip a false -Wuninitialized inside their own
// inline functions (GCC bug 105593); silence it for the header only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "index/hnsw_graph.h"
#include "index/top_k.h"

namespace ksdb::index {
namespace {

// Nodes whose sketches are requested ahead of the one being scored.
constexpr size_t kSketchPrefetch = 16;
// Rescored candidates whose vectors are requested ahead of the one rescored.
constexpr size_t kRescorePrefetch = 4;
// At most this many vectors' sample is averaged into the centre.
constexpr size_t kCentreSample = 65536;
// Bits per component of the query's code (see SketchQuery).
constexpr size_t kQueryBits = 4;
constexpr uint32_t kQueryLevels = (1u << kQueryBits) - 1;  // codes 0..15

// The query side of the asymmetric sketch score. The query keeps kQueryBits
// bits per component instead of one (q'_i ~ step * (u_i - 7.5), u_i in
// 0..15, q' = query minus centre), stored as bit planes, so that
//   sum_i q'_i * x_i ~ step * (sum_b 2^b popcount(plane_b & x) - 7.5 popcount(x))
// for a sketch x: a node's score costs (kQueryBits + 1) popcounts per word,
// and ranks far better than the Hamming distance of two sketches, which
// drops the query's magnitudes too.
struct SketchQuery {
  size_t words = 0;
  std::vector<uint64_t> planes;  // kQueryBits planes of `words` words
};

SketchQuery EncodeSketchQuery(std::span<const float> centred, size_t words) {
  SketchQuery q{words, std::vector<uint64_t>(kQueryBits * words, 0)};
  float max_abs = 0.0f;
  for (float x : centred)
    max_abs = std::max(max_abs, std::fabs(x));
  const float half = static_cast<float>(kQueryLevels) / 2.0f;
  const float scale = max_abs > 0.0f ? half / max_abs : 0.0f;
  for (size_t i = 0; i < centred.size(); ++i) {
    const float level = std::nearbyint(centred[i] * scale + half);
    const auto u = static_cast<uint32_t>(std::clamp(level, 0.0f, static_cast<float>(kQueryLevels)));
    for (size_t b = 0; b < kQueryBits; ++b) {
      if ((u >> b) & 1u)
        q.planes[b * words + i / 64] |= uint64_t{1} << (i % 64);
    }
  }
  return q;
}

// Per id a sort key, smaller = nearer: (15 * popcount(x) - 2 * sum_b 2^b
// popcount(plane_b & x)) shifted to be non-negative, in the high 32 bits,
// and the id's position in the low 32. kWords > 0 fixes the sketch length at
// compile time (the loops unroll: about twice as fast), 0 reads it from `q`.
template <size_t kWords>
[[gnu::always_inline]] inline void ScoreLoop(const uint64_t* sketches, const SketchQuery& q,
                                             std::span<const InternalId> ids, uint64_t* out) {
  const size_t n = ids.size();
  const size_t words = kWords > 0 ? kWords : q.words;
  const uint64_t* planes = q.planes.data();
  const uint64_t offset = uint64_t{kQueryLevels} * 64 * words;
  for (size_t i = 0; i < n; ++i) {
    if (i + kSketchPrefetch < n)
      __builtin_prefetch(sketches + size_t{ids[i + kSketchPrefetch]} * words);
    const uint64_t* x = sketches + size_t{ids[i]} * words;
    uint64_t ones = 0;
    uint64_t weighted = 0;
    for (size_t w = 0; w < words; ++w) {
      const uint64_t xw = x[w];
      ones += static_cast<uint64_t>(__builtin_popcountll(xw));
      for (size_t b = 0; b < kQueryBits; ++b)
        weighted += static_cast<uint64_t>(__builtin_popcountll(planes[b * words + w] & xw)) << b;
    }
    const uint64_t key = offset + kQueryLevels * ones - 2 * weighted;
    out[i] = (key << 32) | i;
  }
}

// The usual sketch lengths (up to 128, 384, 768 and 1,536 dimensions) get
// their own unrolled loop.
template <size_t... kWords>
[[gnu::always_inline]] inline void ScoreDispatch(const uint64_t* sketches, const SketchQuery& q,
                                                 std::span<const InternalId> ids, uint64_t* out) {
  bool done = false;
  ((!done && q.words == kWords ? (ScoreLoop<kWords>(sketches, q, ids, out), done = true) : false),
   ...);
  if (!done)
    ScoreLoop<0>(sketches, q, ids, out);
}

[[gnu::target("popcnt")]] void ScorePopcnt(const uint64_t* sketches, const SketchQuery& q,
                                           std::span<const InternalId> ids, uint64_t* out) {
  ScoreDispatch<2, 6, 12, 24>(sketches, q, ids, out);
}

// The same keys with AVX-512 VPOPCNTQ: eight words of a sketch at once.
[[gnu::target("avx512f,avx512vpopcntdq")]] void ScoreAvx512(const uint64_t* sketches,
                                                            const SketchQuery& q,
                                                            std::span<const InternalId> ids,
                                                            uint64_t* out) {
  const size_t n = ids.size();
  const size_t words = q.words;
  const size_t chunks = (words + 7) / 8;
  const uint64_t* planes = q.planes.data();
  const uint64_t offset = uint64_t{kQueryLevels} * 64 * words;
  for (size_t i = 0; i < n; ++i) {
    if (i + kSketchPrefetch < n)
      __builtin_prefetch(sketches + size_t{ids[i + kSketchPrefetch]} * words);
    const uint64_t* x = sketches + size_t{ids[i]} * words;
    __m512i sum = _mm512_setzero_si512();
    for (size_t c = 0; c < chunks; ++c) {
      const size_t lanes = std::min<size_t>(8, words - 8 * c);
      const auto mask = static_cast<__mmask8>((1u << lanes) - 1);
      const __m512i xw = _mm512_maskz_loadu_epi64(mask, x + 8 * c);
      __m512i weighted = _mm512_setzero_si512();
      for (size_t b = 0; b < kQueryBits; ++b) {
        const __m512i plane = _mm512_maskz_loadu_epi64(mask, planes + b * words + 8 * c);
        const __m512i bits = _mm512_popcnt_epi64(_mm512_and_si512(plane, xw));
        weighted = _mm512_add_epi64(weighted, _mm512_slli_epi64(bits, static_cast<int>(b)));
      }
      const __m512i ones = _mm512_popcnt_epi64(xw);
      // 15 * ones - 2 * weighted, lane by lane.
      sum =
          _mm512_add_epi64(sum, _mm512_sub_epi64(_mm512_sub_epi64(_mm512_slli_epi64(ones, 4), ones),
                                                 _mm512_slli_epi64(weighted, 1)));
    }
    const uint64_t key = offset + static_cast<uint64_t>(_mm512_reduce_add_epi64(sum));
    out[i] = (key << 32) | i;
  }
}

void ScorePortable(const uint64_t* sketches, const SketchQuery& q, std::span<const InternalId> ids,
                   uint64_t* out) {
  ScoreLoop<0>(sketches, q, ids, out);
}

void ScoreSketches(const uint64_t* sketches, const SketchQuery& q, std::span<const InternalId> ids,
                   uint64_t* out) {
  // Without the instruction __builtin_popcountll is a bit-twiddling sequence
  // several times slower; every x86-64 CPU of the last decade has it.
  static const bool kHasAvx512 =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq");
  static const bool kHasPopcnt = __builtin_cpu_supports("popcnt");
  if (kHasAvx512)
    ScoreAvx512(sketches, q, ids, out);
  else if (kHasPopcnt)
    ScorePopcnt(sketches, q, ids, out);
  else
    ScorePortable(sketches, q, ids, out);
}

void PrefetchAll(const void* data, size_t bytes) {
  const char* p = static_cast<const char*>(data);
  for (size_t offset = 0; offset < bytes; offset += 64)
    __builtin_prefetch(p + offset);
}

}  // namespace

size_t SketchRescoreCount(size_t k, size_t allowed) {
  // Rescoring 0.6 * k * sqrt(allowed) keeps recall@10 at 0.97 on the
  // clustered 384-d set from 1,000 to 5,000 allowed (measured: 16k of 1,000
  // gave 0.96, 32k of 5,000 gave 0.96; bench/RESULTS.md): the more allowed
  // nodes, the more of them tie with the true neighbours on the coarse score.
  constexpr double kRescorePerK = 0.6;
  const double r =
      std::ceil(kRescorePerK * static_cast<double>(k) * std::sqrt(static_cast<double>(allowed)));
  return std::min(allowed, std::max(k, static_cast<size_t>(r)));
}

AllowedScan PickAllowedScan(size_t allowed, size_t k, size_t dim) {
  // Fewer sign bits rank too coarsely to pay for the rescoring.
  constexpr size_t kMinDim = 64;
  // Measured single-thread costs (search_dev, 100k x 384 and glove 148k x
  // 100): an exact distance of an allowed vector ~0.17 ns per dimension
  // (streamed in id order), a sketch score ~14 ns whatever the dimension
  // (bound by fetching the sketch), a rescored vector ~0.22 ns per dimension
  // (fetched out of order), and ~5 us per query to encode it and select the
  // candidates (100 allowed at 384-d: exact 3.9 us, sketch 11 us).
  constexpr double kExactNsPerDim = 0.17;
  constexpr double kSketchFixedNs = 5000.0;
  constexpr double kSketchNs = 14.0;
  constexpr double kRescoreNsPerDim = 0.22;
  if (dim < kMinDim || allowed == 0)
    return AllowedScan::kExact;
  const double a = static_cast<double>(allowed);
  const double d = static_cast<double>(dim);
  const double rescored = static_cast<double>(SketchRescoreCount(k, allowed));
  const double exact_ns = a * d * kExactNsPerDim;
  const double sketch_ns = kSketchFixedNs + a * kSketchNs + rescored * d * kRescoreNsPerDim;
  return sketch_ns < exact_ns ? AllowedScan::kSketch : AllowedScan::kExact;
}

void HnswGraph::ComputeSketch(const float* vector, float inv_norm, uint64_t* out) const {
  const bool cosine = space_ == DistanceSpace::kCosine;
  const bool centred = !sketch_centre_.empty();
  std::fill(out, out + sketch_words_, uint64_t{0});
  for (size_t i = 0; i < dim_; ++i) {
    const float x = cosine ? vector[i] * inv_norm : vector[i];
    const float c = centred ? sketch_centre_[i] : 0.0f;
    if (x > c)
      out[i / 64] |= uint64_t{1} << (i % 64);
  }
}

std::vector<float> HnswGraph::CentredQuery(const PreparedQuery& q) const {
  std::vector<float> centred(dim_);
  const bool cosine = space_ == DistanceSpace::kCosine;
  for (size_t i = 0; i < dim_; ++i) {
    const float x = cosine ? q.vector[i] * q.inv_norm : q.vector[i];
    centred[i] = sketch_centre_.empty() ? x : x - sketch_centre_[i];
  }
  return centred;
}

void HnswGraph::MaybeCentreSketches() {
  if (!sketch_centre_.empty() || size_ < kSketchCentreMin)
    return;
  RecomputeSketches();
}

void HnswGraph::RecomputeSketches() {
  sketch_centre_.clear();
  if (size_ >= kSketchCentreMin) {
    std::vector<double> sum(dim_, 0.0);
    const size_t stride = std::max<size_t>(1, size_ / kCentreSample);
    size_t seen = 0;
    size_t used = 0;
    for (size_t id = 0; id < num_nodes(); ++id) {
      const InternalId node = static_cast<InternalId>(id);
      if (!Contains(node) || seen++ % stride != 0)
        continue;
      const float* v = Vector(node);
      const float scale = space_ == DistanceSpace::kCosine ? InvNorm(node) : 1.0f;
      for (size_t d = 0; d < dim_; ++d)
        sum[d] += static_cast<double>(v[d] * scale);
      ++used;
    }
    sketch_centre_.resize(dim_);
    for (size_t d = 0; d < dim_; ++d)
      sketch_centre_[d] = static_cast<float>(sum[d] / static_cast<double>(used));
  }
  for (size_t id = 0; id < num_nodes(); ++id) {
    if (states_[id] != kEmpty)
      UpdateSketch(static_cast<InternalId>(id));
  }
}

HnswGraph::NeighborHeap HnswGraph::SketchScan(const PreparedQuery& q, size_t k,
                                              std::span<const InternalId> ids,
                                              size_t rescore) const {
  if (k == 0 || ids.empty() || rescore == 0)
    return {};
  std::vector<uint64_t> keys(ids.size());
  ScoreSketches(sketches_.data(), EncodeSketchQuery(CentredQuery(q), sketch_words_), ids,
                keys.data());
  // The `rescore` smallest keys, in no particular order (the TopK sorts).
  const size_t r = std::min(rescore, ids.size());
  std::nth_element(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(r - 1), keys.end());
  keys.resize(r);
  std::vector<uint32_t> nearest(r);
  for (size_t i = 0; i < r; ++i)
    nearest[i] = static_cast<uint32_t>(keys[i]);
  TopK top(k);
  const size_t row_bytes = (dim_ + (space_ == DistanceSpace::kCosine ? 1 : 0)) * sizeof(float);
  for (size_t i = 0; i < std::min(kRescorePrefetch, nearest.size()); ++i)
    PrefetchAll(Vector(ids[nearest[i]]), row_bytes);
  for (size_t i = 0; i < nearest.size(); ++i) {
    if (i + kRescorePrefetch < nearest.size())
      PrefetchAll(Vector(ids[nearest[i + kRescorePrefetch]]), row_bytes);
    const InternalId id = ids[nearest[i]];
    top.Offer({ExactDistance(q, id), id});
  }
  return top.TakeSorted();
}

HnswGraph::NeighborHeap HnswGraph::SketchScanAccepted(const PreparedQuery& q, size_t k,
                                                      const IdFilter* filter) const {
  std::vector<InternalId> accepted;
  const size_t n = num_nodes();
  for (size_t i = 0; i < n; ++i) {
    const InternalId id = static_cast<InternalId>(i);
    if (Accepts(id, filter))
      accepted.push_back(id);
  }
  return SketchScan(q, k, accepted, SketchRescoreCount(k, accepted.size()));
}

std::vector<Neighbor> HnswGraph::SearchAllowed(std::span<const float> query, size_t k,
                                               std::span<const InternalId> candidates) const {
  if (PickAllowedScan(candidates.size(), k, dim_) == AllowedScan::kExact)
    return SearchAmong(query, k, candidates);
  if (k == 0 || query.size() != dim_ || size_ == 0)
    return {};
  // Ids not stored (or, defensively, beyond the arrays) are skipped, as SearchAmong does.
  std::vector<InternalId> stored;
  stored.reserve(candidates.size());
  for (InternalId id : candidates) {
    if (Contains(id))
      stored.push_back(id);
  }
  return SketchScan(Prepare(query.data()), k, stored, SketchRescoreCount(k, stored.size()));
}

}  // namespace ksdb::index
