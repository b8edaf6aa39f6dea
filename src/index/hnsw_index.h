// HnswIndex: ksdb's own HNSW graph (Malkov & Yashunin, "Efficient and robust
// approximate nearest neighbor search using Hierarchical Navigable Small World
// graphs") behind the VectorIndex interface.
//
// Node numbers are the engine's InternalIds (dense slot numbers), so no label
// map is kept: a removed id's node stays in the graph as a traversable
// tombstone until the next insert into its slot re-links it. Filtered search
// (hnsw_filtered_search.cc) picks by the filter's sampled selectivity: broad
// filters traverse every node and only gate the results, selective ones
// compute distances only for allowed nodes, reached through the links of
// disallowed neighbours (two hops), and the most selective scan the allowed
// nodes: exactly when that is cheap, else by a two-bit sketch per node (an
// estimated distance from popcounts) with the best few rescored exactly
// (PickAllowedScan, hnsw_sketch.cc).
//
// Optional int8 scalar quantisation keeps a one-byte-per-dimension copy for
// traversal and reranks the candidates with the float32 vectors.
//
// Thread safety: as VectorIndex. Upsert of a batch may use several threads
// internally (params.num_threads); the caller still holds exclusive access.
#ifndef KSDB_INDEX_HNSW_INDEX_H_
#define KSDB_INDEX_HNSW_INDEX_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "index/vector_index.h"

namespace ksdb::index {

struct HnswParams {
  size_t m = 16;                 // links per node on upper layers; layer 0 keeps 2*m
  size_t ef_construction = 200;  // candidate list size while inserting
  size_t ef_search = 100;        // default candidate list size while searching (>= k is used)
  size_t num_threads = 1;        // threads for batch Upsert; 0 = hardware concurrency
  bool quantize_int8 = false;    // traverse on int8 codes, rerank in float32
  // With quantize_int8: the float32 vectors live in a memory-mapped scratch
  // file created at this path (unlinked at once) instead of on the heap.
  std::string vectors_file;
  uint64_t seed = 0x6b736462;  // level generator seed ("ksdb"): builds are reproducible
};

class HnswIndex : public VectorIndex {
 public:
  // Search with an explicit candidate list size `ef` (max(ef, k) is used).
  virtual std::vector<Neighbor> SearchWithEf(std::span<const float> query, size_t k, size_t ef,
                                             const IdFilter* filter) const = 0;
  // Exact brute force over every stored vector `filter` accepts (small
  // collections, and the oracle for tests).
  virtual std::vector<Neighbor> ExactSearch(std::span<const float> query, size_t k,
                                            const IdFilter* filter) const = 0;
  // The k nearest among `candidates` as the engine answers a selective
  // filter from its list of matching ids: SearchAmong's exact scan when
  // PickAllowedScan says kExact, else the sketch scan (the nearest few by
  // two-bit sketch rescored exactly: distances are exact, a true neighbour may
  // be missed; recall@10 measured >= 0.95, bench/RESULTS.md). Same contract
  // as SearchAmong otherwise (stored ids only, nearest first, ties by id).
  virtual std::vector<Neighbor> SearchAllowed(std::span<const float> query, size_t k,
                                              std::span<const InternalId> candidates) const = 0;
  // Stores the vectors of `ids` like Upsert but does not link them into the
  // graph yet: they are searchable at once (every search scans the staged
  // vectors exactly and merges them with the graph's results), and
  // LinkPending moves them into the graph later. This is how writes return
  // without paying for graph construction. Same errors as Upsert; on error
  // nothing changed.
  virtual Status Stage(std::span<const InternalId> ids, std::span<const float> vectors) = 0;
  // Stage with ids[i]'s vector at rows[i] (dim() floats each), for callers
  // whose vectors are not in one array: gathering them first costs a fresh
  // copy of the whole batch (megabytes, faulted in page by page) per write.
  virtual Status StageRows(std::span<const InternalId> ids,
                           std::span<const float* const> rows) = 0;
  // Links up to `max_nodes` staged vectors into the graph (on params.num_threads
  // threads, at most `max_threads` of them unless 0) and returns how many it
  // linked. Once `interrupt` (if given) returns true it stops between nodes
  // (it is asked before each two, from every linking thread, after each
  // thread's first two: a call links something whenever anything is
  // pending, so 0 still means nothing is); those it did not reach stay
  // staged. That lets a caller holding a lock for it hand the lock to a
  // waiting request within a node's link or two (~0.1-0.3 ms at 384-d)
  // instead of the whole batch. Needs exclusive access.
  virtual size_t LinkPending(size_t max_nodes, size_t max_threads = 0,
                             const std::function<bool()>& interrupt = {}) = 0;
  // Staged vectors not linked yet.
  virtual size_t pending() const = 0;
  // Allocates room for ids below `num_nodes`, so a later Stage or Upsert of
  // such ids cannot fail on memory or on growing the mapped vectors file. The
  // engine calls it before committing a write it will then apply.
  virtual Status Reserve(size_t num_nodes) = 0;
  // Faults in the memory of nodes [first, first + count), which Reserve made
  // room for, so that the Stage or Upsert that fills them need not wait for
  // the kernel to supply it. Changes nothing observable. May run on another
  // thread while the caller does other work (the engine: the record store's
  // commit), provided nothing else uses the index meanwhile.
  virtual void Prefault(size_t first, size_t count) const = 0;
  // Changes the defaults used by Search / batch Upsert. Needs exclusive access.
  virtual void SetEfSearch(size_t ef_search) = 0;
  virtual void SetNumThreads(size_t num_threads) = 0;
  virtual const HnswParams& params() const = 0;

