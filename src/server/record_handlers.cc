// Record routes (spec §5, §8), all addressed by collection UUID, plus the
// seed's batch route POST /collections/{name}/add_batch.
#include <string>
#include <vector>

#include "server/handlers.h"
#include "server/record_decode.h"
#include "server/response_encode.h"

namespace ksdb::server {
namespace {

std::string RecordPath(const char* action) {
  return std::string(kDatabasePath) + "/collections/{collection_id}/" + action;
}

// Decode first (400/422), then resolve the collection (400 bad UUID, 404).
Result<HttpResponse> Write(db::Engine* engine, const HttpRequest& request, const JsonElement& body,
                           WriteKind kind) {
  KSDB_ASSIGN_OR_RETURN(WriteBatch batch, DecodeWriteBatch(body, kind));
  KSDB_ASSIGN_OR_RETURN(db::CollectionInfo collection, ResolveCollection(engine, request));
  switch (kind) {
    case WriteKind::kAdd:
      KSDB_RETURN_IF_ERROR(engine->Add(collection.id, batch));
      return EmptyObjectResponse(201);
    case WriteKind::kUpsert:
      KSDB_RETURN_IF_ERROR(engine->Upsert(collection.id, batch));
      return EmptyObjectResponse();
    case WriteKind::kUpdate:
      KSDB_RETURN_IF_ERROR(engine->Update(collection.id, batch));
      return EmptyObjectResponse();
  }
  return Status::Internal("unknown write kind");
}

Result<HttpResponse> DeleteRecords(db::Engine* engine, const HttpRequest& request,
                                   const JsonElement& body) {
  KSDB_ASSIGN_OR_RETURN(db::DeleteRequest delete_request, DecodeDelete(body));
  KSDB_ASSIGN_OR_RETURN(db::CollectionInfo collection, ResolveCollection(engine, request));
  KSDB_RETURN_IF_ERROR(engine->Delete(collection.id, delete_request).status());
  return EmptyObjectResponse();
}

Result<HttpResponse> GetRecords(db::Engine* engine, const HttpRequest& request,
                                const JsonElement& body) {
  KSDB_ASSIGN_OR_RETURN(DecodedGet decoded, DecodeGet(body));
  KSDB_ASSIGN_OR_RETURN(db::CollectionInfo collection, ResolveCollection(engine, request));
  KSDB_ASSIGN_OR_RETURN(GetResult result, engine->Get(collection.id, decoded.request));
  return JsonResponse(200, EncodeGetResult(result, decoded.request.include, decoded.include));
}

Result<HttpResponse> QueryRecords(db::Engine* engine, const HttpRequest& request,
                                  const JsonElement& body) {
  KSDB_ASSIGN_OR_RETURN(DecodedQuery decoded, DecodeQuery(body));
  KSDB_ASSIGN_OR_RETURN(db::CollectionInfo collection, ResolveCollection(engine, request));
  KSDB_ASSIGN_OR_RETURN(std::vector<QueryHits> hits, engine->Query(collection.id, decoded.request));
  return JsonResponse(200, EncodeQueryResult(hits, decoded.request.include, decoded.include));
}

Result<HttpResponse> CountRecords(db::Engine* engine, const HttpRequest& request) {
  KSDB_ASSIGN_OR_RETURN(db::CollectionInfo collection, ResolveCollection(engine, request));
  KSDB_ASSIGN_OR_RETURN(uint64_t count, engine->Count(collection.id));
  return JsonResponse(200, std::to_string(count));
}

// The seed's batch ingestion route: add semantics on a collection named in
// default_tenant/default_database.
Result<HttpResponse> AddBatch(db::Engine* engine, const HttpRequest& request,
                              const JsonElement& body) {
  KSDB_ASSIGN_OR_RETURN(WriteBatch batch, DecodeWriteBatch(body, WriteKind::kAdd));
  KSDB_ASSIGN_OR_RETURN(db::CollectionInfo collection,
                        engine->GetCollectionByName(db::kDefaultTenant, db::kDefaultDatabase,
                                                    request.PathParam("name")));
  KSDB_RETURN_IF_ERROR(engine->Add(collection.id, batch));
  return EmptyObjectResponse(201);
}

Handler WriteHandler(db::Engine* engine, WriteKind kind) {
  return JsonHandler([engine, kind](const HttpRequest& request, const JsonElement& body) {
    return Write(engine, request, body, kind);
  });
}

}  // namespace

void RegisterRecordRoutes(Router* router, ServerContext* context) {
  db::Engine* engine = context->engine;
  router->Add("POST", RecordPath("add"), WriteHandler(engine, WriteKind::kAdd));
  router->Add("POST", RecordPath("upsert"), WriteHandler(engine, WriteKind::kUpsert));
  router->Add("POST", RecordPath("update"), WriteHandler(engine, WriteKind::kUpdate));
  router->Add("POST", RecordPath("delete"),
              JsonHandler([engine](const HttpRequest& request, const JsonElement& body) {
                return DeleteRecords(engine, request, body);
              }));
  router->Add("POST", RecordPath("get"),
              JsonHandler([engine](const HttpRequest& request, const JsonElement& body) {
                return GetRecords(engine, request, body);
              }));
  router->Add("POST", RecordPath("query"),
              JsonHandler([engine](const HttpRequest& request, const JsonElement& body) {
                return QueryRecords(engine, request, body);
              }));
  router->Add("GET", RecordPath("count"), PlainHandler([engine](const HttpRequest& request) {
                return CountRecords(engine, request);
              }));
  router->Add("POST", "/collections/{name}/add_batch",
              JsonHandler([engine](const HttpRequest& request, const JsonElement& body) {
                return AddBatch(engine, request, body);
              }));
}

}  // namespace ksdb::server
