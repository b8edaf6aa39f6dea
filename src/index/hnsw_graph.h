// HnswGraph: the implementation of HnswIndex (internal to index/).
//
// Memory layout: one fixed-size block per node number (= InternalId) in one
// 64-byte-aligned buffer, so a node costs no allocation of its own unless it
// reaches an upper layer, and a node's vector and its layer-0 links share
// cache lines:
//   block = vector (dim floats, exactly as given)
//           1/|v| (cosine only; 0 for a zero vector)
//           layer-0 links: count, then up to 2M neighbour ids (uint32)
//           padding to a multiple of 32 bytes, so vectors start aligned
// Beside the blocks: levels_ (top layer per node), states_ (empty / live /
// deleted) and upper_ (for nodes above layer 0: level * (1 + M) uint32, per
// layer a count then the neighbours). Traversal prefetches the next
// neighbour's block while computing the current distance.
//
// With int8 quantisation the block holds one byte code per dimension (an
// affine code per dimension, trained on the first kTrainMin vectors) and, for
// l2, |decoded vector|^2, instead of the float vector; the float vectors (and
// 1/|v|) move to floats_, which may be a memory-mapped file. Graph
// construction uses the float vectors; queries traverse on the codes
// (asymmetric: the query stays float) and rerank the ef candidates exactly.
//
// Staged nodes (state kPending, see HnswIndex::Stage) hold their vector but
// are not (re)linked yet: a new one has no links and no node links to it, an
// updated one keeps its old links. Graph results never include them; every
// search scans the pending list exactly and merges, so they are found anyway.
//
// Every stored node (live or pending) also has a sketch row in sketches_
// (hnsw_sketch.cc): two bits per component of its (cosine: normalised)
// vector minus a centre and two correction floats. Selective filters scan
// the accepted nodes' sketches and rescore the best few estimates exactly.
//
// Deletion is a tombstone: the node stays in the graph (so paths through it
// survive) but is never returned; reusing its id re-links it with the new
// vector, so a workload that deletes and re-adds keeps memory flat.
#ifndef KSDB_INDEX_HNSW_GRAPH_H_
#define KSDB_INDEX_HNSW_GRAPH_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "index/float_rows.h"
#include "index/growable_buffer.h"
#include "index/hnsw_index.h"
#include "index/huge_pages.h"
#include "index/visited_pool.h"
#include "simd/distance.h"

namespace ksdb::index {

// Below this share of accepted nodes a filtered query is answered by an exact
// scan: the two-hop filtered search (hnsw_filtered_search.cc) no longer stays
// connected. PreferExactScan and HnswGraph::PickFilteredPath both use it.
inline constexpr double kTwoHopMinFraction = 0.025;

// Indexes of fewer dimensions keep no sketches: a sketch score costs about as
// much as an exact distance there (PickAllowedScan never picks the scan).
inline constexpr size_t kSketchMinDim = 128;

// A query coded for sketch estimates (hnsw_sketch.cc).
struct SketchQuery {
  size_t words = 0;
  std::vector<uint64_t> planes;  // kQueryBits planes of `words` words
  float scale = 0.0f;            // factor * step
  float constant = 0.0f;         // 7.5 * dim - sum u_i
};

// Whether the graph search of an index of `nodes` `dim`-dimensional float
// vectors pre-screens neighbours by their sketches (HnswGraph::Screen): only
// when fetching vectors is what a search waits on. Measured: +6-42% q/s at
// 200k and 500k x 384 (bench/RESULTS.md), but 25% fewer q/s on 4,900 x 128
// (ngt-sift5k, whose vectors stay in cache: the screen is pure overhead).
bool PrescreenPays(size_t dim, size_t nodes);

// How many of `allowed` candidates a sketch scan for the top `k` rescores
// exactly (hnsw_sketch.cc; never more than `allowed`).
size_t SketchRescoreCount(size_t k, size_t allowed);

// A std::allocator that places arrays on cache-line boundaries (the sketch
// rows, so that a row padded to whole lines never straddles one more) and
// advises huge pages for them (a sketch scan touches rows all over the array,
// like a graph search; see huge_pages.h).
template <typename T>
struct CacheLineAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlignment{64};
  CacheLineAllocator() = default;
  template <typename U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}  // NOLINT(runtime/explicit): rebinding
  T* allocate(size_t n) {
    T* p = static_cast<T*>(::operator new(n * sizeof(T), kAlignment));
    AdviseHugePages(p, n * sizeof(T));
    return p;
  }
  void deallocate(T* p, size_t) { ::operator delete(p, kAlignment); }
  friend bool operator==(const CacheLineAllocator&, const CacheLineAllocator&) { return true; }
};

