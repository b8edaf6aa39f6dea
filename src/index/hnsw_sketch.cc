// HnswGraph sketches: two-bit quantisation with exact rescoring for
// selective filters.
//
// A node's sketch codes each component of its vector minus a centre (cosine:
// of v / |v|) in two bits, the sign and whether its magnitude is large, plus
// two floats that correct the estimate (see ComputeSketch and SketchQuery;
// RaBitQ's estimator extended to two bits). A scan of the accepted nodes'
// sketches reads one row per node (2 * ceil(dim/64) + 1 words, padded to
// 128 bytes at 384-d, instead of 1,536 bytes of floats), estimates each
// distance from popcounts of the node's bits against the query's 4-bit bit
// planes, keeps the SketchRescoreCount best and rescores those exactly: the
// distances returned are always exact, only the choice of candidates is
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
#include <numeric>
#include <optional>
#include <span>
#include <vector>

#include "index/hnsw_graph.h"
#include "index/top_k.h"

namespace ksdb::index {
namespace {

// Nodes whose sketches are requested ahead of the one being scored.
constexpr size_t kSketchPrefetch = 16;
// At most this many vectors' sample is averaged into the centre.
constexpr size_t kCentreSample = 65536;
// Bits per component of the query's code (see SketchQuery).
constexpr size_t kQueryBits = 4;
constexpr uint32_t kQueryLevels = (1u << kQueryBits) - 1;  // codes 0..15
// Bins of the histogram that selects the best estimates (SmallestPositions).
constexpr size_t kSelectBins = 1024;
// Screen skips nothing until it has learnt the estimate's error from this
// many exact distances, and then only neighbours whose corrected estimate is
// more than kPrescreenSigmas standard deviations of that error beyond the
// worst result (measured: see HnswGraph::Screen's caller in bench/RESULTS.md).
constexpr double kPrescreenMinSamples = 32.0;
constexpr double kPrescreenSigmas = 3.0;

// The query side of the sketch estimate. With q' = query - centre and a
// node's x' = vector - centre (both normalised first for cosine), s = the
// node's signs as +-1 and RaBitQ's estimator (Gao & Long, SIGMOD 2024)
//   <q', x'> ~ <q', s> * |x'|^2 / |x'|_1
// (exact when x' is parallel to s), a node's estimated distance is
//   offset - factor * <q', s> * scale_x
// with scale_x = |x'|^2 / |x'|_1 and offset from the node's row (see
// ComputeSketch) and factor 2 for l2, 1 else. The query keeps kQueryBits bits
// per component (q'_i ~ step * (u_i - 7.5), u_i in 0..15) as bit planes, so
//   <q', s> ~ step * (2 * sum_b 2^b popcount(plane_b & x) - 15 * popcount(x) + constant)
// costs (kQueryBits + 1) popcounts per word.

// x rounded to the nearest integer, ties to even: std::nearbyint in the
// default rounding mode for 0 <= x < 2^22, without the library call (the
// baseline x86-64 build has no SSE4.1 round instruction). Adding 1.5 * 2^23
// leaves no fraction bits, so the addition itself rounds.
inline float RoundToNearestEven(float x) {
  constexpr float kShift = 12582912.0f;  // 1.5 * 2^23
  return (x + kShift) - kShift;
}

SketchQuery EncodeSketchQuery(std::span<const float> centred, size_t words, float factor) {
  SketchQuery q{words, std::vector<uint64_t>(kQueryBits * words, 0), 0.0f, 0.0f};
  float max_abs = 0.0f;
  for (float x : centred)
    max_abs = std::max(max_abs, std::fabs(x));
  const float half = static_cast<float>(kQueryLevels) / 2.0f;
  const float to_level = max_abs > 0.0f ? half / max_abs : 0.0f;
  // Levels first (a loop the compiler vectorises), then one pass per word
  // packs their bits into the planes.
  std::vector<uint8_t> levels(centred.size());
  uint32_t level_sum = 0;
  for (size_t i = 0; i < centred.size(); ++i) {
    const float level = std::clamp(RoundToNearestEven(centred[i] * to_level + half), 0.0f,
                                   static_cast<float>(kQueryLevels));
    levels[i] = static_cast<uint8_t>(level);
    level_sum += levels[i];
  }
  for (size_t w = 0; w < words; ++w) {
    const size_t first = 64 * w;
    const size_t count = std::min<size_t>(64, centred.size() - std::min(first, centred.size()));
    uint64_t bits[kQueryBits] = {};
    for (size_t j = 0; j < count; ++j) {
      const uint64_t u = levels[first + j];
      for (size_t b = 0; b < kQueryBits; ++b)
        bits[b] |= ((u >> b) & 1u) << j;
    }
    for (size_t b = 0; b < kQueryBits; ++b)
      q.planes[b * words + w] = bits[b];
  }
  q.scale = factor * (max_abs > 0.0f ? max_abs / half : 0.0f);
  q.constant = static_cast<float>(half * static_cast<double>(centred.size()) - level_sum);
  return q;
}

// sum_i u_i y_i and popcount(y) of a bit vector y: `planes` and popcounts.
struct PlaneSums {
  int64_t weighted = 0;
  int64_t ones = 0;
};

// The code sum sum_i (2 u_i - 15) (x~_i + 1) / 2 of a node whose code is
// x~ = (2s - 1)(1 + 2m) (s: sign bits, m: magnitude bits). Per bit,
// (x~ + 1) / 2 = s + 2sm - m = 2s - (s ^ m), so the sum is 2 G(s) - G(s ^ m)
// with G(y) = 2 sum_i u_i y_i - 15 popcount(y): two bit vectors per word
// against the query planes instead of s, m and s & m (a third fewer popcounts;
// the same integer).
[[gnu::always_inline]] inline int64_t CodeSum(const PlaneSums& s, const PlaneSums& x) {
  const auto g = [](const PlaneSums& y) { return 2 * y.weighted - int64_t{kQueryLevels} * y.ones; };
  return 2 * g(s) - g(x);
}

// A node's estimated distance from its code sum and the two floats after
// its bits (`tail`).
[[gnu::always_inline]] inline float Estimate(const SketchQuery& q, int64_t code_sum,
                                             const uint64_t* tail) {
  float node[2];
  std::memcpy(node, tail, sizeof(node));
  return node[1] - q.scale * node[0] * (static_cast<float>(code_sum) + q.constant);
}

// Requests the sketch row kSketchPrefetch positions ahead of `i` in `ids`
// (its first and last word: a row may straddle two cache lines).
[[gnu::always_inline]] inline void PrefetchSketchAhead(const uint64_t* sketches, size_t stride,
                                                       std::span<const InternalId> ids, size_t i) {
  if (i + kSketchPrefetch < ids.size()) {
    const uint64_t* ahead = sketches + size_t{ids[i + kSketchPrefetch]} * stride;
    __builtin_prefetch(ahead);
    __builtin_prefetch(ahead + stride - 1);
  }
}

// out[i] = the estimated distance of node ids[i] (rows of `stride` words:
// q.words of sign bits, q.words of magnitude bits, then the two floats).
// kWords > 0 fixes the sketch length at compile time (the loops unroll), 0
// reads it from `q`. Inlined into a popcnt-enabled and a portable caller.
template <size_t kWords>
[[gnu::always_inline]] inline void ScoreLoop(const uint64_t* sketches, size_t stride,
                                             const SketchQuery& q, std::span<const InternalId> ids,
                                             float* out) {
  const size_t n = ids.size();
  const size_t words = kWords > 0 ? kWords : q.words;
  const uint64_t* planes = q.planes.data();
  for (size_t i = 0; i < n; ++i) {
    PrefetchSketchAhead(sketches, stride, ids, i);
    const uint64_t* x = sketches + size_t{ids[i]} * stride;
    PlaneSums s, sx;
    for (size_t w = 0; w < words; ++w) {
      const uint64_t sw = x[w];
      const uint64_t xw = sw ^ x[words + w];
      s.ones += __builtin_popcountll(sw);
      sx.ones += __builtin_popcountll(xw);
      for (size_t b = 0; b < kQueryBits; ++b) {
        const uint64_t p = planes[b * words + w];
        s.weighted += static_cast<int64_t>(__builtin_popcountll(p & sw)) << b;
        sx.weighted += static_cast<int64_t>(__builtin_popcountll(p & xw)) << b;
      }
    }
    out[i] = Estimate(q, CodeSum(s, sx), x + 2 * words);
  }
}

// The usual sketch lengths (up to 128, 384, 768 and 1,536 dimensions) get
// their own unrolled loop.
template <size_t... kWords>
[[gnu::always_inline]] inline void ScoreDispatch(const uint64_t* sketches, size_t stride,
                                                 const SketchQuery& q,
                                                 std::span<const InternalId> ids, float* out) {
  bool done = false;
  ((!done && q.words == kWords ? (ScoreLoop<kWords>(sketches, stride, q, ids, out), done = true)
                               : false),
   ...);
  if (!done)
    ScoreLoop<0>(sketches, stride, q, ids, out);
}

[[gnu::target("popcnt")]] void ScorePopcnt(const uint64_t* sketches, size_t stride,
                                           const SketchQuery& q, std::span<const InternalId> ids,
                                           float* out) {
  ScoreDispatch<2, 6, 12, 24>(sketches, stride, q, ids, out);
}

// Per lane of up to eight sketch words s (signs) and x = s ^ m (m: the
// magnitude bits), with the query's bit planes of the same words: the code
// sum's share, 2 G(s) - G(x) with G(y) = 2 sum_b 2^b popcount(plane_b & y) -
// 15 popcount(y).
[[gnu::target("avx512f,avx512vpopcntdq"), gnu::always_inline]] inline __m512i CodeSumLanes(
    const __m512i (&planes)[kQueryBits], __m512i sw, __m512i xw) {
  __m512i us = _mm512_setzero_si512();
  __m512i ux = _mm512_setzero_si512();
  for (size_t b = 0; b < kQueryBits; ++b) {
    const int shift = static_cast<int>(b);
    us = _mm512_add_epi64(
        us, _mm512_slli_epi64(_mm512_popcnt_epi64(_mm512_and_si512(planes[b], sw)), shift));
    ux = _mm512_add_epi64(
        ux, _mm512_slli_epi64(_mm512_popcnt_epi64(_mm512_and_si512(planes[b], xw)), shift));
  }
  // 2 us - ux and the same of the popcounts, then 2 * U - 15 * P.
  const __m512i u = _mm512_sub_epi64(_mm512_slli_epi64(us, 1), ux);
  const __m512i ones =
      _mm512_sub_epi64(_mm512_slli_epi64(_mm512_popcnt_epi64(sw), 1), _mm512_popcnt_epi64(xw));
  // 15 * ones = 16 * ones - ones (kQueryLevels).
  const __m512i fifteen_ones = _mm512_sub_epi64(_mm512_slli_epi64(ones, 4), ones);
  return _mm512_sub_epi64(_mm512_slli_epi64(u, 1), fifteen_ones);
}

// ScoreAvx512 for sketches of at most 512 components (one 8-word chunk, e.g.
// 384-d): the query's bit planes and the lane mask stay in registers across
// rows instead of being reloaded per row (search_dev, generated 500k x 384, 1%:
// SearchAllowed 15,000-16,000 -> 16,900-17,800 q/s, alternated).
[[gnu::target("avx512f,avx512vpopcntdq")]] void ScoreAvx512OneChunk(
    const uint64_t* sketches, size_t stride, const SketchQuery& q,
    std::span<const InternalId> ids, float* out) {
  const size_t words = q.words;
  const auto mask = static_cast<__mmask8>((1u << words) - 1);
  __m512i planes[kQueryBits];
  for (size_t b = 0; b < kQueryBits; ++b)
    planes[b] = _mm512_maskz_loadu_epi64(mask, q.planes.data() + b * words);
  for (size_t i = 0; i < ids.size(); ++i) {
    PrefetchSketchAhead(sketches, stride, ids, i);
    const uint64_t* x = sketches + size_t{ids[i]} * stride;
    const __m512i sw = _mm512_maskz_loadu_epi64(mask, x);
    const __m512i xw = _mm512_xor_si512(sw, _mm512_maskz_loadu_epi64(mask, x + words));
    const __m512i total = CodeSumLanes(planes, sw, xw);
    out[i] = Estimate(q, _mm512_reduce_add_epi64(total), x + 2 * words);
  }
}

// The same estimates with AVX-512 VPOPCNTQ: eight words of a sketch at once.
[[gnu::target("avx512f,avx512vpopcntdq")]] void ScoreAvx512(const uint64_t* sketches, size_t stride,
                                                            const SketchQuery& q,
                                                            std::span<const InternalId> ids,
                                                            float* out) {
  const size_t words = q.words;
  const size_t chunks = (words + 7) / 8;
  if (chunks == 1) {
    ScoreAvx512OneChunk(sketches, stride, q, ids, out);
    return;
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    PrefetchSketchAhead(sketches, stride, ids, i);
    const uint64_t* x = sketches + size_t{ids[i]} * stride;
    __m512i total = _mm512_setzero_si512();
    for (size_t c = 0; c < chunks; ++c) {
      const size_t lanes = std::min<size_t>(8, words - 8 * c);
      const auto mask = static_cast<__mmask8>((1u << lanes) - 1);
      const __m512i sw = _mm512_maskz_loadu_epi64(mask, x + 8 * c);
      const __m512i xw = _mm512_xor_si512(sw, _mm512_maskz_loadu_epi64(mask, x + words + 8 * c));
      __m512i planes[kQueryBits];
      for (size_t b = 0; b < kQueryBits; ++b)
        planes[b] = _mm512_maskz_loadu_epi64(mask, q.planes.data() + b * words + 8 * c);
      total = _mm512_add_epi64(total, CodeSumLanes(planes, sw, xw));
    }
    out[i] = Estimate(q, _mm512_reduce_add_epi64(total), x + 2 * words);
  }
}

void ScorePortable(const uint64_t* sketches, size_t stride, const SketchQuery& q,
                   std::span<const InternalId> ids, float* out) {
  ScoreLoop<0>(sketches, stride, q, ids, out);
}

void ScoreSketches(const uint64_t* sketches, size_t stride, const SketchQuery& q,
                   std::span<const InternalId> ids, float* out) {
  // Without the instruction __builtin_popcountll is a bit-twiddling sequence
  // several times slower; every x86-64 CPU of the last decade has it.
  static const bool kHasAvx512 =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq");
  static const bool kHasPopcnt = __builtin_cpu_supports("popcnt");
  if (kHasAvx512)
    ScoreAvx512(sketches, stride, q, ids, out);
  else if (kHasPopcnt)
    ScorePopcnt(sketches, stride, q, ids, out);
  else
    ScorePortable(sketches, stride, q, ids, out);
}

// The positions of the `r` smallest `values` (r <= values.size()), up to
// ties within 1/kSelectBins of their range, taken in order: a histogram
// selection, two linear passes instead of a partial sort.
std::vector<uint32_t> SmallestPositions(std::span<const float> values, size_t r) {
  const auto [lo_it, hi_it] = std::minmax_element(values.begin(), values.end());
  const float lo = *lo_it;
  const float range = *hi_it - lo;
  const float to_bin = range > 0.0f ? static_cast<float>(kSelectBins) / range : 0.0f;
  const auto bin_of = [&](float v) {
    return std::min(kSelectBins - 1, static_cast<size_t>((v - lo) * to_bin));
  };
  std::vector<uint32_t> histogram(kSelectBins, 0);
  for (float v : values)
    ++histogram[bin_of(v)];
  size_t cut = 0;
  size_t below = 0;  // values in bins before `cut`
  while (below + histogram[cut] < r)
    below += histogram[cut++];
  size_t at_cut = r - below;  // taken from bin `cut`
  std::vector<uint32_t> positions;
  positions.reserve(r);
  for (size_t i = 0; i < values.size(); ++i) {
    const size_t bin = bin_of(values[i]);
    if (bin < cut || (bin == cut && at_cut > 0)) {
      if (bin == cut)
        --at_cut;
      positions.push_back(static_cast<uint32_t>(i));
    }
  }
  return positions;
}

void PrefetchAll(const void* data, size_t bytes) {
  const char* p = static_cast<const char*>(data);
  for (size_t offset = 0; offset < bytes; offset += 64)
    __builtin_prefetch(p + offset);
}

}  // namespace

size_t SketchRescoreCount(size_t k, size_t allowed) {
  // Measured recall@10 on the clustered 384-d set (search_dev, bench/RESULTS.md):
  // rescoring 48 of 1,000 allowed gave 0.970 (32: 0.922), 71 of 5,000 gave
  // 0.974 and 107 gave 0.990. 3k + 0.1 k sqrt(allowed) (62 and 101 there)
  // keeps a margin above 0.95; the more allowed nodes, the more of them come
  // close to the true neighbours on the coarse estimate.
  constexpr double kBasePerK = 3.0;
  constexpr double kSqrtPerK = 0.1;
  const double kd = static_cast<double>(k);
  const double r =
      std::ceil(kBasePerK * kd + kSqrtPerK * kd * std::sqrt(static_cast<double>(allowed)));
  return std::min(allowed, std::max(k, static_cast<size_t>(r)));
}

bool PrescreenPays(size_t dim, size_t nodes) {
  // At least 256 dimensions (a 384-d vector is 12x its sketch row; 128-d
  // only 4x, and untested on large sets) and 64 MiB of float vectors, far
  // beyond any cache (the sift5k loss above was 2.5 MB).
  constexpr size_t kMinDim = 256;
  constexpr size_t kMinVectorBytes = size_t{64} << 20;
  return dim >= kMinDim && nodes * dim * sizeof(float) >= kMinVectorBytes;
}

AllowedScan PickAllowedScan(size_t allowed, size_t k, size_t dim) {
  // Measured single-thread costs (search_dev, 100k x 384 and glove 148k x
  // 100): an exact distance of an allowed vector ~0.17 ns per dimension
  // (streamed in id order), a sketch score ~18 ns at 384-d (bound by fetching
  // its two cache lines; taken for every dimension), a rescored vector ~0.22 ns per dimension
  // (fetched out of order), and ~5 us per query to encode it and select the
  // candidates (100 allowed at 384-d: exact 3.9 us, sketch 11 us).
  constexpr double kExactNsPerDim = 0.17;
  constexpr double kSketchFixedNs = 5000.0;
  constexpr double kSketchNs = 18.0;
  constexpr double kRescoreNsPerDim = 0.22;
  // While the allowed vectors fit in a core's L2 cache with room to spare,
  // the exact scan measured faster than the model says: queries with the
  // same filter find them cached (384-d: 200 allowed 149k q/s exact vs 75k
  // sketch, 500 allowed 68.5k vs 53.9k; 1,000 allowed 22.9k vs 34.9k, once
  // they no longer fit). 1 MiB is 682 vectors at 384-d.
  constexpr size_t kCachedScanBytes = size_t{1} << 20;
  if (dim < kSketchMinDim || allowed * dim * sizeof(float) <= kCachedScanBytes)
    return AllowedScan::kExact;
  const double a = static_cast<double>(allowed);
  const double d = static_cast<double>(dim);
  const double rescored = static_cast<double>(SketchRescoreCount(k, allowed));
  const double exact_ns = a * d * kExactNsPerDim;
  const double sketch_ns = kSketchFixedNs + a * kSketchNs + rescored * d * kRescoreNsPerDim;
  return sketch_ns < exact_ns ? AllowedScan::kSketch : AllowedScan::kExact;
}

void HnswGraph::ComputeSketch(const float* vector, float inv_norm, uint64_t* out) const {
  // Called for every stored vector, on the write path: 16 float partial sums
  // per quantity vectorise (the double loop it replaces took ~3 us at 384-d,
  // most of staging a write); the sums are totalled in double.
  constexpr size_t kLanes = 16;
  const float scale = space_ == DistanceSpace::kCosine ? inv_norm : 1.0f;
  thread_local std::vector<float> centred;  // x' = x - c, for the second pass
  thread_local std::vector<float> zeros;
  centred.resize(dim_);
  const float* centre = sketch_centre_.data();
  if (sketch_centre_.empty()) {
    if (zeros.size() < dim_)
      zeros.resize(dim_, 0.0f);  // only ever zeros: grown, never rewritten
    centre = zeros.data();
  }
  float norm_lanes[kLanes] = {};    // |x'|^2
  float centre_lanes[kLanes] = {};  // <c, x'>
  float square_lanes[kLanes] = {};  // |x|^2
  size_t i = 0;
  for (; i + kLanes <= dim_; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) {
      const float x = vector[i + j] * scale;
      const float d = x - centre[i + j];
      centred[i + j] = d;
      norm_lanes[j] += d * d;
      centre_lanes[j] += centre[i + j] * d;
      square_lanes[j] += x * x;
    }
  }
  for (; i < dim_; ++i) {
    const float x = vector[i] * scale;
    const float d = x - centre[i];
    centred[i] = d;
    norm_lanes[0] += d * d;
    centre_lanes[0] += centre[i] * d;
    square_lanes[0] += x * x;
  }
  double norm_squared = 0.0;
  double centre_dot = 0.0;
  double squared = 0.0;
  for (size_t j = 0; j < kLanes; ++j) {
    norm_squared += norm_lanes[j];
    centre_dot += centre_lanes[j];
    squared += square_lanes[j];
  }
  // Two bits per component: the sign s and whether |x'_i| exceeds
  // kMagnitudeCut root-mean-square components (m), coding x'_i as
  // (2s - 1)(1 + 2m): for Gaussian-like components the best two-bit levels
  // are about +-0.45 and +-1.5 standard deviations apart at +-0.98.
  constexpr double kMagnitudeCut = 0.98;
  const float cut =
      static_cast<float>(kMagnitudeCut * std::sqrt(norm_squared / static_cast<double>(dim_)));
  std::fill(out, out + sketch_stride_, uint64_t{0});
  float code_lanes[kLanes] = {};  // <x', x~>
  for (size_t w = 0; w * 64 < dim_; ++w) {
    uint64_t signs = 0;
    uint64_t bigs = 0;
    const size_t end = std::min(dim_, (w + 1) * 64);
    for (size_t k = w * 64; k < end; ++k) {
      const float magnitude = std::fabs(centred[k]);
      const bool big = magnitude > cut;
      signs |= uint64_t{centred[k] > 0.0f} << (k % 64);
      bigs |= uint64_t{big} << (k % 64);
      code_lanes[k % kLanes] += big ? 3.0f * magnitude : magnitude;
    }
    out[w] = signs;
    out[sketch_words_ + w] = bigs;
  }
  double code_dot = 0.0;
  for (float lane : code_lanes)
    code_dot += lane;
  // The estimate's per-node terms (see SketchQuery): the scale
  // |x'|^2 / <x', x~>, and the part of the distance that does not involve the
  // query, up to a constant: l2 |x|^2 - 2<c, x'>, else -<c, x'>.
  const float node[2] = {
      static_cast<float>(code_dot > 0.0 ? norm_squared / code_dot : 0.0),
      static_cast<float>(space_ == DistanceSpace::kL2 ? squared - 2.0 * centre_dot : -centre_dot)};
  std::memcpy(out + 2 * sketch_words_, node, sizeof(node));
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
  if (sketch_stride_ == 0 || !sketch_centre_.empty() || size_ < kSketchCentreMin)
    return;
  RecomputeSketches();
}

