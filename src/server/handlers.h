// Route registration, one function per resource (spec §2-§8). Each registers
// its routes on `router`; handlers keep `context` (not owned), which must
// outlive the router.
#ifndef KSDB_SERVER_HANDLERS_H_
#define KSDB_SERVER_HANDLERS_H_

#include "server/handler_util.h"
#include "server/router.h"

namespace ksdb::server {

// The prefix of every database-scoped route.
inline constexpr char kDatabasePath[] = "/api/v2/tenants/{tenant}/databases/{database}";

// Advertised by pre-flight-checks; clients split bigger batches themselves.
inline constexpr int kMaxBatchSize = 100000;

void RegisterSystemRoutes(Router* router, ServerContext* context);
void RegisterTenantRoutes(Router* router, ServerContext* context);
void RegisterDatabaseRoutes(Router* router, ServerContext* context);
void RegisterCollectionRoutes(Router* router, ServerContext* context);
void RegisterRecordRoutes(Router* router, ServerContext* context);
// GET /openapi.json.
void RegisterOpenApiRoute(Router* router);

// Every route above.
void RegisterAllRoutes(Router* router, ServerContext* context);

// The OpenAPI 3.0 document describing the routes we serve.
const std::string& OpenApiDocument();

}  // namespace ksdb::server

#endif  // KSDB_SERVER_HANDLERS_H_
