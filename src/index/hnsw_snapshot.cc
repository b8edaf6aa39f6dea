// HNSW snapshot files: the whole graph in one file, written atomically.
//
// Layout (format version 2, little-endian, as the host writes it):
//   SnapshotHeader (fixed size, its own checksum last)
//   levels[num_nodes] u8, states[num_nodes] u8,
//   node blocks[num_nodes] (float index: vector, 1/|v| for cosine, layer-0
//   links, padding; int8 index: codes, |decoded|^2, layer-0 links, padding;
//   see hnsw_graph.h),
//   upper links: for each node with level > 0, in node order, level * (1 + m) u32
//   int8 only: when trained, code_min[dim] f32 and code_scale[dim] f32; then
//   the float rows[num_nodes] (dim f32, and 1/|v| for cosine)
//   user data (user_data_bytes, the caller's opaque bytes)
// The body checksum covers everything after the header. Loading checks the
// header, the exact file size, the checksum and then every structural
// invariant (link counts and targets, states, levels, entry point, and for
// int8 the code ranges and that every node's codes encode its float vector),
// so a damaged or foreign file is reported as Corruption and never used. A
// snapshot is only loaded with the quantisation it was written with; the
// engine rebuilds when a collection's configuration changed.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "common/checksum.h"
#include "common/file_io.h"
#include "index/hnsw_graph.h"

namespace ksdb::index {
namespace {

constexpr char kMagic[8] = {'K', 'S', 'D', 'B', 'H', 'N', 'S', 'W'};
// 2: the quantisation fields in the header and the int8 section.
constexpr uint32_t kFormatVersion = 2;
constexpr uint32_t kNoQuantization = 0;
constexpr uint32_t kInt8Quantization = 1;

struct SnapshotHeader {
  char magic[8];
  uint32_t version;
  uint32_t space;
  uint64_t dim;
  uint64_t m;
  uint64_t num_nodes;
  uint64_t size;
  uint64_t upper_words;
  uint64_t watermark;
  uint64_t user_data_bytes;
  uint32_t entry_point;
  int32_t max_level;
  uint32_t quantization;  // kNoQuantization or kInt8Quantization
  uint32_t trained;       // int8: 1 when the code ranges are trained, else 0
  uint64_t body_checksum;
  uint64_t header_checksum;  // of every byte above
};
static_assert(sizeof(SnapshotHeader) == 104, "snapshot header layout must not change silently");

uint64_t HeaderChecksum(const SnapshotHeader& header) {
  Checksum64 checksum;
  checksum.Update(&header, offsetof(SnapshotHeader, header_checksum));
  return checksum.Finish();
}

// Writes arrays to the file while folding them into the body checksum.
class BodyWriter {
 public:
  explicit BodyWriter(AtomicFileWriter* file) : file_(file) {}
  template <typename T>
  Status Put(const T* data, size_t count) {
    checksum_.Update(data, count * sizeof(T));
    return file_->Write(data, count * sizeof(T));
  }
  uint64_t checksum() const { return checksum_.Finish(); }

 private:
  AtomicFileWriter* file_;
  Checksum64 checksum_;
};

class BodyReader {
 public:
  explicit BodyReader(FileReader* file) : file_(file) {}
  template <typename T>
  Status Get(T* data, size_t count) {
    KSDB_RETURN_IF_ERROR(file_->Read(data, count * sizeof(T)));
    checksum_.Update(data, count * sizeof(T));
    return Status::Ok();
  }
  uint64_t checksum() const { return checksum_.Finish(); }