class HnswGraph final : public HnswIndex {
 public:
  // `floats` holds the float vectors when params.quantize_int8 (else unused).
  HnswGraph(size_t dim, DistanceSpace space, const HnswParams& params, FloatRows floats);

  size_t dim() const override { return dim_; }
  DistanceSpace space() const override { return space_; }
  size_t size() const override { return size_; }
  Status Upsert(std::span<const InternalId> ids, std::span<const float> vectors) override;
  void Remove(std::span<const InternalId> ids) override;
  bool Contains(InternalId id) const override {
    return id < states_.size() && (states_[id] == kLive || states_[id] == kPending);
  }
  std::span<const float> GetVector(InternalId id) const override;
  std::vector<Neighbor> Search(std::span<const float> query, size_t k,
                               const IdFilter* filter) const override {
    return SearchWithEf(query, k, params_.ef_search, filter);
  }
  std::vector<Neighbor> SearchAmong(std::span<const float> query, size_t k,
                                    std::span<const InternalId> candidates) const override;
  std::vector<Neighbor> SearchAllowed(std::span<const float> query, size_t k,
                                      std::span<const InternalId> candidates) const override;
  size_t MemoryBytes() const override;

  std::vector<Neighbor> SearchWithEf(std::span<const float> query, size_t k, size_t ef,
                                     const IdFilter* filter) const override;
  std::vector<Neighbor> ExactSearch(std::span<const float> query, size_t k,
                                    const IdFilter* filter) const override;
  void SetEfSearch(size_t ef_search) override { params_.ef_search = ef_search; }
  void SetNumThreads(size_t num_threads) override { params_.num_threads = num_threads; }
  const HnswParams& params() const override { return params_; }
  Status Stage(std::span<const InternalId> ids, std::span<const float> vectors) override;
  Status StageRows(std::span<const InternalId> ids, std::span<const float* const> rows) override;
  size_t LinkPending(size_t max_nodes, size_t max_threads = 0,
                     const std::function<bool()>& interrupt = {}) override;
  size_t pending() const override { return pending_list_.size(); }
  Status Reserve(size_t num_nodes) override { return GrowTo(num_nodes); }
  void Prefault(size_t first, size_t count) const override;
  Status SaveSnapshot(const std::string& path, uint64_t watermark,
                      std::string_view user_data) const override;

  // Snapshot loading fills the arrays directly (hnsw_snapshot.cc).
  friend Result<LoadedHnswSnapshot> LoadHnswSnapshot(const std::string& path, size_t dim,
                                                     DistanceSpace space, const HnswParams& params);
  // Unit tests reach the neighbour-selection internals through it.
  friend class HnswGraphTestPeer;

 private:
  static constexpr uint8_t kEmpty = 0;
  static constexpr uint8_t kLive = 1;
  static constexpr uint8_t kDeleted = 2;
  static constexpr uint8_t kPending = 3;  // stored and searchable, not linked
  static constexpr InternalId kNoNode = ~InternalId{0};
  static constexpr int kMaxLevel = 31;
  // Vectors needed before codes are trained (queries use floats until then),
  // and the most vectors the code ranges are computed from.
  static constexpr size_t kTrainMin = 1024;
  static constexpr size_t kTrainSample = 65536;

