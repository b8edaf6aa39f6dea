// Collection routes (spec §4): list, create, count, get/delete by name,
// modify by UUID, fork (unsupported).
#include <string>
#include <vector>

#include "server/catalog_decode.h"
#include "server/handlers.h"
#include "server/response_encode.h"

namespace ksdb::server {
namespace {

std::string Path(const char* suffix) {
  return std::string(kDatabasePath) + suffix;
}

HttpResponse CollectionResponse(const db::CollectionInfo& collection) {
  std::string body;
  JsonWriter writer(&body);
  WriteCollection(collection, &writer);
  return JsonResponse(200, std::move(body));
}

Result<HttpResponse> ListCollections(db::Engine* engine, const HttpRequest& request) {
  KSDB_ASSIGN_OR_RETURN(std::optional<uint32_t> limit, QueryU32(request, "limit"));
  KSDB_ASSIGN_OR_RETURN(std::optional<uint32_t> offset, QueryU32(request, "offset"));
  KSDB_ASSIGN_OR_RETURN(
      std::vector<db::CollectionInfo> collections,
      engine->ListCollections(request.PathParam("tenant"), request.PathParam("database"), limit,
                              offset.value_or(0)));
  std::string body;
  JsonWriter writer(&body);
  writer.BeginArray();
  for (const db::CollectionInfo& collection : collections)
    WriteCollection(collection, &writer);
  writer.EndArray();
  return JsonResponse(200, std::move(body));
}

Result<HttpResponse> CreateCollection(db::Engine* engine, const HttpRequest& request,
                                      const JsonElement& body) {
  KSDB_ASSIGN_OR_RETURN(db::CreateCollectionRequest create, DecodeCreateCollection(body));
  KSDB_ASSIGN_OR_RETURN(
      db::CollectionInfo collection,
      engine->CreateCollection(request.PathParam("tenant"), request.PathParam("database"), create));
  return CollectionResponse(collection);
}

Result<HttpResponse> ModifyCollection(db::Engine* engine, const HttpRequest& request,
                                      const JsonElement& body) {
  KSDB_ASSIGN_OR_RETURN(db::ModifyCollectionRequest modify, DecodeModifyCollection(body));
  KSDB_ASSIGN_OR_RETURN(db::CollectionInfo collection, ResolveCollection(engine, request));
  KSDB_RETURN_IF_ERROR(engine->ModifyCollection(collection.id, modify));
  return EmptyObjectResponse();
}

Result<HttpResponse> ForkCollection(const HttpRequest& request, const JsonElement& body) {
  KSDB_RETURN_IF_ERROR(DecodeStringField(body, "ForkCollectionPayload", "new_name").status());
  KSDB_RETURN_IF_ERROR(ParseCollectionId(request.PathParam("collection_id")).status());
  return Status::Unimplemented("Collection forking is unsupported for local chroma");
}

}  // namespace

void RegisterCollectionRoutes(Router* router, ServerContext* context) {
  db::Engine* engine = context->engine;
  router->Add("GET", Path("/collections"), PlainHandler([engine](const HttpRequest& request) {
                return ListCollections(engine, request);
              }));
  router->Add("POST", Path("/collections"),
              JsonHandler([engine](const HttpRequest& request, const JsonElement& body) {
                return CreateCollection(engine, request, body);
              }));
  router->Add("GET", Path("/collections_count"),
              PlainHandler([engine](const HttpRequest& request) -> Result<HttpResponse> {
                KSDB_ASSIGN_OR_RETURN(uint64_t count,
                                      engine->CountCollections(request.PathParam("tenant"),
                                                               request.PathParam("database")));
                return JsonResponse(200, std::to_string(count));
              }));
  router->Add(
      "GET", Path("/collections/{collection_id}"),
      PlainHandler([engine](const HttpRequest& request) -> Result<HttpResponse> {
        KSDB_ASSIGN_OR_RETURN(
            db::CollectionInfo collection,
            engine->GetCollectionByName(request.PathParam("tenant"), request.PathParam("database"),
                                        request.PathParam("collection_id")));
        return CollectionResponse(collection);
      }));
  router->Add("PUT", Path("/collections/{collection_id}"),
              JsonHandler([engine](const HttpRequest& request, const JsonElement& body) {
                return ModifyCollection(engine, request, body);
              }));
  router->Add("DELETE", Path("/collections/{collection_id}"),
              PlainHandler([engine](const HttpRequest& request) -> Result<HttpResponse> {
                KSDB_RETURN_IF_ERROR(engine->DeleteCollection(request.PathParam("tenant"),
                                                              request.PathParam("database"),
                                                              request.PathParam("collection_id")));
                return EmptyObjectResponse();
              }));
  router->Add("POST", Path("/collections/{collection_id}/fork"), JsonHandler(ForkCollection));
}

}  // namespace ksdb::server
