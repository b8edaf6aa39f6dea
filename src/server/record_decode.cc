#include "server/record_decode.h"

#include <array>
#include <initializer_list>
#include <string_view>
#include <utility>

#include "filter/where.h"
#include "server/embeddings_decode.h"
#include "server/metadata_decode.h"

namespace ksdb::server {
namespace {

struct IncludeName {
  std::string_view name;
  bool Include::*flag;
};
constexpr std::array<IncludeName, 5> kIncludeNames = {{
    {"distances", &Include::distances},
    {"documents", &Include::documents},
    {"embeddings", &Include::embeddings},
    {"metadatas", &Include::metadatas},
    {"uris", &Include::uris},
}};

Result<std::vector<std::optional<MetadataPatch>>> DecodeMetadataList(const JsonElement& value,
                                                                     NullValues nulls,
                                                                     Status* deferred) {
  KSDB_ASSIGN_OR_RETURN(JsonArray array, AsArray(value, "metadatas"));
  std::vector<std::optional<MetadataPatch>> out;
  out.reserve(array.size());
  size_t index = 0;
  for (JsonElement item : array) {
    if (item.is_null()) {
      out.emplace_back(std::nullopt);
    } else {
      KSDB_ASSIGN_OR_RETURN(
          MetadataPatch patch,
          DecodeMetadataPatch(item, IndexPath("metadatas", index), nulls, deferred));
      out.emplace_back(std::move(patch));
    }
    ++index;
  }
  return out;
}

Status CheckLengths(const WriteBatch& batch, size_t embedding_rows) {
  const size_t n = batch.ids.size();
  bool consistent = (!batch.embeddings || embedding_rows == n) &&
                    (!batch.documents || batch.documents->size() == n) &&
                    (!batch.uris || batch.uris->size() == n) &&
                    (!batch.metadatas || batch.metadatas->size() == n);
  if (consistent)
    return Status::Ok();
  return Status::InvalidArgument(
      "Inconsistent number of IDs, embeddings, documents, URIs and metadatas");
}

Status CheckIds(const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    if (id.empty())
      return Status::InvalidArgument("Empty ID, ID must have at least one character");
  }
  return Status::Ok();
}

Result<std::optional<std::vector<std::string>>> DecodeOptionalIds(const JsonObject& object) {
  std::optional<JsonElement> ids = OptionalField(object, "ids");
  if (!ids)
    return std::optional<std::vector<std::string>>();
  KSDB_ASSIGN_OR_RETURN(std::vector<std::string> list, AsStringList(*ids, "ids"));
  return std::optional<std::vector<std::string>>(std::move(list));
}

// Shape-decodes ids; the where clauses stay as JSON until ParseFilters.
struct RawFilters {
  std::optional<std::vector<std::string>> ids;
  std::optional<JsonElement> where;
  std::optional<JsonElement> where_document;
};

Result<RawFilters> DecodeRawFilters(const JsonObject& object) {
  RawFilters raw;
  KSDB_ASSIGN_OR_RETURN(raw.ids, DecodeOptionalIds(object));
  raw.where = OptionalField(object, "where");
  raw.where_document = OptionalField(object, "where_document");
  return raw;
}

// Moves the filters shared by get, query and delete into `request`, compiling
// the where clauses. Their errors are semantic (400), so this runs after every
// shape check of the body.
template <typename Request>
Status ParseFilters(RawFilters raw, Request* request) {
  request->ids = std::move(raw.ids);
  if (raw.where) {
    KSDB_ASSIGN_OR_RETURN(request->where, filter::WhereFilter::Parse(*raw.where));
  }
  if (raw.where_document) {
    KSDB_ASSIGN_OR_RETURN(request->where_document,
                          filter::DocumentFilter::Parse(*raw.where_document));
  }
  return Status::Ok();
}

Result<std::optional<uint32_t>> DecodeOptionalU32(const JsonObject& object, std::string_view key) {
  std::optional<JsonElement> value = OptionalField(object, key);
  if (!value)
    return std::optional<uint32_t>();
  KSDB_ASSIGN_OR_RETURN(uint32_t number, AsU32(*value, key));
  return std::optional<uint32_t>(number);
}

// Every flag off; the include names then switch flags on.
constexpr Include kNoInclude{
    .embeddings = false, .documents = false, .uris = false, .metadatas = false, .distances = false};

// Sets the flag `name` in `*flags`; false when the name is not a known one.
bool SetIncludeFlag(std::string_view name, Include* flags) {
  for (const IncludeName& known : kIncludeNames) {
    if (known.name == name) {
      flags->*known.flag = true;
      return true;
    }
  }
  return false;
}

// The include list as sent (echoed verbatim) and as flags.
struct DecodedInclude {
  std::vector<std::string> names;
  Include flags = kNoInclude;
};

// Parses the include list; when the field is absent the list is `defaults`.
// An explicit null is a 422, as in Chroma.
Result<DecodedInclude> DecodeInclude(const JsonObject& object,
                                     std::initializer_list<std::string_view> defaults) {
  DecodedInclude include;
  JsonElement value;
  if (object.at_key("include").get(value) != simdjson::SUCCESS) {
    for (std::string_view name : defaults) {
      SetIncludeFlag(name, &include.flags);
      include.names.emplace_back(name);
    }
    return include;
  }
  KSDB_ASSIGN_OR_RETURN(JsonArray array, AsArray(value, "include"));
  size_t index = 0;
  for (JsonElement item : array) {
    KSDB_ASSIGN_OR_RETURN(std::string_view name, AsString(item, IndexPath("include", index)));
    if (!SetIncludeFlag(name, &include.flags)) {
      return ShapeError(IndexPath("include", index) + ": unknown variant `" + std::string(name) +
                        "`, expected one of `distances`, `documents`, `embeddings`, "
                        "`metadatas`, `uris`");
    }
    include.names.emplace_back(name);
    ++index;
  }
  return include;
}

// True when the body carries a non-null "documents" field.
bool HasDocuments(const JsonObject& object) {
  return OptionalField(object, "documents").has_value();
}

}  // namespace

