// Shared plumbing for the route handlers: response builders, request-body
// parsing with Chroma's 415/400 rules, query-string integers and collection
// lookup by UUID.
#ifndef KSDB_SERVER_HANDLER_UTIL_H_
#define KSDB_SERVER_HANDLER_UTIL_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "db/engine.h"
#include "server/http_types.h"
#include "server/json_body.h"
#include "server/router.h"

namespace ksdb::server {

// What every handler can reach. The engine is not owned and outlives the server.
struct ServerContext {
  db::Engine* engine = nullptr;
};

// A 2xx JSON response with `body`.
HttpResponse JsonResponse(int status, std::string body);
// 200 (or `status`) with the body "{}".
HttpResponse EmptyObjectResponse(int status = 200);

// Whether `content_type` is application/json or application/<x>+json, with
// any parameters.
bool IsJsonContentType(std::string_view content_type);

// A handler without a request body; a non-OK result becomes the error response.
using PlainFn = std::function<Result<HttpResponse>(const HttpRequest&)>;
// A handler with a JSON body, parsed before `fn` runs: a non-JSON Content-Type
// gives 415, a syntax error 400.
using JsonFn = std::function<Result<HttpResponse>(const HttpRequest&, const JsonElement& body)>;

Handler PlainHandler(PlainFn fn);
Handler JsonHandler(JsonFn fn);

// The query parameter `name` as u32; nullopt when absent. Bad text gives 400
// "Failed to deserialize query string: <name>: <reason>".
Result<std::optional<uint32_t>> QueryU32(const HttpRequest& request, std::string_view name);

// The canonical form of a collection UUID from a path; 400 "Collection ID is
// not a valid UUIDv4" otherwise.
Result<std::string> ParseCollectionId(const std::string& raw);

// The collection named by the {collection_id} UUID of a record route. It must
// belong to the path's {tenant}/{database} (spec §12 #12: 404 otherwise).
Result<db::CollectionInfo> ResolveCollection(db::Engine* engine, const HttpRequest& request);

}  // namespace ksdb::server

#endif  // KSDB_SERVER_HANDLER_UTIL_H_
