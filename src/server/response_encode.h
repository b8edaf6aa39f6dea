// JSON encoding of successful responses: the Collection object (spec §4.1),
// databases, and get/query results (spec §8) written straight into one string.
#ifndef KSDB_SERVER_RESPONSE_ENCODE_H_
#define KSDB_SERVER_RESPONSE_ENCODE_H_

#include <string>
#include <vector>

#include "core/records.h"
#include "db/engine.h"
#include "server/json_writer.h"

namespace ksdb::server {

// The Collection object with Chroma's key order.
void WriteCollection(const db::CollectionInfo& collection, JsonWriter* writer);
// {"id","name","tenant"}.
void WriteDatabase(const db::DatabaseInfo& database, JsonWriter* writer);

// get: ids, embeddings, documents, uris, metadatas, include. Fields not in
// `include` are null; `include_echo` is written verbatim.
std::string EncodeGetResult(const GetResult& result, const Include& include,
                            const std::vector<std::string>& include_echo);

// query: one inner list per query; adds distances before include.
std::string EncodeQueryResult(const std::vector<QueryHits>& hits, const Include& include,
                              const std::vector<std::string>& include_echo);

}  // namespace ksdb::server

#endif  // KSDB_SERVER_RESPONSE_ENCODE_H_