Result<WriteBatch> DecodeWriteBatch(const JsonElement& body, WriteKind kind) {
  KSDB_ASSIGN_OR_RETURN(JsonObject object, BodyObject(body, "AddCollectionRecordsPayload"));
  Status deferred;
  WriteBatch batch;
  KSDB_ASSIGN_OR_RETURN(JsonElement ids, RequiredField(object, "ids"));
  KSDB_ASSIGN_OR_RETURN(batch.ids, AsStringList(ids, "ids"));

  size_t embedding_rows = 0;
  std::optional<JsonElement> embeddings;
  if (kind == WriteKind::kUpdate || HasDocuments(object)) {
    // Documents without embeddings are embedded by the server (the engine answers 400
    // when the collection has no embedder).
    embeddings = OptionalField(object, "embeddings");
  } else {
    KSDB_ASSIGN_OR_RETURN(JsonElement required, RequiredField(object, "embeddings"));
    if (required.is_null())
      return UntaggedEmbeddingsError("embeddings");
    embeddings = required;
  }
  if (embeddings) {
    EmbeddingsOptions options{.allow_null_rows = kind == WriteKind::kUpdate, .allow_base64 = true};
    KSDB_ASSIGN_OR_RETURN(batch.embeddings,
                          DecodeEmbeddings(*embeddings, "embeddings", options, &deferred));
    embedding_rows = batch.embeddings->present.size();
  }
  if (auto documents = OptionalField(object, "documents")) {
    KSDB_ASSIGN_OR_RETURN(batch.documents, AsNullableStringList(*documents, "documents"));
  }
  if (auto uris = OptionalField(object, "uris")) {
    KSDB_ASSIGN_OR_RETURN(batch.uris, AsNullableStringList(*uris, "uris"));
  }
  if (auto metadatas = OptionalField(object, "metadatas")) {
    // add follows the reference (422 for a null value); update/upsert use null
    // to delete a key.
    NullValues nulls = kind == WriteKind::kAdd ? NullValues::kReject : NullValues::kDelete;
    KSDB_ASSIGN_OR_RETURN(batch.metadatas, DecodeMetadataList(*metadatas, nulls, &deferred));
  }
  KSDB_RETURN_IF_ERROR(CheckLengths(batch, embedding_rows));
  KSDB_RETURN_IF_ERROR(CheckIds(batch.ids));
  KSDB_RETURN_IF_ERROR(deferred);
  return batch;
}

