// VectorIndex: the interface every vector index implements (exact flat search
// now, HNSW later). The engine owns the mapping from record ids to dense
// InternalIds; the index stores vectors under those ids.
//
// Thread safety: const methods may run concurrently with each other; mutating
// methods need exclusive access (the engine's per-collection lock provides it).
#ifndef KSDB_INDEX_VECTOR_INDEX_H_
#define KSDB_INDEX_VECTOR_INDEX_H_

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "common/status.h"
#include "core/collection_config.h"
#include "core/id_filter.h"

namespace ksdb::index {

struct Neighbor {
  float distance;
  InternalId internal_id;
};

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;

  virtual size_t dim() const = 0;
  virtual DistanceSpace space() const = 0;
  // Number of vectors stored.
  virtual size_t size() const = 0;

  // Inserts or replaces the vectors of `ids`. `vectors` is row-major,
  // ids.size() * dim() floats, all finite. On error nothing changed.
  virtual Status Upsert(std::span<const InternalId> ids, std::span<const float> vectors) = 0;
  // Removes `ids`; unknown ids are ignored.
  virtual void Remove(std::span<const InternalId> ids) = 0;
  virtual bool Contains(InternalId id) const = 0;
  // The vector stored for `id` exactly as given to Upsert (cosine indexes do not
  // return normalised copies), or an empty span when absent. Valid until the
  // next mutation.
  virtual std::span<const float> GetVector(InternalId id) const = 0;

  // The k nearest vectors to `query` (dim() floats) among those `filter`
  // accepts (nullptr: all), nearest first; ties broken by smaller internal id.
  // Returns fewer than k when fewer match.
  virtual std::vector<Neighbor> Search(std::span<const float> query, size_t k,
                                       const IdFilter* filter) const = 0;
  // The exact k nearest among `candidates` (ids not stored are skipped; each id
  // at most once), nearest first, ties by smaller internal id: the engine's
  // choice for selective filters, where scanning the few matches beats a graph.
  virtual std::vector<Neighbor> SearchAmong(std::span<const float> query, size_t k,
                                            std::span<const InternalId> candidates) const = 0;

  // Heap bytes held, for memory accounting.
  virtual size_t MemoryBytes() const = 0;
};

// An exact brute-force index (SIMD kernels). Upsert/Remove O(dim); Search
// O(size * dim). Also the oracle that approximate indexes are tested against.
std::unique_ptr<VectorIndex> NewFlatIndex(size_t dim, DistanceSpace space);

}  // namespace ksdb::index

#endif  // KSDB_INDEX_VECTOR_INDEX_H_
