#include "embed/safetensors.h"

#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "embed/file_util.h"

namespace ksdb::embed {
namespace {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

struct DtypeRow {
  Dtype dtype;
  const char* name;
  size_t size;
};
constexpr DtypeRow kDtypes[] = {
    {Dtype::kBool, "BOOL", 1}, {Dtype::kU8, "U8", 1},   {Dtype::kI8, "I8", 1},
    {Dtype::kU16, "U16", 2},   {Dtype::kI16, "I16", 2}, {Dtype::kF16, "F16", 2},
    {Dtype::kBF16, "BF16", 2}, {Dtype::kU32, "U32", 4}, {Dtype::kI32, "I32", 4},
    {Dtype::kF32, "F32", 4},   {Dtype::kU64, "U64", 8}, {Dtype::kI64, "I64", 8},
    {Dtype::kF64, "F64", 8},
};

Status Damaged(const std::string& path, const std::string& problem) {
  return Status::Corruption(path + ": damaged safetensors file: " + problem);
}

template <typename T>
T Load(const uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

// Parses one non-metadata header entry into `tensor`.
Status ParseTensorEntry(const std::string& path, simdjson::dom::element entry, TensorInfo* tensor) {
  const std::string where = "tensor '" + tensor->name + "': ";
  std::string_view dtype_name;
  if (entry["dtype"].get_string().get(dtype_name) != simdjson::SUCCESS) {
    return Damaged(path, where + "missing or non-string \"dtype\"");
  }
  std::optional<Dtype> dtype = ParseDtype(dtype_name);
  if (!dtype) {
    return Status::InvalidArgument(path + ": " + where + "unsupported dtype " +
                                   std::string(dtype_name));
  }
  tensor->dtype = *dtype;
  simdjson::dom::array shape;
  if (entry["shape"].get_array().get(shape) != simdjson::SUCCESS) {
    return Damaged(path, where + "missing or non-array \"shape\"");
  }
  for (simdjson::dom::element dim : shape) {
    uint64_t value;
    if (dim.get_uint64().get(value) != simdjson::SUCCESS) {
      return Damaged(path, where + "shape entries must be non-negative integers");
    }
    tensor->shape.push_back(value);
  }
  simdjson::dom::array offsets;
  if (entry["data_offsets"].get_array().get(offsets) != simdjson::SUCCESS || offsets.size() != 2 ||
      offsets.at(0).get_uint64().get(tensor->begin) != simdjson::SUCCESS ||
      offsets.at(1).get_uint64().get(tensor->end) != simdjson::SUCCESS) {
    return Damaged(path, where + "\"data_offsets\" must be [begin, end]");
  }
  if (tensor->begin > tensor->end)
    return Damaged(path, where + "data_offsets begin > end");
  uint64_t bytes = DtypeSize(tensor->dtype);
  for (uint64_t dim : tensor->shape) {
    if (dim != 0 && bytes > std::numeric_limits<uint64_t>::max() / dim) {
      return Damaged(path, where + "shape overflows");
    }
    bytes *= dim;
  }
  if (bytes != tensor->end - tensor->begin) {
    return Damaged(path, where + "shape and dtype need " + std::to_string(bytes) +
                             " bytes but data_offsets span " +
                             std::to_string(tensor->end - tensor->begin));
  }
  return Status::Ok();
}

// Every range inside the data section, and no two ranges overlapping.
Status CheckRanges(const std::string& path, std::vector<TensorInfo> tensors, uint64_t data_size) {
  std::sort(tensors.begin(), tensors.end(),
            [](const TensorInfo& a, const TensorInfo& b) { return a.begin < b.begin; });
  uint64_t previous_end = 0;
  for (const TensorInfo& tensor : tensors) {
    if (tensor.end > data_size) {
      return Damaged(path, "tensor '" + tensor.name + "' ends at byte " +
                               std::to_string(tensor.end) + " of a " + std::to_string(data_size) +
                               "-byte data section (file truncated?)");
    }
    if (tensor.begin < previous_end && tensor.begin != tensor.end) {
      return Damaged(path, "tensor '" + tensor.name + "' overlaps another tensor");
    }
    previous_end = std::max(previous_end, tensor.end);
  }
  return Status::Ok();
}

void AppendUint64Le(uint64_t value, std::string* out) {
  for (int i = 0; i < 8; ++i)
    out->push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

}  // namespace

const char* DtypeName(Dtype dtype) {
  for (const DtypeRow& row : kDtypes) {
    if (row.dtype == dtype)
      return row.name;
  }
  return "?";
}

std::optional<Dtype> ParseDtype(std::string_view name) {
  for (const DtypeRow& row : kDtypes) {
    if (name == row.name)
      return row.dtype;
  }
  return std::nullopt;
}

size_t DtypeSize(Dtype dtype) {
  for (const DtypeRow& row : kDtypes) {
    if (row.dtype == dtype)
      return row.size;
  }
  return 0;
}

uint64_t TensorInfo::NumElements() const {
  uint64_t count = 1;
  for (uint64_t dim : shape)
    count *= dim;
  return count;
}

float HalfToFloat(uint16_t bits) {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  uint32_t exponent = (bits >> 10) & 0x1F;
  uint32_t mantissa = bits & 0x3FF;
  uint32_t out;
  if (exponent == 0x1F) {
    out = sign | 0x7F800000 | (mantissa << 13);  // inf / nan
  } else if (exponent != 0) {
    out = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    out = sign;
  } else {
    // Subnormal half: renormalise the mantissa into a normal float.
    int shift = 0;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    out = sign | static_cast<uint32_t>((113 - shift) << 23) | ((mantissa & 0x3FF) << 13);
  }
  return std::bit_cast<float>(out);
}

float Bfloat16ToFloat(uint16_t bits) {
  return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
}

Result<SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  KSDB_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(path));
  return Parse(std::move(bytes), path);
}

Result<SafetensorsFile> SafetensorsFile::Parse(std::string bytes, const std::string& path) {
  if (bytes.size() < 8) {
    return Damaged(path, "file is " + std::to_string(bytes.size()) +
                             " bytes, shorter than the 8-byte header length");
  }
  uint64_t header_size = Load<uint64_t>(reinterpret_cast<const uint8_t*>(bytes.data()));
  if (header_size > kMaxHeaderBytes || header_size > bytes.size() - 8) {
    return Damaged(path, "header length " + std::to_string(header_size) +
                             " exceeds the file size " + std::to_string(bytes.size()));
  }
  simdjson::dom::parser parser;
  KSDB_ASSIGN_OR_RETURN(simdjson::dom::element root,
                        ParseJson(std::string_view(bytes).substr(8, header_size),
                                  path + " (safetensors header)", &parser));
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return Damaged(path, "header is not a JSON object");
  }
  SafetensorsFile file;
  file.path_ = path;
  for (auto field : object) {
    if (field.key == "__metadata__")
      continue;
    TensorInfo tensor;
    tensor.name = std::string(field.key);
    KSDB_RETURN_IF_ERROR(ParseTensorEntry(path, field.value, &tensor));
    file.tensors_.push_back(std::move(tensor));
  }
  file.data_start_ = 8 + header_size;
  KSDB_RETURN_IF_ERROR(CheckRanges(path, file.tensors_, bytes.size() - file.data_start_));
  file.bytes_ = std::move(bytes);
  return file;
}

