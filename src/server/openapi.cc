// GET /openapi.json: an OpenAPI 3.0 description of the routes this server
// serves, generated once from the table below.
#include <string>
#include <string_view>
#include <vector>

#include "server/handlers.h"
#include "server/json_writer.h"

namespace ksdb::server {
namespace {

struct RouteDoc {
  const char* method;  // lower case, as OpenAPI wants it
  const char* path;
  const char* summary;
  const char* request_schema;  // component name or nullptr
  int success_status;
  const char* response_schema;  // component name, or a JSON type keyword
};

std::vector<RouteDoc> Routes() {
  const std::string db = kDatabasePath;
  static const std::vector<std::string> kPaths = {db + "/collections",
                                                  db + "/collections_count",
                                                  db + "/collections/{collection_id}",
                                                  db + "/collections/{collection_id}/fork",
                                                  db + "/collections/{collection_id}/add",
                                                  db + "/collections/{collection_id}/upsert",
                                                  db + "/collections/{collection_id}/update",
                                                  db + "/collections/{collection_id}/delete",
                                                  db + "/collections/{collection_id}/get",
                                                  db + "/collections/{collection_id}/query",
                                                  db + "/collections/{collection_id}/count"};
  return {
      {"get", "/api/v2/heartbeat", "Server clock in nanoseconds", nullptr, 200, "Heartbeat"},
      {"get", "/api/v2/healthcheck", "Readiness", nullptr, 200, "Healthcheck"},
      {"get", "/api/v2/version", "Server version", nullptr, 200, "string"},
      {"get", "/api/v2/pre-flight-checks", "Client limits", nullptr, 200, "PreFlightChecks"},
      {"get", "/api/v2/auth/identity", "Caller identity", nullptr, 200, "Identity"},
      {"post", "/api/v2/reset", "Delete everything (if enabled)", nullptr, 200, "boolean"},
      {"post", "/api/v2/tenants", "Create a tenant", "NamePayload", 200, "Empty"},
      {"get", "/api/v2/tenants/{tenant}", "Get a tenant", nullptr, 200, "Tenant"},
      {"patch", "/api/v2/tenants/{tenant}", "Set a tenant's resource name", "UpdateTenantPayload",
       200, "Empty"},
      {"post", "/api/v2/tenants/{tenant}/databases", "Create a database", "NamePayload", 200,
       "Empty"},
      {"get", "/api/v2/tenants/{tenant}/databases", "List databases", nullptr, 200, "DatabaseList"},
      {"get", kDatabasePath, "Get a database", nullptr, 200, "Database"},
      {"delete", kDatabasePath, "Delete a database and its collections", nullptr, 200, "Empty"},
      {"get", kPaths[0].c_str(), "List collections", nullptr, 200, "CollectionList"},
      {"post", kPaths[0].c_str(), "Create a collection", "CreateCollectionPayload", 200,
       "Collection"},
      {"get", kPaths[1].c_str(), "Count collections", nullptr, 200, "integer"},
      {"get", kPaths[2].c_str(), "Get a collection by name", nullptr, 200, "Collection"},
      {"put", kPaths[2].c_str(), "Modify a collection (by UUID)", "UpdateCollectionPayload", 200,
       "Empty"},
      {"delete", kPaths[2].c_str(), "Delete a collection by name", nullptr, 200, "Empty"},
      {"post", kPaths[3].c_str(), "Fork (unsupported: 501)", "ForkPayload", 501, "Error"},
      {"post", kPaths[4].c_str(), "Add records", "WritePayload", 201, "Empty"},
      {"post", kPaths[5].c_str(), "Insert or merge-update records", "WritePayload", 200, "Empty"},
      {"post", kPaths[6].c_str(), "Merge-update existing records", "WritePayload", 200, "Empty"},
      {"post", kPaths[7].c_str(), "Delete matching records", "DeletePayload", 200, "Empty"},
      {"post", kPaths[8].c_str(), "Get records", "GetPayload", 200, "GetResult"},
      {"post", kPaths[9].c_str(), "Nearest-neighbour query", "QueryPayload", 200, "QueryResult"},
      {"get", kPaths[10].c_str(), "Count records", nullptr, 200, "integer"},
      {"post", "/collections/{name}/add_batch", "Batch add into default_database", "WritePayload",
       201, "Empty"},
  };
}

bool IsPrimitive(std::string_view schema) {
  return schema == "string" || schema == "integer" || schema == "boolean";
}

void WriteSchemaRef(std::string_view schema, JsonWriter* w) {
  w->BeginObject();
  if (IsPrimitive(schema)) {
    w->Key("type");
    w->String(schema);
  } else {
    w->Key("$ref");
    w->String("#/components/schemas/" + std::string(schema));
  }
  w->EndObject();
}

void WriteJsonContent(std::string_view schema, JsonWriter* w) {
  w->Key("content");
  w->BeginObject();
  w->Key("application/json");
  w->BeginObject();
  w->Key("schema");
  WriteSchemaRef(schema, w);
  w->EndObject();
  w->EndObject();
}

void WritePathParameters(std::string_view path, JsonWriter* w) {
  w->Key("parameters");
  w->BeginArray();
  size_t pos = 0;
  while ((pos = path.find('{', pos)) != std::string_view::npos) {
    size_t end = path.find('}', pos);
    w->BeginObject();
    w->Key("name");
    w->String(path.substr(pos + 1, end - pos - 1));
    w->Key("in");
    w->String("path");
    w->Key("required");
    w->Bool(true);
    w->Key("schema");
    WriteSchemaRef("string", w);
    w->EndObject();
    pos = end;
  }
  w->EndArray();
}

void WriteOperation(const RouteDoc& route, JsonWriter* w) {
  w->Key(route.method);
  w->BeginObject();
  w->Key("summary");
  w->String(route.summary);
  WritePathParameters(route.path, w);
  if (route.request_schema != nullptr) {
    w->Key("requestBody");
    w->BeginObject();
    w->Key("required");
    w->Bool(true);
    WriteJsonContent(route.request_schema, w);
    w->EndObject();
  }
  w->Key("responses");
  w->BeginObject();
  w->Key(std::to_string(route.success_status));
  w->BeginObject();
  w->Key("description");
  w->String(route.success_status >= 400 ? "Error" : "Success");
  WriteJsonContent(route.response_schema, w);
  w->EndObject();
  w->Key("default");
  w->BeginObject();
  w->Key("description");
  w->String("Error {\"error\", \"message\"}");
  WriteJsonContent("Error", w);
  w->EndObject();
  w->EndObject();
  w->EndObject();
}

// Component schemas, written as compact JSON text (our own, brief shapes).
constexpr std::string_view kSchemas = R"({
"Error":{"type":"object","properties":{"error":{"type":"string"},"message":{"type":"string"}}},
"Empty":{"type":"object"},
"Heartbeat":{"type":"object","properties":{"nanosecond heartbeat":{"type":"integer"}}},
"Healthcheck":{"type":"object","properties":{"is_executor_ready":{"type":"boolean"},"is_log_client_ready":{"type":"boolean"}}},
"PreFlightChecks":{"type":"object","properties":{"max_batch_size":{"type":"integer"},"supports_base64_encoding":{"type":"boolean"}}},
"Identity":{"type":"object","properties":{"user_id":{"type":"string"},"tenant":{"type":"string"},"databases":{"type":"array","items":{"type":"string"}}}},
"NamePayload":{"type":"object","required":["name"],"properties":{"name":{"type":"string","minLength":3}}},
"UpdateTenantPayload":{"type":"object","required":["resource_name"],"properties":{"resource_name":{"type":"string"}}},
"ForkPayload":{"type":"object","required":["new_name"],"properties":{"new_name":{"type":"string"}}},
"Tenant":{"type":"object","properties":{"name":{"type":"string"},"resource_name":{"type":"string","nullable":true}}},
"Database":{"type":"object","properties":{"id":{"type":"string","format":"uuid"},"name":{"type":"string"},"tenant":{"type":"string"}}},
"DatabaseList":{"type":"array","items":{"$ref":"#/components/schemas/Database"}},
"Metadata":{"type":"object","additionalProperties":{"oneOf":[{"type":"string"},{"type":"integer"},{"type":"number"},{"type":"boolean"},{"type":"array"}]}},
"Hnsw":{"type":"object","properties":{"space":{"type":"string","enum":["l2","cosine","ip"]},"ef_construction":{"type":"integer"},"ef_search":{"type":"integer"},"max_neighbors":{"type":"integer"},"num_threads":{"type":"integer"},"resize_factor":{"type":"number"},"sync_threshold":{"type":"integer"},"batch_size":{"type":"integer"}}},
"Configuration":{"type":"object","properties":{"hnsw":{"$ref":"#/components/schemas/Hnsw"},"spann":{"type":"object","nullable":true},"embedding_function":{"type":"object","nullable":true}}},
"Collection":{"type":"object","properties":{"id":{"type":"string","format":"uuid"},"name":{"type":"string"},"configuration_json":{"$ref":"#/components/schemas/Configuration"},"metadata":{"$ref":"#/components/schemas/Metadata"},"dimension":{"type":"integer","nullable":true},"tenant":{"type":"string"},"database":{"type":"string"},"log_position":{"type":"integer"},"version":{"type":"integer"}}},
"CollectionList":{"type":"array","items":{"$ref":"#/components/schemas/Collection"}},
"CreateCollectionPayload":{"type":"object","required":["name"],"properties":{"name":{"type":"string"},"metadata":{"$ref":"#/components/schemas/Metadata"},"configuration":{"$ref":"#/components/schemas/Configuration"},"get_or_create":{"type":"boolean"}}},
"UpdateCollectionPayload":{"type":"object","properties":{"new_name":{"type":"string"},"new_metadata":{"$ref":"#/components/schemas/Metadata"},"new_configuration":{"$ref":"#/components/schemas/Configuration"}}},
"Embeddings":{"type":"array","description":"number arrays, or base64 strings of little-endian float32","items":{"oneOf":[{"type":"array","items":{"type":"number"}},{"type":"string","format":"byte"}]}},
"WritePayload":{"type":"object","required":["ids"],"properties":{"ids":{"type":"array","items":{"type":"string"}},"embeddings":{"$ref":"#/components/schemas/Embeddings"},"documents":{"type":"array","items":{"type":"string","nullable":true}},"uris":{"type":"array","items":{"type":"string","nullable":true}},"metadatas":{"type":"array","items":{"$ref":"#/components/schemas/Metadata"}}}},
"Include":{"type":"array","items":{"type":"string","enum":["distances","documents","embeddings","metadatas","uris"]}},
"DeletePayload":{"type":"object","properties":{"ids":{"type":"array","items":{"type":"string"}},"where":{"type":"object"},"where_document":{"type":"object"}}},
"GetPayload":{"type":"object","properties":{"ids":{"type":"array","items":{"type":"string"}},"where":{"type":"object"},"where_document":{"type":"object"},"limit":{"type":"integer","minimum":0},"offset":{"type":"integer","minimum":0},"include":{"$ref":"#/components/schemas/Include"}}},
"QueryPayload":{"type":"object","required":["query_embeddings"],"properties":{"query_embeddings":{"type":"array","items":{"type":"array","items":{"type":"number"}}},"n_results":{"type":"integer","minimum":0,"default":10},"ids":{"type":"array","items":{"type":"string"}},"where":{"type":"object"},"where_document":{"type":"object"},"include":{"$ref":"#/components/schemas/Include"}}},
"GetResult":{"type":"object","properties":{"ids":{"type":"array","items":{"type":"string"}},"embeddings":{"type":"array","nullable":true},"documents":{"type":"array","nullable":true},"uris":{"type":"array","nullable":true},"metadatas":{"type":"array","nullable":true},"include":{"$ref":"#/components/schemas/Include"}}},
"QueryResult":{"type":"object","properties":{"ids":{"type":"array","items":{"type":"array","items":{"type":"string"}}},"embeddings":{"type":"array","nullable":true},"documents":{"type":"array","nullable":true},"uris":{"type":"array","nullable":true},"metadatas":{"type":"array","nullable":true},"distances":{"type":"array","nullable":true},"include":{"$ref":"#/components/schemas/Include"}}}
})";

