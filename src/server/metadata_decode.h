// Decoding of metadata objects from request bodies (spec §1.3, §5.7, §11).
// Values: string, integer (i64; larger integers become f64), float (f64), bool,
// or a non-empty homogeneous array of those. Nested objects -> 422.
#ifndef KSDB_SERVER_METADATA_DECODE_H_
#define KSDB_SERVER_METADATA_DECODE_H_

#include <string_view>

#include "core/metadata.h"
#include "server/json_body.h"

namespace ksdb::server {

// What a JSON null value inside a metadata object means.
enum class NullValues {
  kReject,  // 422 (collection create, record add)
  kDrop,    // ignored (collection modify)
  kDelete,  // kept in the patch as "delete this key" (update, upsert)
};

// Decodes one metadata value; 422 for null, objects and bad arrays.
Result<MetadataValue> DecodeMetadataValue(const JsonElement& value, std::string_view path);

// Decodes a metadata object into a patch. Keys starting with "chroma:" record a
// 400 in `*deferred` (spec §12 #11).
Result<MetadataPatch> DecodeMetadataPatch(const JsonElement& value, std::string_view path,
                                          NullValues nulls, Status* deferred);

// Decodes a metadata object into plain metadata (later duplicate keys win).
Result<Metadata> DecodeMetadataObject(const JsonElement& value, std::string_view path,
                                      NullValues nulls, Status* deferred);

}  // namespace ksdb::server

#endif  // KSDB_SERVER_METADATA_DECODE_H_