Result<DecodedGet> DecodeGet(const JsonElement& body) {
  KSDB_ASSIGN_OR_RETURN(JsonObject object, BodyObject(body, "GetRequestPayload"));
  DecodedGet decoded;
  KSDB_ASSIGN_OR_RETURN(RawFilters raw, DecodeRawFilters(object));
  KSDB_ASSIGN_OR_RETURN(decoded.request.limit, DecodeOptionalU32(object, "limit"));
  KSDB_ASSIGN_OR_RETURN(std::optional<uint32_t> offset, DecodeOptionalU32(object, "offset"));
  decoded.request.offset = offset.value_or(0);
  KSDB_ASSIGN_OR_RETURN(DecodedInclude include, DecodeInclude(object, {"documents", "metadatas"}));
  decoded.request.include = include.flags;
  decoded.request.include.distances = false;  // get never returns distances
  decoded.include = std::move(include.names);
  KSDB_RETURN_IF_ERROR(ParseFilters(std::move(raw), &decoded.request));
  return decoded;
}

Result<DecodedQuery> DecodeQuery(const JsonElement& body) {
  KSDB_ASSIGN_OR_RETURN(JsonObject object, BodyObject(body, "QueryRequestPayload"));
  DecodedQuery decoded;
  Status deferred;
  KSDB_ASSIGN_OR_RETURN(RawFilters raw, DecodeRawFilters(object));
  KSDB_ASSIGN_OR_RETURN(std::optional<uint32_t> n_results, DecodeOptionalU32(object, "n_results"));
  decoded.request.n_results = n_results.value_or(10);
  KSDB_ASSIGN_OR_RETURN(DecodedInclude include,
                        DecodeInclude(object, {"documents", "metadatas", "distances"}));
  decoded.request.include = include.flags;
  decoded.include = std::move(include.names);
  std::optional<JsonElement> texts = OptionalField(object, "query_texts");
  if (texts) {
    // ksdb extension: the server embeds query_texts with the collection's embedder.
    if (OptionalField(object, "query_embeddings")) {
      return Status::InvalidArgument(
          "You can only provide query_embeddings or query_texts, not both");
    }
    KSDB_ASSIGN_OR_RETURN(decoded.request.texts, AsStringList(*texts, "query_texts"));
    KSDB_RETURN_IF_ERROR(ParseFilters(std::move(raw), &decoded.request));
    return decoded;
  }
  KSDB_ASSIGN_OR_RETURN(JsonElement embeddings, RequiredField(object, "query_embeddings"));
  EmbeddingsOptions options{.allow_null_rows = false, .allow_base64 = false};
  KSDB_ASSIGN_OR_RETURN(EmbeddingColumn column,
                        DecodeEmbeddings(embeddings, "query_embeddings", options, &deferred));
  KSDB_RETURN_IF_ERROR(deferred);
  decoded.request.num_queries = column.present.size();
  decoded.request.dim = column.dim;
  decoded.request.embeddings = std::move(column.values);
  KSDB_RETURN_IF_ERROR(ParseFilters(std::move(raw), &decoded.request));
  return decoded;
}

Result<db::DeleteRequest> DecodeDelete(const JsonElement& body) {
  KSDB_ASSIGN_OR_RETURN(JsonObject object, BodyObject(body, "DeleteCollectionRecordsPayload"));
  KSDB_ASSIGN_OR_RETURN(RawFilters raw, DecodeRawFilters(object));
  if (raw.ids && raw.ids->empty() && !raw.where && !raw.where_document) {
    return Status::InvalidArgument(
        "Validation error: ids, where: Either ids or where must be specified");
  }
  db::DeleteRequest request;
  KSDB_RETURN_IF_ERROR(ParseFilters(std::move(raw), &request));
  return request;
}

}  // namespace ksdb::server