  // The query as traversal uses it: the raw vector and 1/|q| (cosine).
  struct PreparedQuery {
    const float* vector;
    float inv_norm;
    // While the bfloat16 construction copy exists: `vector` followed by zeros
    // up to MirrorComponents(), so the copy's kernels run whole blocks with no
    // tail (ConstructionDistances). Null otherwise.
    const float* mirror_padded = nullptr;
  };
  using NeighborHeap = std::vector<Neighbor>;

  size_t num_nodes() const { return states_.size(); }
  size_t MaxLinks(int level) const { return level == 0 ? 2 * params_.m : params_.m; }
  std::byte* Block(InternalId id) const { return blocks_.data() + size_t{id} * block_bytes_; }
  const float* Vector(InternalId id) const {
    return quantized_ ? floats_.Row(id) : reinterpret_cast<const float*>(Block(id));
  }
  float* MutableVector(InternalId id) {
    return quantized_ ? floats_.Row(id) : reinterpret_cast<float*>(Block(id));
  }
  const uint8_t* Codes(InternalId id) const { return reinterpret_cast<const uint8_t*>(Block(id)); }
  // |decoded vector|^2 (l2 only), stored after the codes.
  float CodeNormSquared(InternalId id) const {
    return *reinterpret_cast<const float*>(Block(id) + codes_bytes_);
  }
  float InvNorm(InternalId id) const { return Vector(id)[dim_]; }
  // The link row of `id` at `level`: [count, neighbour...].
  uint32_t* Links(InternalId id, int level) {
    return level == 0 ? reinterpret_cast<uint32_t*>(Block(id) + links_offset_)
                      : upper_[id].get() + size_t(level - 1) * (1 + params_.m);
  }
  const uint32_t* Links(InternalId id, int level) const {
    return const_cast<HnswGraph*>(this)->Links(id, level);
  }

  // A query prepared for code distances: dot(q, decoded v) =
  // offset + sum scaled_i * code_i (cosine queries are normalised first).
  struct CodeQuery {
    std::vector<float> scaled;
    float offset = 0.0f;
    float norm_squared = 0.0f;  // |q|^2, l2 only
  };
  // Distance functors for the generic traversal.
  struct FloatDistance {
    const HnswGraph* graph;
    PreparedQuery q;
    float operator()(InternalId id) const { return graph->QueryDistance(q, id); }
    // out[i] = (*this)(ids[i]) for i < n, in one kernel call.
    void Batch(const InternalId* ids, size_t n, float* out) const {
      graph->QueryDistances(q, ids, n, out);
    }
  };
  struct CodeDistance {
    const HnswGraph* graph;
    const CodeQuery* q;
    float operator()(InternalId id) const { return graph->CodeQueryDistance(*q, id); }
    void Batch(const InternalId* ids, size_t n, float* out) const {
      for (size_t i = 0; i < n; ++i)
        out[i] = (*this)(ids[i]);
    }
  };

  PreparedQuery Prepare(const float* query) const;
  CodeQuery PrepareCodes(const float* query) const;
  float CodeQueryDistance(const CodeQuery& q, InternalId id) const;
  float QueryDistance(const PreparedQuery& q, InternalId id) const;
  // out[i] = QueryDistance(q, ids[i]) for i < n (bit for bit), with one batch
  // kernel call per up to kDistanceBatch ids (hnsw_search.cc).
  void QueryDistances(const PreparedQuery& q, const InternalId* ids, size_t n, float* out) const;
  float NodeDistance(InternalId a, InternalId b) const;
  // The exact distance Chroma reports (same formula as the flat index).
  float ExactDistance(const PreparedQuery& q, InternalId id) const { return QueryDistance(q, id); }

