// File and JSON helpers shared by the embed/ readers (internal to embed/).
#ifndef KSDB_EMBED_FILE_UTIL_H_
#define KSDB_EMBED_FILE_UTIL_H_

#include <simdjson.h>

#include <string>
#include <string_view>

#include "common/result.h"

namespace ksdb::embed {

// Reads the whole file. IoError names the path and the OS error.
Result<std::string> ReadWholeFile(const std::string& path);
// Writes `contents` to `path` (truncating). IoError names the path.
Status WriteWholeFile(const std::string& path, std::string_view contents);

// Parses `text` as JSON into `parser`'s document. InvalidArgument names `what`
// (typically the file path) and simdjson's error.
Result<simdjson::dom::element> ParseJson(std::string_view text, std::string_view what,
                                         simdjson::dom::parser* parser);

// Appends `text` as a JSON string literal, escaped as Python's json.dumps does with
// ensure_ascii=False (only ", \ and control characters are escaped).
void AppendJsonString(std::string_view text, std::string* out);

}  // namespace ksdb::embed

#endif  // KSDB_EMBED_FILE_UTIL_H_