const TensorInfo* SafetensorsFile::Find(std::string_view name) const {
  for (const TensorInfo& tensor : tensors_) {
    if (tensor.name == name)
      return &tensor;
  }
  return nullptr;
}

Result<const TensorInfo*> SafetensorsFile::Require(std::string_view name) const {
  const TensorInfo* tensor = Find(name);
  if (tensor == nullptr) {
    return Status::NotFound(path_ + ": no tensor '" + std::string(name) + "'");
  }
  return tensor;
}

const uint8_t* SafetensorsFile::DataOf(const TensorInfo& tensor) const {
  return reinterpret_cast<const uint8_t*>(bytes_.data()) + data_start_ + tensor.begin;
}

Result<std::vector<float>> SafetensorsFile::ReadFloats(std::string_view name) const {
  KSDB_ASSIGN_OR_RETURN(const TensorInfo* tensor, Require(name));
  const uint8_t* data = DataOf(*tensor);
  std::vector<float> out(tensor->NumElements());
  switch (tensor->dtype) {
    case Dtype::kF32:
      if (!out.empty())
        std::memcpy(out.data(), data, out.size() * sizeof(float));
      break;
    case Dtype::kF16:
      for (size_t i = 0; i < out.size(); ++i)
        out[i] = HalfToFloat(Load<uint16_t>(data + 2 * i));
      break;
    case Dtype::kBF16:
      for (size_t i = 0; i < out.size(); ++i)
        out[i] = Bfloat16ToFloat(Load<uint16_t>(data + 2 * i));
      break;
    case Dtype::kF64:
      for (size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<float>(Load<double>(data + 8 * i));
      break;
    default:
      return Status::InvalidArgument(path_ + ": tensor '" + std::string(name) + "' has dtype " +
                                     DtypeName(tensor->dtype) + ", expected F32, F16, BF16 or F64");
  }
  return out;
}

Result<std::vector<int64_t>> SafetensorsFile::ReadIntegers(std::string_view name) const {
  KSDB_ASSIGN_OR_RETURN(const TensorInfo* tensor, Require(name));
  const uint8_t* data = DataOf(*tensor);
  std::vector<int64_t> out(tensor->NumElements());
  for (size_t i = 0; i < out.size(); ++i) {
    switch (tensor->dtype) {
      case Dtype::kU8:
        out[i] = data[i];
        break;
      case Dtype::kI8:
        out[i] = static_cast<int8_t>(data[i]);
        break;
      case Dtype::kU16:
        out[i] = Load<uint16_t>(data + 2 * i);
        break;
      case Dtype::kI16:
        out[i] = Load<int16_t>(data + 2 * i);
        break;
      case Dtype::kU32:
        out[i] = Load<uint32_t>(data + 4 * i);
        break;
      case Dtype::kI32:
        out[i] = Load<int32_t>(data + 4 * i);
        break;
      case Dtype::kI64:
        out[i] = Load<int64_t>(data + 8 * i);
        break;
      case Dtype::kU64: {
        uint64_t value = Load<uint64_t>(data + 8 * i);
        if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return Status::InvalidArgument(path_ + ": tensor '" + std::string(name) +
                                         "' holds a U64 value too large for an index");
        }
        out[i] = static_cast<int64_t>(value);
        break;
      }
      default:
        return Status::InvalidArgument(path_ + ": tensor '" + std::string(name) + "' has dtype " +
                                       DtypeName(tensor->dtype) + ", expected an integer dtype");
    }
  }
  return out;
}