void HnswGraph::RecomputeSketches() {
  sketch_centre_.clear();
  if (sketch_stride_ == 0)
    return;
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
  std::vector<uint32_t> nearest;
  if (sketch_stride_ == 0) {
    // No sketches below kSketchMinDim: every id is rescored.
    nearest.resize(ids.size());
    std::iota(nearest.begin(), nearest.end(), uint32_t{0});
  } else {
    std::vector<float> estimates(ids.size());
    SketchEstimates(PrepareSketchQuery(q), ids, estimates.data());
    nearest = SmallestPositions(estimates, std::min(rescore, ids.size()));
  }
  // All chosen vectors are requested before the first distance (their fetches
  // overlap; a few hundred KiB at most stay in L2), then scored in batches.
  std::vector<InternalId> chosen(nearest.size());
  const size_t row_bytes = (dim_ + (space_ == DistanceSpace::kCosine ? 1 : 0)) * sizeof(float);
  for (size_t i = 0; i < nearest.size(); ++i) {
    chosen[i] = ids[nearest[i]];
    PrefetchAll(Vector(chosen[i]), row_bytes);
  }
  std::vector<float> exact(chosen.size());
  QueryDistances(q, chosen.data(), chosen.size(), exact.data());
  TopK top(k);
  for (size_t i = 0; i < chosen.size(); ++i)
    top.Offer({exact[i], chosen[i]});
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

std::optional<HnswGraph::Prescreen> HnswGraph::MakePrescreen(const PreparedQuery& q) const {
  if (sketch_stride_ == 0 || quantized_)
    return std::nullopt;
  return Prescreen{PrepareSketchQuery(q), {}, 0.0, 0.0, 0.0};
}

size_t HnswGraph::Screen(Prescreen* p, InternalId* ids, size_t n, float bound) const {
  p->estimates.resize(n);
  SketchEstimates(p->code, std::span<const InternalId>(ids, n), p->estimates.data());
  size_t kept = n;
  if (std::isfinite(bound) && p->samples >= kPrescreenMinSamples) {
    // A neighbour is skipped when even its estimate corrected by the mean
    // error, minus kPrescreenSigmas standard deviations of it, is no better
    // than the current worst result.
    const double sd = std::sqrt(p->m2 / (p->samples - 1.0));
    const auto cut = static_cast<float>(bound - p->mean + kPrescreenSigmas * sd);
    kept = 0;
    for (size_t i = 0; i < n; ++i) {
      if (p->estimates[i] < cut) {
        ids[kept] = ids[i];
        p->estimates[kept++] = p->estimates[i];
      }
    }
  }
  for (size_t i = 0; i < kept; ++i)
    PrefetchAll(Block(ids[i]), traverse_bytes_);
  return kept;
}

void HnswGraph::Learn(Prescreen* p, const float* exact, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const double error = static_cast<double>(exact[i]) - p->estimates[i];
    p->samples += 1.0;
    const double delta = error - p->mean;
    p->mean += delta / p->samples;
    p->m2 += delta * (error - p->mean);
  }
}

SketchQuery HnswGraph::PrepareSketchQuery(const PreparedQuery& q) const {
  const float factor = space_ == DistanceSpace::kL2 ? 2.0f : 1.0f;
  return EncodeSketchQuery(CentredQuery(q), sketch_words_, factor);
}

void HnswGraph::SketchEstimates(const SketchQuery& code, std::span<const InternalId> ids,
                                float* out) const {
  ScoreSketches(sketches_.data(), sketch_stride_, code, ids, out);
}

}  // namespace ksdb::index
