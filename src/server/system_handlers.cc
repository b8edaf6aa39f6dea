// System routes (spec §2): heartbeat, healthcheck, version, pre-flight checks,
// identity, reset, the v1 and CRN stubs; and ksdb's own GET /api/v2/ksdb/stats.
#include <chrono>
#include <string>

#include "server/errors.h"
#include "server/handlers.h"
#include "server/json_writer.h"

namespace ksdb::server {
namespace {

Result<HttpResponse> Heartbeat(const HttpRequest&) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  int64_t nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
  return JsonResponse(200, "{\"nanosecond heartbeat\":" + std::to_string(nanos) + "}");
}

Result<HttpResponse> Healthcheck(const HttpRequest&) {
  return JsonResponse(200, "{\"is_executor_ready\":true,\"is_log_client_ready\":true}");
}

Result<HttpResponse> Version(const HttpRequest&) {
  std::string body;
  AppendJsonString(KSDB_VERSION, &body);
  return JsonResponse(200, std::move(body));
}

Result<HttpResponse> PreFlightChecks(const HttpRequest&) {
  return JsonResponse(200, "{\"max_batch_size\":" + std::to_string(kMaxBatchSize) +
                               ",\"supports_base64_encoding\":true}");
}

Result<HttpResponse> Identity(const HttpRequest&) {
  std::string body;
  JsonWriter writer(&body);
  writer.BeginObject();
  writer.Key("user_id");
  writer.String("");
  writer.Key("tenant");
  writer.String(db::kDefaultTenant);
  writer.Key("databases");
  writer.BeginArray();
  writer.String(db::kDefaultDatabase);
  writer.EndArray();
  writer.EndObject();
  return JsonResponse(200, std::move(body));
}

void StatsField(JsonWriter* writer, std::string_view key, uint64_t value) {
  writer->Key(key);
  writer->Uint(value);
}

void WritePoolStats(const storage::postgres::PoolStats& pool, JsonWriter* writer) {
  writer->BeginObject();
  StatsField(writer, "pool_size", pool.pool_size);
  StatsField(writer, "max_overflow", pool.max_overflow);
  StatsField(writer, "in_use", pool.in_use);
  StatsField(writer, "idle", pool.idle);
  StatsField(writer, "overflow", pool.overflow);
  StatsField(writer, "waiting", pool.waiting);
  StatsField(writer, "checkouts", pool.checkouts);
  StatsField(writer, "waits", pool.waits);
  StatsField(writer, "timeouts", pool.timeouts);
  StatsField(writer, "reconnects", pool.reconnects);
  StatsField(writer, "discarded", pool.discarded);
  StatsField(writer, "connect_errors", pool.connect_errors);
  writer->EndObject();
}

// ksdb's statistics: the engine's counters and, on PostgreSQL, the pool's.
Result<HttpResponse> Stats(ServerContext* context) {
  const db::EngineStats stats = context->engine->Stats();
  std::string body;
  JsonWriter writer(&body);
  writer.BeginObject();
  writer.Key("store");
  writer.String(stats.store_kind);
  StatsField(&writer, "collections", stats.collections);
  StatsField(&writer, "records", stats.records);
  StatsField(&writer, "last_sequence", stats.last_sequence);
  StatsField(&writer, "vectors_indexed_on_open", stats.vectors_indexed_on_open);
  StatsField(&writer, "index_memory_bytes", stats.index_memory_bytes);
  StatsField(&writer, "vectors_pending", stats.vectors_pending);
  writer.Key("follower");
  writer.BeginObject();
  StatsField(&writer, "passes", stats.follow_passes);
  StatsField(&writer, "records", stats.followed_records);
  StatsField(&writer, "deletes", stats.followed_deletes);
  StatsField(&writer, "errors", stats.follow_errors);
  writer.EndObject();
  writer.Key("pool");
  if (stats.pool) {
    WritePoolStats(*stats.pool, &writer);
  } else {
    writer.Null();
  }
  writer.EndObject();
  return JsonResponse(200, std::move(body));
}

Result<HttpResponse> V1Gone(const HttpRequest&) {
  return ErrorResponse(410, "Unimplemented", "The v1 API is deprecated. Please use /v2 apis");
}

Result<HttpResponse> CollectionByCrn(const HttpRequest&) {
  return Status::Unimplemented("Getting a collection by CRN is not supported by this server");
}

}  // namespace

void RegisterSystemRoutes(Router* router, ServerContext* context) {
  router->Add("GET", "/api/v2", PlainHandler(Heartbeat));
  router->Add("GET", "/api/v2/heartbeat", PlainHandler(Heartbeat));
  router->Add("GET", "/api/v2/healthcheck", PlainHandler(Healthcheck));
  router->Add("GET", "/api/v2/version", PlainHandler(Version));
  router->Add("GET", "/api/v2/pre-flight-checks", PlainHandler(PreFlightChecks));
  router->Add("GET", "/api/v2/auth/identity", PlainHandler(Identity));
  router->Add("POST", "/api/v2/reset",
              PlainHandler([context](const HttpRequest&) -> Result<HttpResponse> {
                KSDB_RETURN_IF_ERROR(context->engine->Reset());
                return JsonResponse(200, "true");
              }));
  router->Add("GET", "/api/v2/ksdb/stats",
              PlainHandler([context](const HttpRequest&) { return Stats(context); }));
  router->Add("GET", "/api/v2/collections/{crn}", PlainHandler(CollectionByCrn));
  router->Add("*", "/api/v1", PlainHandler(V1Gone));
  router->Add("*", "/api/v1/{*rest}", PlainHandler(V1Gone));
}

void RegisterAllRoutes(Router* router, ServerContext* context) {
  RegisterSystemRoutes(router, context);
  RegisterTenantRoutes(router, context);
  RegisterDatabaseRoutes(router, context);
  RegisterCollectionRoutes(router, context);
  RegisterRecordRoutes(router, context);
  RegisterOpenApiRoute(router);
}

}  // namespace ksdb::server
