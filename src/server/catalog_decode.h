// Decoding of tenant, database and collection request bodies (spec §3, §4, §7).
#ifndef KSDB_SERVER_CATALOG_DECODE_H_
#define KSDB_SERVER_CATALOG_DECODE_H_

#include <string>
#include <string_view>

#include "db/engine.h"
#include "server/json_body.h"

namespace ksdb::server {

// A body with one required string field `field` (tenant/database create:
// "name"; tenant update: "resource_name"; fork: "new_name").
Result<std::string> DecodeStringField(const JsonElement& body, std::string_view type_name,
                                      std::string_view field);

// POST {DB}/collections. Applies spec §7.1: hnsw keys are checked (unknown ->
// 422), both hnsw and spann -> 400, spann alone -> hnsw with its space, and the
// embedding function is kept as raw JSON. metadata {} -> 400.
Result<db::CreateCollectionRequest> DecodeCreateCollection(const JsonElement& body);

// PUT {DB}/collections/{uuid}: new_name, new_metadata (replaces; {} -> 400,
// null values dropped), new_configuration (only mutable hnsw keys).
Result<db::ModifyCollectionRequest> DecodeModifyCollection(const JsonElement& body);

}  // namespace ksdb::server

#endif  // KSDB_SERVER_CATALOG_DECODE_H_
