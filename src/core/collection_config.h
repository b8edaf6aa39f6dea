// Collection configuration: distance space and HNSW parameters (spec §7).
#ifndef KSDB_CORE_COLLECTION_CONFIG_H_
#define KSDB_CORE_COLLECTION_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "core/metadata.h"

namespace ksdb {

// Distances exactly as Chroma computes them, in float32:
//   kL2: squared Euclidean; kCosine: 1 - cos(q, v) (0 vectors -> 1); kIp: 1 - q.v
enum class DistanceSpace : uint8_t { kL2 = 0, kCosine = 1, kIp = 2 };

const char* DistanceSpaceName(DistanceSpace space);  // "l2" | "cosine" | "ip"
std::optional<DistanceSpace> ParseDistanceSpace(std::string_view name);

struct HnswConfig {
  DistanceSpace space = DistanceSpace::kL2;
  uint32_t ef_construction = 100;
  uint32_t ef_search = 100;
  uint32_t max_neighbors = 16;  // M
  uint32_t num_threads = 0;     // 0 = number of CPUs
  double resize_factor = 1.2;
  uint32_t sync_threshold = 1000;
  uint32_t batch_size = 100;

  bool operator==(const HnswConfig&) const = default;
};

// Range checks (spec §12 #10): M >= 2, ef >= 1, sync_threshold/batch_size >= 2,
// resize_factor >= 1. Returns InvalidArgument naming the offending field.
Status ValidateHnswConfig(const HnswConfig& config);

// How the index stores vectors for traversal (a ksdb extension, set at
// creation under configuration.ksdb.quantization and fixed afterwards):
// kInt8 traverses on one byte per dimension and reranks in float32, whose
// vectors then live in a memory-mapped file beside the index snapshot.
enum class Quantization : uint8_t { kNone = 0, kInt8 = 1 };

const char* QuantizationName(Quantization quantization);  // "none" | "int8"
std::optional<Quantization> ParseQuantization(std::string_view name);

struct CollectionConfig {
  HnswConfig hnsw;
  // The client's embedding_function object, stored opaquely as raw JSON text and
  // echoed back; empty means JSON null.
  std::string embedding_function_json;
  Quantization quantization = Quantization::kNone;

  bool operator==(const CollectionConfig&) const = default;
};

// A partial change as sent by PUT new_configuration (fields that may change
// after creation, spec §7.2).
struct HnswConfigPatch {
  std::optional<uint32_t> ef_search;
  std::optional<uint32_t> max_neighbors;
  std::optional<uint32_t> num_threads;
  std::optional<double> resize_factor;
  std::optional<uint32_t> sync_threshold;
  std::optional<uint32_t> batch_size;
};
struct CollectionConfigPatch {
  HnswConfigPatch hnsw;
  std::optional<std::string> embedding_function_json;  // set = replace (may be "null")
};
void ApplyConfigPatch(const CollectionConfigPatch& patch, CollectionConfig* config);

// The legacy path (spec §7.1.2): reads `hnsw:*` keys of collection metadata into
// `config->hnsw`. Any unknown hnsw: key, wrong type or out-of-range value gives
// InvalidArgument "Failed to parse hnsw parameters from segment metadata".
Status ApplyLegacyHnswMetadata(const Metadata& metadata, HnswConfig* config);

// Binary encoding for the store (versioned; Decode returns Corruption on bad input).
std::string EncodeCollectionConfig(const CollectionConfig& config);
Result<CollectionConfig> DecodeCollectionConfig(std::string_view bytes);

}  // namespace ksdb

#endif  // KSDB_CORE_COLLECTION_CONFIG_H_