std::string BuildDocument() {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("openapi");
  w.String("3.0.3");
  w.Key("info");
  w.BeginObject();
  w.Key("title");
  w.String("ksdb");
  w.Key("description");
  w.String("Vector database with a Chroma-compatible HTTP API v2");
  w.Key("version");
  w.String(KSDB_VERSION);
  w.EndObject();
  w.Key("paths");
  w.BeginObject();
  std::vector<RouteDoc> routes = Routes();
  std::vector<bool> done(routes.size(), false);
  // OpenAPI groups operations by path; routes of one path are written together.
  for (size_t i = 0; i < routes.size(); ++i) {
    if (done[i])
      continue;
    w.Key(routes[i].path);
    w.BeginObject();
    for (size_t j = i; j < routes.size(); ++j) {
      if (!done[j] && std::string_view(routes[j].path) == routes[i].path) {
        WriteOperation(routes[j], &w);
        done[j] = true;
      }
    }
    w.EndObject();
  }
  w.EndObject();
  w.Key("components");
  w.BeginObject();
  w.Key("schemas");
  std::string schemas(kSchemas);
  std::erase(schemas, '\n');
  w.Raw(schemas);
  w.EndObject();
  w.EndObject();
  return out;
}

}  // namespace

const std::string& OpenApiDocument() {
  static const std::string kDocument = BuildDocument();
  return kDocument;
}

void RegisterOpenApiRoute(Router* router) {
  router->Add("GET", "/openapi.json",
              [](const HttpRequest&) { return JsonResponse(200, OpenApiDocument()); });
}

}  // namespace ksdb::server
