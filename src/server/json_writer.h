// JsonWriter: appends JSON text to a std::string, fast and allocation-light.
//
// Commas are inserted automatically: call Key() before each object member and
// the value methods in order. Floats are printed as the shortest text that
// round-trips, laid out like Rust's ryu "pretty" format that Chroma uses
// (1 -> "1.0", 1e-7 -> "1e-7", 3.4028235e38). Non-finite numbers become null.
// Strings are escaped per RFC 8259; invalid UTF-8 is replaced by U+FFFD.
#ifndef KSDB_SERVER_JSON_WRITER_H_
#define KSDB_SERVER_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/metadata.h"

namespace ksdb::server {

// Appends the ryu-pretty text of `value` (float32 rules) to `out`.
void AppendFloat(float value, std::string* out);
// Appends the ryu-pretty text of `value` (float64 rules) to `out`.
void AppendDouble(double value, std::string* out);
// Appends `text` as a quoted, escaped JSON string to `out`.
void AppendJsonString(std::string_view text, std::string* out);

class JsonWriter {
 public:
  // Writes into `out` (not owned, must outlive the writer), appending.
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  // Starts an object member; the next value call writes its value.
  void Key(std::string_view key);

  void String(std::string_view value);
  void Int(int64_t value);
  void Uint(uint64_t value);
  void Float(float value);
  void Double(double value);
  void Bool(bool value);
  void Null();
  // Inserts `json` verbatim as one value; the caller guarantees it is valid JSON.
  void Raw(std::string_view json);

  // Metadata as a JSON object (values keep their kind: int, float, ...).
  void WriteMetadata(const Metadata& metadata);
  void WriteMetadataValue(const MetadataValue& value);

  std::string* out() { return out_; }

 private:
  void Separate() {
    if (need_comma_)
      out_->push_back(',');
  }
  void Open(char c) {
    Separate();
    out_->push_back(c);
    need_comma_ = false;
  }
  void Close(char c) {
    out_->push_back(c);
    need_comma_ = true;
  }

  std::string* out_;
  bool need_comma_ = false;
};

}  // namespace ksdb::server

#endif  // KSDB_SERVER_JSON_WRITER_H_