  // --- insertion (hnsw_build.cc) ---
  static Status ValidateIds(std::span<const InternalId> ids);
  Status CheckBatchSize(std::span<const InternalId> ids, std::span<const float> vectors) const;
  Status ValidateUpsert(std::span<const InternalId> ids, std::span<const float> vectors) const;
  Status ValidateRows(std::span<const InternalId> ids, std::span<const float* const> rows) const;
  Status GrowTo(size_t num_nodes);
  // The rows of a validated batch to store: for each distinct id its last
  // vector. Grows the arrays; on error nothing changed.
  Status PrepareBatch(std::span<const InternalId> ids,
                      std::vector<std::pair<InternalId, size_t>>* rows);
  // Writes the vector (and norm) of `id`, creating the node when it is new,
  // and moves it to `state` (kLive or kPending).
  void StoreVector(InternalId id, const float* vector, uint8_t state);
  void AddPending(InternalId id);
  void DropPending(InternalId id);
  // The top-k among the pending nodes `filter` accepts: exact, or by their
  // sketches when PendingScanUsesSketches says so.
  std::vector<Neighbor> SearchPending(const PreparedQuery& q, size_t k,
                                      const IdFilter* filter) const;
  // Whether SearchPending's top `k` among `accepted` pending nodes reads
  // their sketches rather than all their vectors (a large backlog).
  bool PendingScanUsesSketches(size_t accepted, size_t k) const;
  int DrawLevel();
  // Links `nodes` on up to params.num_threads threads (and at most
  // `max_threads` unless 0) and returns how many: all of them, or once
  // `interrupt` returns true a prefix of them (each thread stops before
  // claiming more). The caller releases the construction copy after
  // (ReleaseMirrorIfIdle), once it has re-staged the rest.
  size_t LinkAll(std::span<const InternalId> nodes, size_t max_threads = 0, size_t backlog = 0,
                 const std::function<bool()>& interrupt = {});
  void LinkNode(InternalId id, VisitedList* visited);
  // Greedy descent from `ep` through layers (from, to], returning the nearest
  // node found (never `self`).
  template <typename Dist>
  InternalId GreedyDescend(const Dist& dist, InternalId ep, int from, int to,
                           InternalId self) const {
    std::vector<InternalId> copy;  // allocated only while building in parallel
    float best = dist(ep);
    for (int level = from; level > to; --level) {
      bool improved = true;
      while (improved) {
        improved = false;
        for (InternalId n : LinksOf(ep, level, &copy)) {
          if (n == self)
            continue;
          const float d = dist(n);
          if (d < best) {
            best = d;
            ep = n;
            improved = true;
          }
        }
      }
    }
    return ep;
  }
  // The neighbours of `id` at `level`: the row itself, or (while building in
  // parallel, when another thread may rewrite it) a copy taken under its lock
  // into `copy`.
  std::span<const InternalId> LinksOf(InternalId id, int level,
                                      std::vector<InternalId>* copy) const {
    if (NodeLock(id) != nullptr) {
      CopyLinks(id, level, copy);
      return *copy;
    }
    const uint32_t* row = Links(id, level);
    return {row + 1, row[0]};
  }
  // Keeps at most `max` of `candidates` (sorted nearest first) by the HNSW
  // neighbour-selection heuristic: a candidate is dropped when it is nearer to
  // an already kept neighbour than to the base node.
  // Returns whether the heuristic ran (at least `max` candidates, as in
  // hnswlib; fewer are all kept); only then is the result "closed": every
  // kept neighbour is farther from each nearer kept one than from the base
  // node.
  // With `newcomer`: `candidates` are a closed row plus that one node, so only
  // the pairs involving it are measured (the row's own pairs are known to
  // pass; dropping a member only makes later ones easier to keep): the same
  // result in ~2*max distances instead of ~max^2/2.
  bool SelectNeighbors(std::vector<Neighbor>* candidates, size_t max,
                       InternalId newcomer = kNoNode) const;
  // Distances from node `from` to each of `ids`, in one batch with prefetch
  // (bit for bit NodeDistance(from, id)).
  void NodeDistances(InternalId from, std::span<const InternalId> ids, float* out) const;
  void SetLinks(InternalId id, int level, const std::vector<Neighbor>& neighbors, bool closed);
  void AddBackLink(InternalId from, InternalId to, int level);
  // Neighbour repair before `id` is re-linked with a new vector (an update, a
  // re-staged update, or reuse of a deleted slot): at each of its levels, every
  // node its old links name that links back to it gets RepairLinks. No-op for
  // a node that was never linked. Returns whether `id` was linked.
  bool RepairOldNeighbors(InternalId id);
  // Recomputes the row of `node` at `level` when it still names `moved`, by
  // the selection heuristic over its own links plus `moved_links` (the old
  // links of `moved`), with distances to `moved`'s new vector. Holds only
  // `node`'s lock.
  void RepairLinks(InternalId node, InternalId moved, int level,
                   std::span<const InternalId> moved_links);
  // Copies the link row of `id` at `level` (under its lock while building in parallel).
  void CopyLinks(InternalId id, int level, std::vector<InternalId>* out) const;
  std::mutex* NodeLock(InternalId id) const;
  // --- int8 quantisation (hnsw_quantize.cc) ---
  // Trains the per-dimension code ranges on the live vectors (up to a sample)
  // and encodes every live node.
  void TrainQuantizer();
  void Encode(InternalId id);
  // Writes the codes of float row `vector` (1/|v| = `inv_norm`, cosine only)
  // to `out` and |decoded vector|^2 at out + codes_bytes_.
  void EncodeRow(const float* vector, float inv_norm, std::byte* out,
                 std::vector<float>* scratch) const;
  // Whether the block of `id` holds what Encode writes for its vector (zeros
  // for an empty node or before training). `expected`, `scratch`: reused space.
  bool CodesMatchVector(InternalId id, std::vector<std::byte>* expected,
                        std::vector<float>* scratch) const;

