// Server-side embedding of write batches and query texts: documents that came
// without embeddings are embedded in one vectorised call per batch.
#ifndef KSDB_DB_EMBEDDING_WRITE_H_
#define KSDB_DB_EMBEDDING_WRITE_H_

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/records.h"
#include "db/validation.h"
#include "embed/embedder.h"

namespace ksdb::db {

// True when `batch` has no embeddings column but documents the server must embed:
// add/upsert with at least one id, update with at least one non-null document.
bool NeedsEmbedding(const WriteBatch& batch, WriteKind kind);

// Fills `batch->embeddings` from its documents with one Embed call. add/upsert need a
// document for every row (InvalidArgument naming the first id without one); update
// embeds the rows with a document and keeps the others' embeddings. A null `embedder`
// gives InvalidArgument explaining that the collection has no embedding function.
Status EmbedDocuments(const embed::Embedder* embedder, const std::string& collection_name,
                      WriteKind kind, WriteBatch* batch);

// Embeds query texts into row-major vectors; sets *num_queries and *dim. Same errors.
Status EmbedQueryTexts(const embed::Embedder* embedder, const std::string& collection_name,
                       const std::vector<std::string>& texts, std::vector<float>* embeddings,
                       size_t* num_queries, size_t* dim);

}  // namespace ksdb::db

#endif  // KSDB_DB_EMBEDDING_WRITE_H_
