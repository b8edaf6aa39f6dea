#include "db/embedding_write.h"

#include <algorithm>

namespace ksdb::db {
namespace {

Status NoEmbedder(const std::string& collection_name) {
  return Status::InvalidArgument(
      "Collection " + collection_name +
      " has no embedding function on this server: send embeddings, or start ksdb with "
      "--embedder (e.g. static:DIR) and create the collection with "
      "configuration.embedding_function {\"type\":\"known\",\"name\":\"ksdb-static\"}");
}

// Checks the embedder's answer has one row of a sane dimension per text.
Result<size_t> RowDimension(const embed::Embedder& embedder, size_t texts, size_t values) {
  if (texts == 0)
    return embedder.dim();
  if (values == 0 || values % texts != 0) {
    return Status::Internal("embedder " + embedder.name() + " returned " + std::to_string(values) +
                            " values for " + std::to_string(texts) + " texts");
  }
  return values / texts;
}

}  // namespace

bool NeedsEmbedding(const WriteBatch& batch, WriteKind kind) {
  if (batch.embeddings.has_value() || !batch.documents.has_value() || batch.ids.empty()) {
    return false;
  }
  if (kind != WriteKind::kUpdate)
    return true;
  return std::any_of(batch.documents->begin(), batch.documents->end(),
                     [](const std::optional<std::string>& d) { return d.has_value(); });
}

Status EmbedDocuments(const embed::Embedder* embedder, const std::string& collection_name,
                      WriteKind kind, WriteBatch* batch) {
  if (embedder == nullptr)
    return NoEmbedder(collection_name);
  const auto& documents = *batch->documents;
  if (documents.size() != batch->ids.size()) {
    return Status::InvalidArgument(
        "Inconsistent number of IDs, embeddings, documents, URIs and metadatas");
  }
  std::vector<std::string> texts;
  std::vector<uint8_t> present(documents.size(), 0);
  texts.reserve(documents.size());
  for (size_t i = 0; i < documents.size(); ++i) {
    if (documents[i].has_value()) {
      texts.push_back(*documents[i]);
      present[i] = 1;
    } else if (kind != WriteKind::kUpdate) {
      return Status::InvalidArgument("Record " + batch->ids[i] +
                                     " has neither an embedding nor a document");
    }
  }
  KSDB_ASSIGN_OR_RETURN(std::vector<float> vectors, embedder->Embed(texts));
  KSDB_ASSIGN_OR_RETURN(size_t dim, RowDimension(*embedder, texts.size(), vectors.size()));
  EmbeddingColumn column;
  column.dim = dim;
  column.present = std::move(present);
  if (texts.size() == documents.size()) {
    column.values = std::move(vectors);
  } else {
    // Update with some null documents: absent rows keep a zero placeholder.
    column.values.assign(documents.size() * dim, 0.0f);
    size_t next = 0;
    for (size_t i = 0; i < documents.size(); ++i) {
      if (!column.present[i])
        continue;
      std::copy_n(vectors.begin() + next * dim, dim, column.values.begin() + i * dim);
      ++next;
    }
  }
  batch->embeddings = std::move(column);
  return Status::Ok();
}

Status EmbedQueryTexts(const embed::Embedder* embedder, const std::string& collection_name,
                       const std::vector<std::string>& texts, std::vector<float>* embeddings,
                       size_t* num_queries, size_t* dim) {
  if (embedder == nullptr)
    return NoEmbedder(collection_name);
  KSDB_ASSIGN_OR_RETURN(*embeddings, embedder->Embed(texts));
  KSDB_ASSIGN_OR_RETURN(*dim, RowDimension(*embedder, texts.size(), embeddings->size()));
  *num_queries = texts.size();
  return Status::Ok();
}

}  // namespace ksdb::db
