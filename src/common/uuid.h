// UUIDs for databases and collections, in canonical lower-case hyphenated form.
#ifndef KSDB_COMMON_UUID_H_
#define KSDB_COMMON_UUID_H_

#include <optional>
#include <string>
#include <string_view>

namespace ksdb {

// A fresh random (version 4) UUID, e.g. "1b4e28ba-2fa1-4d2e-883f-0016d3cca427".
// Thread-safe.
std::string NewUuidV4();

// Parses a UUID the way Chroma does: hyphenated or 32-hex "simple" form, any
// case, any version. Returns the canonical lower-case hyphenated form, or
// nullopt when `text` is not a UUID.
std::optional<std::string> ParseUuid(std::string_view text);

}  // namespace ksdb

#endif  // KSDB_COMMON_UUID_H_