  // --- sketches (hnsw_sketch.cc) ---
  SketchQuery PrepareSketchQuery(const PreparedQuery& q) const;
  // out[i] = the sketch estimate of the distance from the query to ids[i].
  void SketchEstimates(const SketchQuery& code, std::span<const InternalId> ids, float* out) const;
  // Sketch pre-screening of a float graph search (hnsw_prescreen.cc): a
  // neighbour's float vector (1,536 bytes at 384-d) is fetched only when its
  // sketch estimate (128 bytes) says it could enter the results. The
  // estimate's error is learnt per query from the neighbours whose exact
  // distance is computed anyway (all of them until the results are full).
  struct Prescreen {
    SketchQuery code;
    std::vector<float> estimates;  // of the ids Screen kept, in order
    // Running mean and variance (Welford) of exact - estimate.
    double samples = 0.0;
    double mean = 0.0;
    double m2 = 0.0;
  };
  // A pre-screen for query `q`, or none (no sketches, or int8 traversal).
  std::optional<Prescreen> MakePrescreen(const PreparedQuery& q) const;
  // Keeps in ids[0, n) those whose estimate lies within the learnt error of
  // beating `bound` (every id while `bound` is infinite or too little is
  // learnt), in order; requests the kept ones' float vectors. Returns how many.
  size_t Screen(Prescreen* p, InternalId* ids, size_t n, float bound) const;
  // Learns from the exact distances of the ids Screen kept last.
  static void Learn(Prescreen* p, const float* exact, size_t n);
  const uint64_t* Sketch(InternalId id) const {
    return sketches_.data() + size_t{id} * sketch_stride_;
  }
  // Writes the sketch row of float row `vector` (1/|v| = `inv_norm`, cosine
  // only) to `out` (sketch_stride_ words): sketch_words_ words with bit i =
  // component i lies above the centre's, sketch_words_ words with bit i = its
  // distance from the centre is large, then two floats of the distance
  // estimate, then zero padding (hnsw_sketch.cc).
  void ComputeSketch(const float* vector, float inv_norm, uint64_t* out) const;
  // The query as sketches see it: (cosine: normalised) minus the centre.
  std::vector<float> CentredQuery(const PreparedQuery& q) const;
  // Recomputes the sketch of `id` from its stored vector (none kept below
  // kSketchMinDim).
  void UpdateSketch(InternalId id) {
    if (sketch_stride_ == 0)
      return;
    ComputeSketch(Vector(id), space_ == DistanceSpace::kCosine ? InvNorm(id) : 0.0f,
                  sketches_.data() + size_t{id} * sketch_stride_);
  }
  // Takes the mean of the stored vectors as the centre once there are
  // kSketchCentreMin of them (no-op before and after) and re-sketches every node.
  void MaybeCentreSketches();
  // The centre from the stored vectors (zero below kSketchCentreMin) and every
  // node's sketch: after a snapshot load, which does not store them.
  void RecomputeSketches();
  // The approximate top-k among `ids` (stored nodes only): the `rescore`
  // nearest by the sketch estimate (a 4-bit query code against each node's
  // two-bit code), rescored exactly, nearest first (ties by id).
  NeighborHeap SketchScan(const PreparedQuery& q, size_t k, std::span<const InternalId> ids,
                          size_t rescore) const;
  // SketchScan over the linked nodes `filter` accepts.
  NeighborHeap SketchScanAccepted(const PreparedQuery& q, size_t k, const IdFilter* filter) const;