 private:
  FileReader* file_;
  Checksum64 checksum_;
};

Status Damaged(const std::string& path, const std::string& problem) {
  return Status::Corruption("index snapshot " + path + " is damaged: " + problem);
}

// The floats of one float row: the vector, and 1/|v| for cosine.
uint64_t RowFloats(uint64_t dim, uint32_t space) {
  return dim + (space == static_cast<uint32_t>(DistanceSpace::kCosine) ? 1 : 0);
}

// Bytes of the int8 section the header announces (0 for a float index).
uint64_t QuantizerBytes(const SnapshotHeader& header) {
  if (header.quantization != kInt8Quantization)
    return 0;
  const uint64_t ranges = header.trained != 0 ? 2 * header.dim * sizeof(float) : 0;
  return ranges + header.num_nodes * RowFloats(header.dim, header.space) * sizeof(float);
}

}  // namespace

Status HnswGraph::SaveSnapshot(const std::string& path, uint64_t watermark,
                               std::string_view user_data) const {
  KSDB_ASSIGN_OR_RETURN(AtomicFileWriter file, AtomicFileWriter::Create(path));
  SnapshotHeader header{};
  std::memcpy(header.magic, kMagic, sizeof(kMagic));
  header.version = kFormatVersion;
  header.space = static_cast<uint32_t>(space_);
  header.dim = dim_;
  header.m = params_.m;
  header.num_nodes = num_nodes();
  header.size = size_;
  for (size_t id = 0; id < num_nodes(); ++id)
    header.upper_words += size_t{levels_[id]} * (1 + params_.m);
  header.watermark = watermark;
  header.user_data_bytes = user_data.size();
  header.entry_point = entry_point_;
  header.max_level = max_level_;
  header.quantization = quantized_ ? kInt8Quantization : kNoQuantization;
  header.trained = trained_ ? 1 : 0;
  KSDB_RETURN_IF_ERROR(file.Write(&header, sizeof(header)));

  BodyWriter body(&file);
  KSDB_RETURN_IF_ERROR(body.Put(levels_.data(), levels_.size()));
  KSDB_RETURN_IF_ERROR(body.Put(states_.data(), states_.size()));
  KSDB_RETURN_IF_ERROR(body.Put(blocks_.data(), num_nodes() * block_bytes_));
  for (size_t id = 0; id < num_nodes(); ++id) {
    if (levels_[id] > 0)
      KSDB_RETURN_IF_ERROR(body.Put(upper_[id].get(), size_t{levels_[id]} * (1 + params_.m)));
  }
  if (quantized_) {
    if (trained_) {
      KSDB_RETURN_IF_ERROR(body.Put(code_min_.data(), dim_));
      KSDB_RETURN_IF_ERROR(body.Put(code_scale_.data(), dim_));
    }
    // The float rows are contiguous, on the heap or in the mapped file alike.
    KSDB_RETURN_IF_ERROR(body.Put(floats_.Row(0), num_nodes() * RowFloats(dim_, header.space)));
  }
  KSDB_RETURN_IF_ERROR(body.Put(user_data.data(), user_data.size()));
  header.body_checksum = body.checksum();
  header.header_checksum = HeaderChecksum(header);
  KSDB_RETURN_IF_ERROR(file.WriteAt(0, &header, sizeof(header)));
  return file.Commit();
}

namespace {

// Corruption unless the header's quantisation fields are well formed and match
// the configured one: a snapshot is only used with the quantisation it was
// written with (the engine rebuilds from the store otherwise).
Status CheckQuantization(const std::string& path, const SnapshotHeader& header,
                         const HnswParams& params) {
  if (header.quantization > kInt8Quantization || header.trained > 1 ||
      (header.quantization == kNoQuantization && header.trained != 0))
    return Damaged(path, "bad quantisation fields");
  if (header.quantization == kInt8Quantization && !params.quantize_int8)
    return Damaged(path, "written with int8 quantisation, the index is configured without it");
  if (header.quantization == kNoQuantization && params.quantize_int8)
    return Damaged(path, "written without int8 quantisation, the index is configured with it");
  return Status::Ok();
}

// Checks the header against itself and against what the caller expects.
Status CheckHeader(const std::string& path, const SnapshotHeader& header, uint64_t file_size,
                   size_t dim, DistanceSpace space, const HnswParams& params, size_t block_bytes) {
  if (std::memcmp(header.magic, kMagic, sizeof(kMagic)) != 0)
    return Damaged(path, "not a ksdb index snapshot (bad magic)");
  if (header.header_checksum != HeaderChecksum(header))
    return Damaged(path, "header checksum mismatch");
  if (header.version != kFormatVersion)
    return Damaged(path, "unsupported format version " + std::to_string(header.version));
  if (header.dim != dim || header.space != static_cast<uint32_t>(space) || header.m != params.m)
    return Damaged(path, "written for a different dimension, space or m");
  KSDB_RETURN_IF_ERROR(CheckQuantization(path, header, params));
  // Bound every count before multiplying, so a wild header cannot overflow.
  constexpr uint64_t kMaxNodes = uint64_t{1} << 32;
  if (header.num_nodes > kMaxNodes || header.size > header.num_nodes)
    return Damaged(path, "node counts out of range");
  const uint64_t n = header.num_nodes;
  uint64_t expected = sizeof(SnapshotHeader) + n * (2 + block_bytes) + QuantizerBytes(header);
  if (header.upper_words > n * 32 * (1 + params.m))
    return Damaged(path, "upper layer size out of range");
  expected += 4 * header.upper_words;
  if (header.user_data_bytes > file_size)
    return Damaged(path, "truncated (user data)");
  expected += header.user_data_bytes;
  if (file_size < expected)
    return Damaged(path, "truncated (" + std::to_string(file_size) + " of " +
                             std::to_string(expected) + " bytes)");
  if (file_size > expected)
    return Damaged(path, "unexpected trailing bytes");
  return Status::Ok();
}

// Reads the int8 section: the code ranges (when trained) and the float rows.
Status ReadQuantizer(BodyReader* body, const SnapshotHeader& header, std::vector<float>* code_min,
                     std::vector<float>* code_scale, FloatRows* floats) {
  if (header.trained != 0) {
    code_min->assign(header.dim, 0.0f);
    code_scale->assign(header.dim, 0.0f);
    KSDB_RETURN_IF_ERROR(body->Get(code_min->data(), code_min->size()));
    KSDB_RETURN_IF_ERROR(body->Get(code_scale->data(), code_scale->size()));
  }
  return body->Get(floats->Row(0), header.num_nodes * RowFloats(header.dim, header.space));
}

}  // namespace

Result<LoadedHnswSnapshot> LoadHnswSnapshot(const std::string& path, size_t dim,
                                            DistanceSpace space, const HnswParams& params) {
  KSDB_ASSIGN_OR_RETURN(FileReader file, FileReader::Open(path));
  SnapshotHeader header{};
  if (file.size() < sizeof(header))
    return Damaged(path, "truncated header");
  KSDB_RETURN_IF_ERROR(file.Read(&header, sizeof(header)));
  KSDB_ASSIGN_OR_RETURN(std::unique_ptr<HnswIndex> fresh, NewHnswIndex(dim, space, params));
  auto graph = std::unique_ptr<HnswGraph>(static_cast<HnswGraph*>(fresh.release()));
  KSDB_RETURN_IF_ERROR(
      CheckHeader(path, header, file.size(), dim, space, params, graph->block_bytes_));
  KSDB_RETURN_IF_ERROR(graph->GrowTo(header.num_nodes));

  BodyReader body(&file);
  KSDB_RETURN_IF_ERROR(body.Get(graph->levels_.data(), graph->levels_.size()));
  KSDB_RETURN_IF_ERROR(body.Get(graph->states_.data(), graph->states_.size()));
  KSDB_RETURN_IF_ERROR(body.Get(graph->blocks_.data(), header.num_nodes * graph->block_bytes_));
  uint64_t upper_words = 0;
  for (size_t id = 0; id < header.num_nodes; ++id) {
    const size_t level = graph->levels_[id];
    if (level == 0)
      continue;
    if (level > HnswGraph::kMaxLevel)
      return Damaged(path, "node level out of range");
    const size_t words = level * (1 + params.m);
    upper_words += words;
    if (upper_words > header.upper_words)
      return Damaged(path, "upper layer size does not match the node levels");
    graph->upper_[id] = std::make_unique<uint32_t[]>(words);
    KSDB_RETURN_IF_ERROR(body.Get(graph->upper_[id].get(), words));
  }
  if (upper_words != header.upper_words)
    return Damaged(path, "upper layer size does not match the node levels");
  if (graph->quantized_) {
    KSDB_RETURN_IF_ERROR(
        ReadQuantizer(&body, header, &graph->code_min_, &graph->code_scale_, &graph->floats_));
    graph->trained_ = header.trained != 0;
  }
  std::string user_data(header.user_data_bytes, '\0');
  KSDB_RETURN_IF_ERROR(body.Get(user_data.data(), user_data.size()));
  if (body.checksum() != header.body_checksum)
    return Damaged(path, "checksum mismatch");

  graph->size_ = header.size;
  graph->deleted_ = static_cast<size_t>(
      std::count(graph->states_.begin(), graph->states_.end(), HnswGraph::kDeleted));
  graph->entry_point_ = header.entry_point;
  graph->max_level_ = header.max_level;
  KSDB_RETURN_IF_ERROR(graph->CheckStructure(path));
  KSDB_RETURN_IF_ERROR(graph->CheckQuantizer(path));
  // Sketches are not saved: they follow from the vectors.
  graph->RecomputeSketches();
  for (size_t id = 0; id < header.num_nodes; ++id) {
    if (graph->states_[id] == HnswGraph::kPending)
      graph->AddPending(static_cast<InternalId>(id));
  }
  LoadedHnswSnapshot loaded;
  loaded.watermark = header.watermark;
  loaded.user_data = std::move(user_data);
  loaded.index = std::move(graph);
  return loaded;
}

// Every invariant search and insertion rely on, so that even a file with a
// valid checksum but inconsistent content cannot send them out of bounds.
Status HnswGraph::CheckStructure(const std::string& path) const {
  size_t live = 0;
  size_t linked = 0;
  for (size_t id = 0; id < num_nodes(); ++id) {
    if (states_[id] > kPending)
      return Damaged(path, "bad node state");
    if (states_[id] == kLive)
      ++linked;
    if (states_[id] == kLive || states_[id] == kPending)
      ++live;

    // An empty slot is written zeroed and never linked; when it becomes the
    // first node its layer-0 row is used as it is, so it must be empty.
    if (states_[id] == kEmpty) {
      if (Links(static_cast<InternalId>(id), 0)[0] != 0)
        return Damaged(path, "links on an empty node");
      continue;
    }
    // Upsert only stores finite vectors; NaN distances would break every
    // heap and sort order of the search.
    const float* v = Vector(static_cast<InternalId>(id));
    const size_t row_floats = dim_ + (space_ == DistanceSpace::kCosine ? 1 : 0);
    if (!std::all_of(v, v + row_floats, [](float x) { return std::isfinite(x); }))
      return Damaged(path, "non-finite vector");
    for (int level = 0; level <= levels_[id]; ++level) {
      const uint32_t* row = Links(static_cast<InternalId>(id), level);
      if (row[0] > MaxLinks(level))
        return Damaged(path, "too many links");
      for (uint32_t i = 1; i <= row[0]; ++i) {
        if (row[i] >= num_nodes() || states_[row[i]] == kEmpty || levels_[row[i]] < level)
          return Damaged(path, "link to a missing node");
      }
    }
  }
  if (live != size_)
    return Damaged(path, "live node count mismatch");

  if (entry_point_ == kNoNode) {
    if (max_level_ != -1 || linked != 0)
      return Damaged(path, "missing entry point");
    return Status::Ok();
  }
  if (entry_point_ >= num_nodes() || states_[entry_point_] == kEmpty ||
      levels_[entry_point_] != max_level_)
    return Damaged(path, "bad entry point");
  return Status::Ok();
}

// The int8 state must be what Upsert/Stage leave behind: finite code ranges
// with positive scales, and every node's codes exactly what Encode writes for
// its float vector (all zero before training), so traversal distances cannot
// be poisoned by a crafted file.
Status HnswGraph::CheckQuantizer(const std::string& path) const {
  if (!quantized_)
    return Status::Ok();
  if (trained_) {
    for (size_t d = 0; d < dim_; ++d) {
      if (!std::isfinite(code_min_[d]) || !std::isfinite(code_scale_[d]) ||
          !(code_scale_[d] > 0.0f))
        return Damaged(path, "bad int8 code range");
    }
  }
  std::vector<std::byte> expected;
  std::vector<float> scratch;
  for (size_t id = 0; id < num_nodes(); ++id) {
    if (!CodesMatchVector(static_cast<InternalId>(id), &expected, &scratch))
      return Damaged(path, "int8 codes do not match the vectors");
  }
  return Status::Ok();
}

}  // namespace ksdb::index
