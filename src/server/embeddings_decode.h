// Decoding of embedding lists (spec §5.1, §8.3): each entry is a JSON number
// array or a base64 string of little-endian float32 values (never both kinds
// in one list), written straight into one row-major EmbeddingColumn.
#ifndef KSDB_SERVER_EMBEDDINGS_DECODE_H_
#define KSDB_SERVER_EMBEDDINGS_DECODE_H_

#include <string_view>

#include "core/records.h"
#include "server/json_body.h"

namespace ksdb::server {

struct EmbeddingsOptions {
  bool allow_null_rows = false;  // update: a null entry keeps the old embedding
  bool allow_base64 = true;      // add/upsert/update yes; query no
};

// Decodes the array `value` into a column. Shape errors (not an array, a
// non-number element, mixed kinds, null rows where not allowed) are returned
// as 422. Semantic errors (empty row, inconsistent dimensions, a value that
// overflows float32, bad base64) go to `*deferred` as 400; the column is then
// unspecified. A column of only null rows has dim 0.
Result<EmbeddingColumn> DecodeEmbeddings(const JsonElement& value, std::string_view path,
                                         const EmbeddingsOptions& options, Status* deferred);

// The 422 for an embeddings payload that matches neither accepted form.
Status UntaggedEmbeddingsError(std::string_view path);

}  // namespace ksdb::server

#endif  // KSDB_SERVER_EMBEDDINGS_DECODE_H_
