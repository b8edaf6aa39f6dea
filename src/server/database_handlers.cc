// Database routes (spec §3.2).
#include <string>
#include <vector>

#include "server/catalog_decode.h"
#include "server/handlers.h"
#include "server/response_encode.h"

namespace ksdb::server {
namespace {

Result<HttpResponse> ListDatabases(db::Engine* engine, const HttpRequest& request) {
  KSDB_ASSIGN_OR_RETURN(std::optional<uint32_t> limit, QueryU32(request, "limit"));
  KSDB_ASSIGN_OR_RETURN(std::optional<uint32_t> offset, QueryU32(request, "offset"));
  KSDB_ASSIGN_OR_RETURN(
      std::vector<db::DatabaseInfo> databases,
      engine->ListDatabases(request.PathParam("tenant"), limit, offset.value_or(0)));
  std::string body;
  JsonWriter writer(&body);
  writer.BeginArray();
  for (const db::DatabaseInfo& database : databases)
    WriteDatabase(database, &writer);
  writer.EndArray();
  return JsonResponse(200, std::move(body));
}

}  // namespace

void RegisterDatabaseRoutes(Router* router, ServerContext* context) {
  db::Engine* engine = context->engine;
  constexpr char kDatabases[] = "/api/v2/tenants/{tenant}/databases";
  router->Add("POST", kDatabases,
              JsonHandler([engine](const HttpRequest& request,
                                   const JsonElement& body) -> Result<HttpResponse> {
                KSDB_ASSIGN_OR_RETURN(std::string name,
                                      DecodeStringField(body, "CreateDatabasePayload", "name"));
                KSDB_RETURN_IF_ERROR(engine->CreateDatabase(request.PathParam("tenant"), name));
                return EmptyObjectResponse();
              }));
  router->Add("GET", kDatabases, PlainHandler([engine](const HttpRequest& request) {
                return ListDatabases(engine, request);
              }));
  router->Add("GET", kDatabasePath,
              PlainHandler([engine](const HttpRequest& request) -> Result<HttpResponse> {
                KSDB_ASSIGN_OR_RETURN(db::DatabaseInfo database,
                                      engine->GetDatabase(request.PathParam("tenant"),
                                                          request.PathParam("database")));
                std::string body;
                JsonWriter writer(&body);
                WriteDatabase(database, &writer);
                return JsonResponse(200, std::move(body));
              }));
  router->Add("DELETE", kDatabasePath,
              PlainHandler([engine](const HttpRequest& request) -> Result<HttpResponse> {
                KSDB_RETURN_IF_ERROR(engine->DeleteDatabase(request.PathParam("tenant"),
                                                            request.PathParam("database")));
                return EmptyObjectResponse();
              }));
}

}  // namespace ksdb::server