std::string SerializeSafetensors(std::span<const TensorToWrite> tensors,
                                 std::span<const std::pair<std::string, std::string>> metadata) {
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (size_t i = 0; i < metadata.size(); ++i) {
      if (i > 0)
        header += ',';
      AppendJsonString(metadata[i].first, &header);
      header += ':';
      AppendJsonString(metadata[i].second, &header);
    }
    header += '}';
  }
  uint64_t offset = 0;
  for (const TensorToWrite& tensor : tensors) {
    if (header.size() > 1)
      header += ',';
    AppendJsonString(tensor.name, &header);
    header += ":{\"dtype\":\"";
    header += DtypeName(tensor.dtype);
    header += "\",\"shape\":[";
    for (size_t i = 0; i < tensor.shape.size(); ++i) {
      if (i > 0)
        header += ',';
      header += std::to_string(tensor.shape[i]);
    }
    header += "],\"data_offsets\":[" + std::to_string(offset) + ',' +
              std::to_string(offset + tensor.data.size()) + "]}";
    offset += tensor.data.size();
  }
  header += '}';
  while ((8 + header.size()) % 8 != 0)
    header += ' ';
  std::string out;
  out.reserve(8 + header.size() + offset);
  AppendUint64Le(header.size(), &out);
  out += header;
  for (const TensorToWrite& tensor : tensors)
    out.append(tensor.data);
  return out;
}

}  // namespace ksdb::embed