  // --- snapshots (hnsw_snapshot.cc) ---
  // Corruption naming `path` unless every link, state, level and the entry
  // point are consistent.
  Status CheckStructure(const std::string& path) const;
  // Corruption naming `path` unless the int8 code ranges are finite and every
  // node's codes match its float vector (always Ok without quantisation).
  Status CheckQuantizer(const std::string& path) const;

  // --- search (hnsw_search.cc) ---
  // The ef nearest nodes `filter` accepts (live, linked) found by a
  // best-first search of layer 0 from `ep`, nearest first; every node guides
  // the traversal. One CandidatePool (candidate_pool.h) holds the candidates
  // and results. With `prescreen`, neighbours are screened by their sketches
  // first.
  template <typename Dist>
  NeighborHeap SearchBaseLayer(const Dist& dist, InternalId ep, size_t ef, const IdFilter* filter,
                               Prescreen* prescreen = nullptr) const;
  // The insert-time layer search (the ef_construction nearest to `q` at
  // `level` found from `ep`, never `self`, nearest first), with the search
  // path's memory handling: each expansion requests the vectors of all its
  // unvisited neighbours at once and computes their distances in one batch
  // call, and link rows are read in place unless building in parallel (then
  // copied under the node's lock). Every node is a candidate, so it keeps
  // one CandidatePool.
  NeighborHeap SearchLayerPrefetched(const PreparedQuery& q, InternalId ep, int level,
                                     InternalId self, VisitedList* visited) const;
  // --- bfloat16 construction copy (hnsw_mirror.cc) ---
  // Linking a large backlog searches the graph on a transient bfloat16 copy
  // of the vectors (half the bytes per distance; graph construction is bound
  // by fetching vectors) and ranks each node's candidates by exact float
  // distances before choosing its links.
  // Creates the copy for a backlog of `backlog` nodes if it pays (see
  // kMirrorMinBacklog), or extends it to the current nodes, and encodes the
  // rows of `nodes` (new or changed vectors about to be linked). Without
  // memory for it, linking just runs on the float vectors.
  void PrepareMirror(std::span<const InternalId> nodes, size_t backlog);
  // Frees the copy once no backlog is left.
  void ReleaseMirrorIfIdle();
  void EncodeMirrorRow(InternalId id);
  // Components of a copy row: dim_ rounded up to a whole cache line (32
  // bfloat16 values), the ones past dim_ zero.
  size_t MirrorComponents() const { return mirror_row_bytes_ / sizeof(uint16_t); }
  // `q.vector` zero-padded to MirrorComponents() for the copy's kernels.
  std::vector<float> MirrorPaddedQuery(const PreparedQuery& q) const;
  const uint16_t* MirrorRow(InternalId id) const {
    return reinterpret_cast<const uint16_t*>(mirror_.data() + size_t{id} * mirror_row_bytes_);
  }
  // Construction distances from `q` to `ids`: on the copy while it exists,
  // else exactly QueryDistances.
  void ConstructionDistances(const PreparedQuery& q, const InternalId* ids, size_t n,
                             float* out) const;
  // While the copy exists: replaces the distances of `candidates` (found on
  // the copy) by exact float ones. Their order is left to the caller.
  void RescoreExactly(const PreparedQuery& q, NeighborHeap* candidates) const;
  // The link row [count, ids...] of `id` at `level` for reading: the row
  // itself, or while building in parallel a copy (taken under the node's
  // lock) in `copy`, which has room for 1 + MaxLinks(level) entries.
  const uint32_t* ReadableLinks(InternalId id, int level, uint32_t* copy) const;
  // Replaces the (code) distances of `candidates` by exact ones.
  void Rerank(const PreparedQuery& q, NeighborHeap* candidates) const;
  // Marks the neighbours in link `row` visited, writes the ones not visited
  // before to `out` (sized for a full row) and prefetches their vectors (with
  // `screened`: their sketches, Screen fetches the vectors it keeps).
  // Returns how many it wrote.
  size_t CollectUnvisited(const uint32_t* row, VisitedList* visited, std::vector<InternalId>& out,
                          bool screened = false) const;
  // --- filtered search (hnsw_filtered_search.cc) ---
  // How SearchWithEf answers a filtered query (PickFilteredPath).
  // kScan: exact scan of the accepted nodes; kSketch: SketchScanAccepted.
  enum class FilteredPath { kGraph, kTwoHop, kScan, kSketch };
  // The share of a fixed sample of node slots that Accepts(filter), over the
  // live ones sampled: an estimate of the filter's selectivity.
  double SampledAcceptedFraction(const IdFilter* filter) const;
  // kScan or kSketch (by PickAllowedScan for the estimated accepted count)
  // when too few nodes are accepted for a graph search to stay connected,
  // kTwoHop for selective filters, kGraph (SearchBaseLayer) else.
  FilteredPath PickFilteredPath(const IdFilter* filter, size_t k) const;
  // SearchWithEf on the given path (kGraph when `filter` is null); the tests
  // compare the paths through HnswFilteredSearchPeer.
  std::vector<Neighbor> SearchWithPath(std::span<const float> query, size_t k, size_t ef,
                                       const IdFilter* filter, FilteredPath path) const;
  friend class HnswFilteredSearchPeer;
  friend class HnswSketchTestPeer;
  // The layer-0 search for selective filters (ACORN-1, Patel et al. 2024):
  // like SearchBaseLayer, but distances are computed for accepted nodes only,
  // found among each expanded node's neighbours and, through a neighbour that
  // is not accepted, that neighbour's neighbours (links read, vector not).
  // Candidates and results hold accepted nodes only; empty when none is found
  // within two hops of `ep`.
  template <typename Dist>
  NeighborHeap SearchTwoHop(const Dist& dist, std::span<const InternalId> entries, size_t ef,
                            const IdFilter* filter) const;
  // The layer-0 entries of a two-hop search: the greedy descent's node and
  // the nodes of a small beam search at kSeedLevel (each stands for a region
  // of about (2M)^2 layer-0 nodes, the reach of two hops), so that the
  // accepted nodes of several nearby regions seed the search even when no
  // two-hop path joins them (clustered data).
  template <typename Dist>
  std::vector<InternalId> TwoHopEntries(const Dist& dist) const;
  // The `width` nodes nearest to the query found by a best-first search of
  // `level` from `ep`, nearest first.
  template <typename Dist>
  std::vector<InternalId> BeamAtLevel(const Dist& dist, InternalId ep, int level,
                                      size_t width) const;
  // SearchTwoHop from TwoHopEntries.
  template <typename Dist>
  NeighborHeap SearchTwoHopFromTop(const Dist& dist, size_t ef, const IdFilter* filter) const;
  // Writes to `out` (its size is the cap) the accepted, unvisited nodes
  // within two hops of `id` (marking them and the not-accepted first hops
  // visited) and prefetches their traversal bytes. Returns how many it wrote.
  // `hops` is scratch room for a full layer-0 row.
  size_t CollectAcceptedTwoHop(InternalId id, const IdFilter* filter, VisitedList* visited,
                               std::vector<InternalId>& out, std::vector<InternalId>& hops) const;
  // The exact top-k among the linked nodes `filter` accepts (the fallback of
  // a two-hop search that found fewer than k).
  NeighborHeap ScanAccepted(const PreparedQuery& q, size_t k, const IdFilter* filter) const;

