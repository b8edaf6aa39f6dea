// Tenant routes (spec §3.1).
#include <string>

#include "server/catalog_decode.h"
#include "server/handlers.h"
#include "server/json_writer.h"

namespace ksdb::server {

void RegisterTenantRoutes(Router* router, ServerContext* context) {
  db::Engine* engine = context->engine;
  router->Add(
      "POST", "/api/v2/tenants",
      JsonHandler([engine](const HttpRequest&, const JsonElement& body) -> Result<HttpResponse> {
        KSDB_ASSIGN_OR_RETURN(std::string name,
                              DecodeStringField(body, "CreateTenantPayload", "name"));
        KSDB_RETURN_IF_ERROR(engine->CreateTenant(name));
        return EmptyObjectResponse();
      }));
  router->Add("GET", "/api/v2/tenants/{tenant}",
              PlainHandler([engine](const HttpRequest& request) -> Result<HttpResponse> {
                KSDB_ASSIGN_OR_RETURN(db::TenantInfo tenant,
                                      engine->GetTenant(request.PathParam("tenant")));
                std::string body;
                JsonWriter writer(&body);
                writer.BeginObject();
                writer.Key("name");
                writer.String(tenant.name);
                writer.Key("resource_name");
                if (tenant.resource_name) {
                  writer.String(*tenant.resource_name);
                } else {
                  writer.Null();
                }
                writer.EndObject();
                return JsonResponse(200, std::move(body));
              }));
  router->Add(
      "PATCH", "/api/v2/tenants/{tenant}",
      JsonHandler(
          [engine](const HttpRequest& request, const JsonElement& body) -> Result<HttpResponse> {
            KSDB_ASSIGN_OR_RETURN(std::string resource_name,
                                  DecodeStringField(body, "UpdateTenantPayload", "resource_name"));
            KSDB_RETURN_IF_ERROR(engine->UpdateTenant(request.PathParam("tenant"), resource_name));
            return EmptyObjectResponse();
          }));
}

}  // namespace ksdb::server
