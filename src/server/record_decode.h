// Decoding of record request bodies: add / upsert / update (spec §5.2-§5.4),
// delete (§5.5), get (§8.1) and query (§8.2). Shape errors are 422, semantic
// ones 400, in Chroma's order (see json_body.h).
#ifndef KSDB_SERVER_RECORD_DECODE_H_
#define KSDB_SERVER_RECORD_DECODE_H_

#include <string>
#include <vector>

#include "core/records.h"
#include "db/engine.h"
#include "server/json_body.h"

namespace ksdb::server {

enum class WriteKind { kAdd, kUpsert, kUpdate };

// Decodes an add/upsert/update body. add and upsert require embeddings; only
// update accepts null embedding rows. Lengths must all equal len(ids).
Result<WriteBatch> DecodeWriteBatch(const JsonElement& body, WriteKind kind);

struct DecodedGet {
  db::GetRequest request;
  std::vector<std::string> include;  // echoed in the response
};
Result<DecodedGet> DecodeGet(const JsonElement& body);

struct DecodedQuery {
  db::QueryRequest request;
  std::vector<std::string> include;  // echoed in the response
};
Result<DecodedQuery> DecodeQuery(const JsonElement& body);

Result<db::DeleteRequest> DecodeDelete(const JsonElement& body);

}  // namespace ksdb::server

#endif  // KSDB_SERVER_RECORD_DECODE_H_