  // Whether a graph search may return `id` (linked, live, allowed).
  bool Accepts(InternalId id, const IdFilter* filter) const {
    return states_[id] == kLive && (filter == nullptr || filter->IsMember(id));
  }

  const size_t dim_;
  const DistanceSpace space_;
  const simd::Kernels* kernels_;
  HnswParams params_;
  double level_multiplier_;
  std::mt19937_64 level_rng_;

  const bool quantized_;
  size_t codes_bytes_ = 0;  // quantised: the codes' bytes (padded to 4)
  size_t links_offset_;     // bytes from a block's start to its layer-0 links
  size_t traverse_bytes_;   // bytes of a block a distance reads (vector or codes)
  size_t block_bytes_;
  size_t capacity_ = 0;  // nodes the block buffer holds
  GrowableBuffer blocks_;
  std::vector<uint8_t> levels_;
  std::vector<uint8_t> states_;
  // Per node: its layer-0 row is closed (see SelectNeighbors), so a back link
  // to a full row measures only the newcomer's pairs (SelectNeighbors with a
  // newcomer). Cleared by any unchecked
  // append. Not saved in snapshots (all rows count as open after a load).
  // After an update moves a vector, rows that link to it without being
  // repaired keep their flag although their distances changed; the selection
  // is then slightly less diverse than a full re-run, never invalid.
  std::vector<uint8_t> closed_rows_;
  // The bfloat16 construction copy: rows of dim values (cosine: of v / |v|),
  // padded to cache lines, for the first mirror_nodes_ nodes; empty when idle.
  GrowableBuffer mirror_;
  size_t mirror_nodes_ = 0;
  size_t mirror_row_bytes_ = 0;
  std::vector<std::unique_ptr<uint32_t[]>> upper_;
  size_t size_ = 0;
  size_t deleted_ = 0;  // tombstones; while 0, unfiltered search skips state checks
  // The kPending nodes, in no particular order, and each one's position in
  // the list (so a removal or re-link of one is O(1)).
  std::vector<InternalId> pending_list_;
  std::unordered_map<InternalId, size_t> pending_pos_;
  InternalId entry_point_ = kNoNode;
  int max_level_ = -1;

  // Only during a parallel batch insert: striped node locks and the lock that
  // guards entry_point_/max_level_.
  std::unique_ptr<std::mutex[]> node_locks_;
  mutable std::mutex entry_mu_;
  mutable VisitedPool visited_pool_;

  // int8 quantisation state (quantized_ only).
  FloatRows floats_;             // float vectors (+ 1/|v| for cosine)
  bool trained_ = false;         // codes valid; queries traverse on them
  std::vector<float> code_min_;  // per dimension: decoded = min + scale * code
  std::vector<float> code_scale_;

  // Sketches (every index, quantised or not).
  static constexpr size_t kSketchCentreMin = 1024;
  size_t sketch_words_;   // ceil(dim / 64)
  size_t sketch_stride_;  // words per node row, 0 = no sketches (SketchStride, hnsw_graph.cc)
  std::vector<uint64_t, CacheLineAllocator<uint64_t>> sketches_;  // sketch_stride_ per node slot
  std::vector<float> sketch_centre_;                              // dim values; empty = the origin
};

}  // namespace ksdb::index

#endif  // KSDB_INDEX_HNSW_GRAPH_H_
