#include "core/collection_config.h"

#include <cmath>
#include <cstring>

namespace ksdb {

const char* DistanceSpaceName(DistanceSpace space) {
  switch (space) {
    case DistanceSpace::kL2: return "l2";
    case DistanceSpace::kCosine: return "cosine";
    case DistanceSpace::kIp: return "ip";
  }
  return "l2";
}

std::optional<DistanceSpace> ParseDistanceSpace(std::string_view name) {
  if (name == "l2") return DistanceSpace::kL2;
  if (name == "cosine") return DistanceSpace::kCosine;
  if (name == "ip") return DistanceSpace::kIp;
  return std::nullopt;
}

const char* QuantizationName(Quantization quantization) {
  return quantization == Quantization::kInt8 ? "int8" : "none";
}

std::optional<Quantization> ParseQuantization(std::string_view name) {
  if (name == "none") return Quantization::kNone;
  if (name == "int8") return Quantization::kInt8;
  return std::nullopt;
}

Status ValidateHnswConfig(const HnswConfig& c) {
  // Upper bounds keep a single collection from asking for absurd memory.
  if (c.max_neighbors < 2 || c.max_neighbors > 2048) {
    return Status::InvalidArgument("Invalid HNSW configuration: max_neighbors must be in [2, 2048]");
  }
  if (c.ef_construction < 1 || c.ef_construction > 1'000'000) {
    return Status::InvalidArgument("Invalid HNSW configuration: ef_construction must be in [1, 1000000]");
  }
  if (c.ef_search < 1 || c.ef_search > 1'000'000) {
    return Status::InvalidArgument("Invalid HNSW configuration: ef_search must be in [1, 1000000]");
  }
  if (c.sync_threshold < 2) {
    return Status::InvalidArgument("Invalid HNSW configuration: sync_threshold must be >= 2");
  }
  if (c.batch_size < 2) {
    return Status::InvalidArgument("Invalid HNSW configuration: batch_size must be >= 2");
  }
  if (!(c.resize_factor >= 1.0) || !std::isfinite(c.resize_factor)) {
    return Status::InvalidArgument("Invalid HNSW configuration: resize_factor must be >= 1");
  }
  if (c.num_threads > 4096) {
    return Status::InvalidArgument("Invalid HNSW configuration: num_threads must be <= 4096");
  }
  return Status::Ok();
}

void ApplyConfigPatch(const CollectionConfigPatch& patch, CollectionConfig* config) {
  const HnswConfigPatch& h = patch.hnsw;
  if (h.ef_search) config->hnsw.ef_search = *h.ef_search;
  if (h.max_neighbors) config->hnsw.max_neighbors = *h.max_neighbors;
  if (h.num_threads) config->hnsw.num_threads = *h.num_threads;
  if (h.resize_factor) config->hnsw.resize_factor = *h.resize_factor;
  if (h.sync_threshold) config->hnsw.sync_threshold = *h.sync_threshold;
  if (h.batch_size) config->hnsw.batch_size = *h.batch_size;
  if (patch.embedding_function_json) {
    config->embedding_function_json =
        *patch.embedding_function_json == "null" ? "" : *patch.embedding_function_json;
  }
}

namespace {

Status LegacyError() {
  return Status::InvalidArgument("Failed to parse hnsw parameters from segment metadata");
}

// Legacy integer parameters must be non-negative integers that fit u32.
bool LegacyUint(const MetadataValue& v, uint32_t* out) {
  const int64_t* i = std::get_if<int64_t>(&v);
  if (i == nullptr || *i < 0 || *i > UINT32_MAX) return false;
  *out = static_cast<uint32_t>(*i);
  return true;
}

}  // namespace

Status ApplyLegacyHnswMetadata(const Metadata& metadata, HnswConfig* config) {
  HnswConfig c = *config;
  for (const auto& [key, value] : metadata.entries()) {
    if (key.rfind("hnsw:", 0) != 0) continue;
    std::string_view name = std::string_view(key).substr(5);
    bool ok = true;
    if (name == "space") {
      const std::string* s = std::get_if<std::string>(&value);
      auto space = s ? ParseDistanceSpace(*s) : std::nullopt;
      ok = space.has_value();
      if (ok) c.space = *space;
    } else if (name == "construction_ef") {
      ok = LegacyUint(value, &c.ef_construction);
    } else if (name == "search_ef") {
      ok = LegacyUint(value, &c.ef_search);
    } else if (name == "M") {
      ok = LegacyUint(value, &c.max_neighbors);
    } else if (name == "num_threads") {
      ok = LegacyUint(value, &c.num_threads);
    } else if (name == "sync_threshold") {
      ok = LegacyUint(value, &c.sync_threshold) && c.sync_threshold >= 2;
    } else if (name == "batch_size") {
      ok = LegacyUint(value, &c.batch_size) && c.batch_size >= 2;
    } else if (name == "resize_factor") {
      if (const double* d = std::get_if<double>(&value)) {
        c.resize_factor = *d;
      } else if (const int64_t* i = std::get_if<int64_t>(&value)) {
        c.resize_factor = static_cast<double>(*i);
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    if (!ok) return LegacyError();
  }
  if (!ValidateHnswConfig(c).ok()) return LegacyError();
  *config = c;
  return Status::Ok();
}

// Encoding v1: byte version(1), byte space, u32 x7 (ef_construction, ef_search,
// max_neighbors, num_threads, sync_threshold, batch_size, ef-json length),
// f64 resize_factor, then the embedding-function JSON bytes.
namespace {

void PutU32(uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

bool GetU32(std::string_view in, size_t* pos, uint32_t* v) {
  if (in.size() - *pos < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) *v |= static_cast<uint32_t>(static_cast<uint8_t>(in[*pos + i])) << (8 * i);
  *pos += 4;
  return true;
}

}  // namespace

std::string EncodeCollectionConfig(const CollectionConfig& config) {
  std::string out;
  const HnswConfig& h = config.hnsw;
  // Version 2 added the quantization byte after resize_factor.
  out.push_back(2);
  out.push_back(static_cast<char>(h.space));
  PutU32(h.ef_construction, &out);
  PutU32(h.ef_search, &out);
  PutU32(h.max_neighbors, &out);
  PutU32(h.num_threads, &out);
  PutU32(h.sync_threshold, &out);
  PutU32(h.batch_size, &out);
  PutU32(static_cast<uint32_t>(config.embedding_function_json.size()), &out);
  char buf[8];
  std::memcpy(buf, &h.resize_factor, 8);
  out.append(buf, 8);
  out.push_back(static_cast<char>(config.quantization));
  out += config.embedding_function_json;
  return out;
}

Result<CollectionConfig> DecodeCollectionConfig(std::string_view in) {
  const uint8_t version = in.empty() ? 0 : static_cast<uint8_t>(in[0]);
  if (in.size() < 2 || (version != 1 && version != 2) || static_cast<uint8_t>(in[1]) > 2) {
    return Status::Corruption("bad collection configuration header");
  }
  CollectionConfig config;
  HnswConfig& h = config.hnsw;
  h.space = static_cast<DistanceSpace>(in[1]);
  size_t pos = 2;
  uint32_t ef_len = 0;
  bool ok = GetU32(in, &pos, &h.ef_construction) && GetU32(in, &pos, &h.ef_search) &&
            GetU32(in, &pos, &h.max_neighbors) && GetU32(in, &pos, &h.num_threads) &&
            GetU32(in, &pos, &h.sync_threshold) && GetU32(in, &pos, &h.batch_size) &&
            GetU32(in, &pos, &ef_len);
  const size_t fixed = version == 2 ? 9 : 8;  // resize_factor (+ quantization)
  if (!ok || in.size() - pos < fixed || in.size() - pos - fixed != ef_len) {
    return Status::Corruption("truncated collection configuration");
  }
  std::memcpy(&h.resize_factor, in.data() + pos, 8);
  if (version == 2) {
    const uint8_t q = static_cast<uint8_t>(in[pos + 8]);
    if (q > static_cast<uint8_t>(Quantization::kInt8)) {
      return Status::Corruption("bad collection configuration quantization");
    }
    config.quantization = static_cast<Quantization>(q);
  }
  config.embedding_function_json.assign(in.substr(pos + fixed));
  return config;
}

}  // namespace ksdb
