#include "db/validation.h"

#include <arpa/inet.h>

#include <cmath>
#include <unordered_set>

#include "db/engine.h"

namespace ksdb::db {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool IsIpAddress(const std::string& s) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

Status ValidateMetadataKey(const std::string& key) {
  if (key.rfind("chroma:", 0) == 0) {
    return Status::InvalidArgument("Metadata key [" + key +
                                   "] is invalid: keys starting with 'chroma:' are reserved");
  }
  return Status::Ok();
}

Status ValidateMetadataValue(const std::string& key, const MetadataValue& value) {
  bool ok = std::visit(
      [](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, double>) {
          return std::isfinite(v) != 0;
        } else if constexpr (std::is_same_v<T, std::vector<double>>) {
          if (v.empty()) return false;
          for (double d : v) {
            if (!std::isfinite(d)) return false;
          }
          return true;
        } else if constexpr (std::is_same_v<T, std::vector<bool>> ||
                             std::is_same_v<T, std::vector<int64_t>> ||
                             std::is_same_v<T, std::vector<std::string>>) {
          return !v.empty();
        } else {
          return true;
        }
      },
      value);
  if (!ok) {
    return Status::InvalidArgument("Metadata value for key [" + key +
                                   "] is invalid: arrays must be non-empty and numbers finite");
  }
  return Status::Ok();
}

Status LengthMismatch() {
  return Status::InvalidArgument(
      "Inconsistent number of IDs, embeddings, documents, URIs and metadatas");
}

template <typename Column>
bool ColumnMatches(const std::optional<Column>& column, size_t n) {
  return !column.has_value() || column->size() == n;
}

Status ValidateEmbeddings(const EmbeddingColumn& e, size_t n, WriteKind kind) {
  if (e.present.size() != n) return LengthMismatch();
  size_t present = 0;
  for (uint8_t p : e.present) present += p ? 1 : 0;
  if (kind != WriteKind::kUpdate && present != n) {
    return Status::InvalidArgument("Embeddings must not contain null entries for add and upsert");
  }
  if (present > 0 && e.dim == 0) {
    return Status::InvalidArgument(
        "Validation error: embeddings: Each embedding must have at least 1 dimension");
  }
  if (e.values.size() != n * e.dim) {
    return Status::InvalidArgument("Embedding buffer does not match ids.size() * dim");
  }
  for (float f : e.values) {
    if (!std::isfinite(f)) {
      return Status::InvalidArgument("Embeddings must be finite float32 values");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateCollectionName(const std::string& name, const char* field) {
  bool chars_ok = name.size() >= 3 && name.size() <= 512 && IsAlnum(name.front()) &&
                  IsAlnum(name.back());
  for (char c : name) {
    if (!chars_ok) break;
    chars_ok = IsAlnum(c) || c == '.' || c == '_' || c == '-';
  }
  std::string prefix = std::string("Validation error: ") + field + ": ";
  if (!chars_ok) {
    return Status::InvalidArgument(
        prefix +
        "Expected a name containing 3-512 characters from [a-zA-Z0-9._-], starting and ending "
        "with a character in [a-zA-Z0-9]. Got: " +
        name);
  }
  if (name.find("..") != std::string::npos) {
    return Status::InvalidArgument(
        prefix + "Expected a name that does not contains two consecutive periods (..). Got " +
        name);
  }
  if (IsIpAddress(name)) {
    return Status::InvalidArgument(prefix + "Expected a name that is not a valid ip address. Got " +
                                   name);
  }
  return Status::Ok();
}

namespace {

// Chroma's only rule for tenant and database names: at least 3 characters.
Status ValidateMinLength(const std::string& name, const char* field, const char* kind) {
  if (name.size() < 3) {
    return Status::InvalidArgument(std::string("Validation error: ") + field + ": " + kind +
                                   " name must be at least 3 characters, got \"" + name + "\"");
  }
  return Status::Ok();
}

}  // namespace

Status ValidateTenantName(const std::string& name) {
  return ValidateMinLength(name, "name", "tenant");
}

Status ValidateDatabaseName(const std::string& name) {
  return ValidateMinLength(name, "database_name", "database");
}

Status ValidateMetadata(const Metadata& metadata) {
  for (const auto& [key, value] : metadata.entries()) {
    KSDB_RETURN_IF_ERROR(ValidateMetadataKey(key));
    KSDB_RETURN_IF_ERROR(ValidateMetadataValue(key, value));
  }
  return Status::Ok();
}

Status ValidateMetadataPatch(const MetadataPatch& patch) {
  for (const auto& [key, value] : patch) {
    KSDB_RETURN_IF_ERROR(ValidateMetadataKey(key));
    if (value.has_value()) {
      KSDB_RETURN_IF_ERROR(ValidateMetadataValue(key, *value));
    }
  }
  return Status::Ok();
}

Status ValidateWriteBatch(const WriteBatch& batch, WriteKind kind) {
  const size_t n = batch.ids.size();
  for (const std::string& id : batch.ids) {
    if (id.empty()) return Status::InvalidArgument("Empty ID, ID must have at least one character");
  }
  if (!ColumnMatches(batch.documents, n) || !ColumnMatches(batch.uris, n) ||
      !ColumnMatches(batch.metadatas, n)) {
    return LengthMismatch();
  }
  if (batch.embeddings.has_value()) {
    KSDB_RETURN_IF_ERROR(ValidateEmbeddings(*batch.embeddings, n, kind));
  } else if (kind != WriteKind::kUpdate && n > 0) {
    return Status::InvalidArgument("Embeddings are required for add and upsert");
  }
  if (batch.metadatas.has_value()) {
    for (const auto& patch : *batch.metadatas) {
      if (patch.has_value()) KSDB_RETURN_IF_ERROR(ValidateMetadataPatch(*patch));
    }
  }
  if (kind == WriteKind::kAdd) {
    std::unordered_set<std::string_view> seen;
    seen.reserve(n);
    for (const std::string& id : batch.ids) {
      if (!seen.insert(id).second) {
        return Status::DuplicateId("Expected IDs to be unique, found duplicates of: " + id);
      }
    }
  }
  return Status::Ok();
}

}  // namespace ksdb::db