  // Writes a snapshot of the whole index to `path` atomically (temp file,
  // fsync, rename, fsync of the directory) with a checksum, `watermark` (the
  // record-store sequence number the index reflects) and `user_data`, opaque
  // bytes of the caller's stored and checked with the index (the engine keeps
  // its node -> record id map there).
  virtual Status SaveSnapshot(const std::string& path, uint64_t watermark,
                              std::string_view user_data = {}) const = 0;
};

// A new empty index. InvalidArgument when dim == 0 or m < 2 or ef_construction == 0.
Result<std::unique_ptr<HnswIndex>> NewHnswIndex(size_t dim, DistanceSpace space,
                                                const HnswParams& params);

struct LoadedHnswSnapshot {
  std::unique_ptr<HnswIndex> index;
  uint64_t watermark = 0;
  std::string user_data;
};

// Whether the engine should scan the `allowed` matching `dim`-dimensional
// vectors (SearchAllowed: exact or sketch scan, see PickAllowedScan) instead of running a filtered
// graph search with candidate list `ef` over `live` vectors (SearchWithEf with the filter). Filters
// accepting at least 2.5% of the vectors get the two-hop filtered search
// (distances for accepted nodes only); the scan wins while
// allowed * dim < 15,000 * ef (measured crossovers: ~39 * ef at 384-d, ~150 *
// ef at 100-d); below 2.5% the two-hop search loses recall (too few accepted
// nodes within two hops) and the scan is always chosen. The constants come
// from bench/ann's filtered sweep (bench/RESULTS.md).
bool PreferExactScan(size_t allowed, size_t live, size_t ef, size_t dim);

// How a scan of `allowed` `dim`-dimensional vectors for the top `k` runs.
enum class AllowedScan {
  kExact,   // every allowed vector's exact distance
  kSketch,  // an estimate from every allowed node's sketch, the best few rescored
};
// The cheaper scan by the measured cost model (hnsw_sketch.cc): the sketch
// scan once reading every allowed vector costs more than reading every
// allowed sketch row plus the rescored vectors (never below 64 dimensions;
// at 100-d the exact scan measured as fast as the sketch score alone).
AllowedScan PickAllowedScan(size_t allowed, size_t k, size_t dim);

// Loads a snapshot written by SaveSnapshot. Corruption (naming the file and the
// problem) when it is truncated, fails its checksum, or was written for another
// dim/space/m; NotFound when the file does not exist. Never trusts a bad file.
Result<LoadedHnswSnapshot> LoadHnswSnapshot(const std::string& path, size_t dim,
                                            DistanceSpace space, const HnswParams& params);

}  // namespace ksdb::index

#endif  // KSDB_INDEX_HNSW_INDEX_H_
