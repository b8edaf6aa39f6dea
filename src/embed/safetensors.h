// Our own reader and writer for the safetensors format: an 8-byte little-endian header
// length N, N bytes of JSON header ({"name": {"dtype","shape","data_offsets"}, optional
// "__metadata__": {str: str}}), then the raw little-endian tensor bytes.
#ifndef KSDB_EMBED_SAFETENSORS_H_
#define KSDB_EMBED_SAFETENSORS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace ksdb::embed {

enum class Dtype : uint8_t {
  kBool,
  kU8,
  kI8,
  kU16,
  kI16,
  kF16,
  kBF16,
  kU32,
  kI32,
  kF32,
  kU64,
  kI64,
  kF64
};

// "F32", "I64", ...
const char* DtypeName(Dtype dtype);
std::optional<Dtype> ParseDtype(std::string_view name);
size_t DtypeSize(Dtype dtype);

struct TensorInfo {
  std::string name;
  Dtype dtype = Dtype::kF32;
  std::vector<uint64_t> shape;
  uint64_t begin = 0;  // byte offsets into the data section
  uint64_t end = 0;

  uint64_t NumElements() const;
};

// A parsed, validated safetensors file held in memory. Immutable after Open, so
// concurrent reads are safe.
class SafetensorsFile {
 public:
  // Reads and validates `path`: header length within the file, header JSON an object,
  // known dtypes, shapes whose byte size equals the data range, ranges inside the data
  // section and not overlapping. Errors (Corruption for damaged files, InvalidArgument
  // for unsupported content, IoError for I/O) name the file and the problem.
  static Result<SafetensorsFile> Open(const std::string& path);
  // The same checks on bytes already in memory; `path` only names them in errors.
  static Result<SafetensorsFile> Parse(std::string bytes, const std::string& path);

  // nullptr when there is no tensor `name`.
  const TensorInfo* Find(std::string_view name) const;
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::string& path() const { return path_; }

  // The tensor's elements converted to float32 (from F32, F16, BF16 or F64).
  // NotFound when missing; InvalidArgument for other dtypes.
  Result<std::vector<float>> ReadFloats(std::string_view name) const;
  // The tensor's elements as int64 (from any integer dtype). NotFound / InvalidArgument.
  Result<std::vector<int64_t>> ReadIntegers(std::string_view name) const;

 private:
  SafetensorsFile() = default;
  Result<const TensorInfo*> Require(std::string_view name) const;
  const uint8_t* DataOf(const TensorInfo& tensor) const;

  std::string path_;
  std::string bytes_;
  size_t data_start_ = 0;
  std::vector<TensorInfo> tensors_;
};

// One tensor for SerializeSafetensors; `data` holds its little-endian bytes.
struct TensorToWrite {
  std::string name;
  Dtype dtype = Dtype::kF32;
  std::vector<uint64_t> shape;
  std::string_view data;
};

// The safetensors bytes for `tensors` (laid out in the given order) with optional
// string metadata, header padded with spaces to a multiple of 8 bytes. The header is
// compact JSON: "__metadata__" first, then the tensors in order.
std::string SerializeSafetensors(std::span<const TensorToWrite> tensors,
                                 std::span<const std::pair<std::string, std::string>> metadata);

// Converts one IEEE half / bfloat16 value to float.
float HalfToFloat(uint16_t bits);
float Bfloat16ToFloat(uint16_t bits);

}  // namespace ksdb::embed

#endif  // KSDB_EMBED_SAFETENSORS_H_
