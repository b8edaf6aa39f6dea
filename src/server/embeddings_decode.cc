#include "server/embeddings_decode.h"

#include <cmath>
#include <string>

#include "server/base64.h"

namespace ksdb::server {
namespace {

enum class RowKind { kNone, kNumbers, kBase64 };

// The smallest magnitude that rounds to infinity as float32: halfway between
// FLT_MAX (0x1.fffffep127) and 2^128 (ties go to the even mantissa, 2^128).
// Literals such as 3.4028235e38 exceed FLT_MAX as doubles yet round to it.
constexpr double kFloat32Overflow = 0x1.ffffffp127;

Status EmptyEmbeddingError() {
  return Status::InvalidArgument(
      "Validation error: embeddings: Each embedding must have at least 1 dimension");
}

Status InconsistentDimensionsError() {
  return Status::InvalidArgument("Inconsistent dimensions in provided embeddings");
}

// Checks that the non-null entries are all number arrays or all base64
// strings; 422 on anything else or a mix.
Status CheckRowKinds(const JsonArray& rows, std::string_view path,
                     const EmbeddingsOptions& options) {
  RowKind kind = RowKind::kNone;
  size_t index = 0;
  for (JsonElement row : rows) {
    RowKind row_kind = RowKind::kNone;
    if (row.is_array()) {
      row_kind = RowKind::kNumbers;
    } else if (row.is_string() && options.allow_base64) {
      row_kind = RowKind::kBase64;
    } else if (row.is_null() && options.allow_null_rows) {
      ++index;
      continue;
    } else if (options.allow_base64) {
      return UntaggedEmbeddingsError(path);
    } else {
      return InvalidType(IndexPath(path, index), row, "a sequence");
    }
    if (kind != RowKind::kNone && kind != row_kind)
      return UntaggedEmbeddingsError(path);
    kind = row_kind;
    ++index;
  }
  return Status::Ok();
}

// The dimension of one non-null row (number count or decoded float count).
Result<size_t> RowDimension(const JsonElement& row) {
  if (row.is_array())
    return row.get_array().value_unsafe().size();
  return Base64FloatCount(row.get_string().value_unsafe());
}

// Writes one number row into `out` (nullptr = only check the shape).
Status DecodeNumberRow(const JsonArray& row, std::string_view path, size_t row_index, float* out,
                       Status* deferred) {
  size_t column = 0;
  for (JsonElement item : row) {
    double number = 0;
    if (!item.is_number() || item.get_double().get(number) != simdjson::SUCCESS) {
      return InvalidType(IndexPath(IndexPath(path, row_index), column), item, "f32");
    }
    if (std::fabs(number) >= kFloat32Overflow) {
      Defer(Status::InvalidArgument("Embedding value " + std::to_string(number) + " at " +
                                    IndexPath(IndexPath(path, row_index), column) +
                                    " is out of the float32 range"),
            deferred);
      out = nullptr;
    }
    if (out != nullptr)
      out[column] = static_cast<float>(number);
    ++column;
  }
  return Status::Ok();
}

Status CheckFinite(const float* values, size_t count, std::string_view path, size_t row_index) {
  for (size_t i = 0; i < count; ++i) {
    if (!std::isfinite(values[i])) {
      return Status::InvalidArgument("Embedding " + IndexPath(path, row_index) +
                                     " contains a NaN or infinite value");
    }
  }
  return Status::Ok();
}

}  // namespace

Status UntaggedEmbeddingsError(std::string_view path) {
  return ShapeError(std::string(path) +
                    ": data did not match any variant of untagged enum EmbeddingsPayload");
}

Result<EmbeddingColumn> DecodeEmbeddings(const JsonElement& value, std::string_view path,
                                         const EmbeddingsOptions& options, Status* deferred) {
  JsonArray rows;
  if (value.get_array().get(rows) != simdjson::SUCCESS) {
    if (options.allow_base64)
      return UntaggedEmbeddingsError(path);
    return InvalidType(path, value, "a sequence");
  }
  KSDB_RETURN_IF_ERROR(CheckRowKinds(rows, path, options));
  EmbeddingColumn column;
  const size_t num_rows = rows.size();
  column.present.assign(num_rows, 0);
  // Every row is sized before anything is written so that the output is
  // allocated once: rows * dim floats.
  bool writable = deferred->ok();
  bool have_dim = false;
  for (JsonElement row : rows) {
    if (row.is_null())
      continue;
    Result<size_t> dim = RowDimension(row);
    if (!dim.ok()) {
      Defer(dim.status(), deferred);
      writable = false;
      continue;
    }
    if (*dim == 0) {
      Defer(EmptyEmbeddingError(), deferred);
      writable = false;
    } else if (!have_dim) {
      column.dim = *dim;
      have_dim = true;
    } else if (*dim != column.dim) {
      Defer(InconsistentDimensionsError(), deferred);
      writable = false;
    }
  }
  if (writable)
    column.values.assign(num_rows * column.dim, 0.0f);
  size_t row_index = 0;
  for (JsonElement row : rows) {
    float* out = writable ? column.values.data() + row_index * column.dim : nullptr;
    if (row.is_array()) {
      KSDB_RETURN_IF_ERROR(
          DecodeNumberRow(row.get_array().value_unsafe(), path, row_index, out, deferred));
    } else if (row.is_string() && out != nullptr) {
      Status status = Base64DecodeFloats(row.get_string().value_unsafe(), out);
      if (status.ok())
        status = CheckFinite(out, column.dim, path, row_index);
      if (!status.ok())
        Defer(std::move(status), deferred);
    }
    if (!row.is_null())
      column.present[row_index] = 1;
    ++row_index;
  }
  return column;
}

}  // namespace ksdb::server
