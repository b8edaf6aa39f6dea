// Metadata: the key/value map attached to records and collections.
//
// Values keep their JSON lexical kind (spec §1.3): bool, int64, double, string,
// or a non-empty homogeneous array of one of those (Chroma 1.5 array metadata).
// Keys keep insertion order; lookups are linear, which beats hashing for the
// handful of keys a record carries.
#ifndef KSDB_CORE_METADATA_H_
#define KSDB_CORE_METADATA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/result.h"

namespace ksdb {

using MetadataValue = std::variant<bool, int64_t, double, std::string, std::vector<bool>,
                                   std::vector<int64_t>, std::vector<double>,
                                   std::vector<std::string>>;

class Metadata {
 public:
  using Entry = std::pair<std::string, MetadataValue>;

  Metadata() = default;
  explicit Metadata(std::vector<Entry> entries) : entries_(std::move(entries)) {}

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  const std::vector<Entry>& entries() const { return entries_; }

  // The value stored under `key`, or nullptr. O(size()).
  const MetadataValue* Find(std::string_view key) const;
  // Inserts or replaces `key`, keeping the position of an existing key.
  void Set(std::string key, MetadataValue value);
  // Removes `key` if present; returns whether it was.
  bool Erase(std::string_view key);

  bool operator==(const Metadata& other) const = default;

 private:
  std::vector<Entry> entries_;
};

// A metadata change as sent by update/upsert: a key with nullopt deletes it.
using MetadataPatch = std::vector<std::pair<std::string, std::optional<MetadataValue>>>;

// Applies `patch` to `target` key by key (Chroma's update/upsert merge).
void ApplyMetadataPatch(const MetadataPatch& patch, Metadata* target);

// A patch turned into plain metadata for inserts: keys whose value is null are
// dropped.
Metadata MetadataFromPatch(const MetadataPatch& patch);

// Compact binary encoding for the record store. Decode validates everything and
// returns Corruption on malformed input; it never reads out of bounds.
std::string EncodeMetadata(const Metadata& metadata);
Result<Metadata> DecodeMetadata(std::string_view bytes);

// Approximate heap bytes held by `metadata` (for memory accounting).
size_t MetadataMemoryBytes(const Metadata& metadata);

}  // namespace ksdb

#endif  // KSDB_CORE_METADATA_H_
