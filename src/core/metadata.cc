#include "core/metadata.h"

#include <cstring>
#include <type_traits>

namespace ksdb {

const MetadataValue* Metadata::Find(std::string_view key) const {
  for (const Entry& entry : entries_) {
    if (entry.first == key) return &entry.second;
  }
  return nullptr;
}

void Metadata::Set(std::string key, MetadataValue value) {
  for (Entry& entry : entries_) {
    if (entry.first == key) {
      entry.second = std::move(value);
      return;
    }
  }
  entries_.emplace_back(std::move(key), std::move(value));
}

bool Metadata::Erase(std::string_view key) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->first == key) {
      entries_.erase(it);
      return true;
    }
  }
  return false;
}

void ApplyMetadataPatch(const MetadataPatch& patch, Metadata* target) {
  for (const auto& [key, value] : patch) {
    if (value.has_value()) {
      target->Set(key, *value);
    } else {
      target->Erase(key);
    }
  }
}

Metadata MetadataFromPatch(const MetadataPatch& patch) {
  Metadata out;
  ApplyMetadataPatch(patch, &out);
  return out;
}

// Encoding: varint(count), then per entry: varint(key length), key bytes,
// one tag byte (the variant index), and the payload:
//   bool: 1 byte; int64/double: 8 bytes little-endian; string: varint length + bytes;
//   arrays: varint(element count) followed by that many payloads of the element kind.
namespace {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutFixed64(uint64_t v, std::string* out) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  out->append(buf, 8);
}

void PutString(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

void PutScalar(bool v, std::string* out) { out->push_back(v ? 1 : 0); }
void PutScalar(int64_t v, std::string* out) { PutFixed64(static_cast<uint64_t>(v), out); }
void PutScalar(double v, std::string* out) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  PutFixed64(bits, out);
}
void PutScalar(const std::string& v, std::string* out) { PutString(v, out); }

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool done() const { return pos_ == in_.size(); }

  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return false;
      uint8_t byte = static_cast<uint8_t>(in_[pos_++]);
      *v |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if (!(byte & 0x80)) return true;
    }
    return false;
  }
  bool Fixed64(uint64_t* v) {
    if (in_.size() - pos_ < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return true;
  }
  bool Bytes(std::string* s) {
    uint64_t len;
    if (!Varint(&len) || len > in_.size() - pos_) return false;
    s->assign(in_.substr(pos_, len));
    pos_ += len;
    return true;
  }
  bool Scalar(bool* v) {
    if (pos_ >= in_.size()) return false;
    uint8_t b = static_cast<uint8_t>(in_[pos_++]);
    if (b > 1) return false;
    *v = b == 1;
    return true;
  }
  bool Scalar(int64_t* v) {
    uint64_t bits;
    if (!Fixed64(&bits)) return false;
    *v = static_cast<int64_t>(bits);
    return true;
  }
  bool Scalar(double* v) {
    uint64_t bits;
    if (!Fixed64(&bits)) return false;
    std::memcpy(v, &bits, 8);
    return true;
  }
  bool Scalar(std::string* v) { return Bytes(v); }
  // Upper bound on how many more elements could possibly follow (each takes >= 1 byte).
  size_t remaining() const { return in_.size() - pos_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

template <typename T>
bool ReadArray(Reader* r, MetadataValue* out) {
  uint64_t n;
  if (!r->Varint(&n) || n > r->remaining()) return false;
  std::vector<T> items(n);
  for (uint64_t i = 0; i < n; ++i) {
    T item{};
    if (!r->Scalar(&item)) return false;
    items[i] = std::move(item);
  }
  *out = std::move(items);
  return true;
}

template <typename T>
bool ReadScalarValue(Reader* r, MetadataValue* out) {
  T item{};
  if (!r->Scalar(&item)) return false;
  *out = std::move(item);
  return true;
}

bool ReadValue(Reader* r, uint8_t tag, MetadataValue* out) {
  switch (tag) {
    case 0: return ReadScalarValue<bool>(r, out);
    case 1: return ReadScalarValue<int64_t>(r, out);
    case 2: return ReadScalarValue<double>(r, out);
    case 3: return ReadScalarValue<std::string>(r, out);
    case 4: return ReadArray<bool>(r, out);
    case 5: return ReadArray<int64_t>(r, out);
    case 6: return ReadArray<double>(r, out);
    case 7: return ReadArray<std::string>(r, out);
    default: return false;
  }
}

}  // namespace

std::string EncodeMetadata(const Metadata& metadata) {
  std::string out;
  PutVarint(metadata.size(), &out);
  for (const auto& [key, value] : metadata.entries()) {
    PutString(key, &out);
    out.push_back(static_cast<char>(value.index()));
    std::visit(
        [&out](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::vector<bool>>) {
            PutVarint(v.size(), &out);
            for (bool b : v) PutScalar(b, &out);
          } else if constexpr (std::is_same_v<T, std::vector<int64_t>> ||
                               std::is_same_v<T, std::vector<double>> ||
                               std::is_same_v<T, std::vector<std::string>>) {
            PutVarint(v.size(), &out);
            for (const auto& item : v) PutScalar(item, &out);
          } else {
            PutScalar(v, &out);
          }
        },
        value);
  }
  return out;
}

Result<Metadata> DecodeMetadata(std::string_view bytes) {
  Reader r(bytes);
  uint64_t count;
  if (!r.Varint(&count) || count > r.remaining()) return Status::Corruption("bad metadata header");
  std::vector<Metadata::Entry> entries;
  entries.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    std::string key;
    bool tag_ok = r.Bytes(&key) && r.remaining() > 0;
    if (!tag_ok) return Status::Corruption("truncated metadata entry");
    uint64_t tag;
    if (!r.Varint(&tag) || tag > 7) return Status::Corruption("bad metadata value tag");
    MetadataValue value;
    if (!ReadValue(&r, static_cast<uint8_t>(tag), &value)) {
      return Status::Corruption("truncated metadata value");
    }
    entries.emplace_back(std::move(key), std::move(value));
  }
  if (!r.done()) return Status::Corruption("trailing bytes after metadata");
  return Metadata(std::move(entries));
}

size_t MetadataMemoryBytes(const Metadata& metadata) {
  size_t total = metadata.entries().capacity() * sizeof(Metadata::Entry);
  for (const auto& [key, value] : metadata.entries()) {
    total += key.capacity();
    if (const auto* s = std::get_if<std::string>(&value)) total += s->capacity();
    if (const auto* a = std::get_if<std::vector<std::string>>(&value)) {
      for (const auto& s : *a) total += sizeof(std::string) + s.capacity();
    }
    if (const auto* a = std::get_if<std::vector<int64_t>>(&value)) total += a->capacity() * 8;
    if (const auto* a = std::get_if<std::vector<double>>(&value)) total += a->capacity() * 8;
    if (const auto* a = std::get_if<std::vector<bool>>(&value)) total += a->capacity() / 8;
  }
  return total;
}

}  // namespace ksdb
