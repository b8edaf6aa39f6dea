#include "server/handler_util.h"

#include <charconv>
#include <limits>

#include "common/uuid.h"
#include "server/errors.h"

namespace ksdb::server {
namespace {

HttpResponse ToResponse(Result<HttpResponse> result) {
  if (result.ok())
    return std::move(result).value();
  return ErrorResponse(result.status());
}

HttpResponse UnsupportedMediaType() {
  return ErrorResponse(415, "ChromaError",
                       "Expected request with `Content-Type: application/json`");
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

// A parser keeps the buffers of the largest document it parsed; beyond this
// they are released so one huge add does not pin memory in every worker.
constexpr size_t kMaxRetainedParserCapacity = 1 << 20;

// This thread's parser: reusing it saves simdjson's buffer allocations on
// every request. Handlers never nest, so one per thread is enough.
simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

void TrimThreadParser() {
  simdjson::dom::parser& parser = ThreadParser();
  if (parser.capacity() > kMaxRetainedParserCapacity)
    parser = simdjson::dom::parser();
}

// Parses the body with this thread's parser and runs `fn` on it.
HttpResponse RunWithBody(const JsonFn& fn, const HttpRequest& request) {
  Result<JsonElement> body = ParseJsonText(request.body, &ThreadParser());
  HttpResponse response = body.ok() ? ToResponse(fn(request, *body)) : ErrorResponse(body.status());
  TrimThreadParser();
  return response;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] + 32) : b[i];
    if (x != y)
      return false;
  }
  return true;
}

}  // namespace

HttpResponse JsonResponse(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.content_type = "application/json";
  return response;
}

HttpResponse EmptyObjectResponse(int status) {
  return JsonResponse(status, "{}");
}

bool IsJsonContentType(std::string_view content_type) {
  std::string_view mime = Trim(content_type.substr(0, content_type.find(';')));
  if (EqualsIgnoreCase(mime, "application/json"))
    return true;
  constexpr std::string_view kPrefix = "application/";
  constexpr std::string_view kSuffix = "+json";
  return mime.size() > kPrefix.size() + kSuffix.size() &&
         EqualsIgnoreCase(mime.substr(0, kPrefix.size()), kPrefix) &&
         EqualsIgnoreCase(mime.substr(mime.size() - kSuffix.size()), kSuffix);
}

Handler PlainHandler(PlainFn fn) {
  return [fn = std::move(fn)](const HttpRequest& request) { return ToResponse(fn(request)); };
}

Handler JsonHandler(JsonFn fn) {
  return [fn = std::move(fn)](const HttpRequest& request) {
    if (request.has_content_type && !IsJsonContentType(request.content_type)) {
      return UnsupportedMediaType();
    }
    return RunWithBody(fn, request);
  };
}

Result<std::optional<uint32_t>> QueryU32(const HttpRequest& request, std::string_view name) {
  const std::string* text = FindPair(request.query_params, name);
  if (text == nullptr)
    return std::optional<uint32_t>();
  auto fail = [&](std::string_view reason) {
    return Status::InvalidArgument("Failed to deserialize query string: " + std::string(name) +
                                   ": " + std::string(reason));
  };
  if (text->empty())
    return fail("cannot parse integer from empty string");
  uint64_t value = 0;
  const char* begin = text->data();
  const char* end = begin + text->size();
  if (*begin == '+')
    ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec == std::errc::result_out_of_range)
    return fail("number too large to fit in target type");
  if (ec != std::errc() || ptr != end || begin == end)
    return fail("invalid digit found in string");
  if (value > std::numeric_limits<uint32_t>::max()) {
    return fail("number too large to fit in target type");
  }
  return std::optional<uint32_t>(static_cast<uint32_t>(value));
}

Result<std::string> ParseCollectionId(const std::string& raw) {
  std::optional<std::string> canonical = ParseUuid(raw);
  if (!canonical)
    return Status::InvalidArgument("Collection ID is not a valid UUIDv4");
  return *canonical;
}

Result<db::CollectionInfo> ResolveCollection(db::Engine* engine, const HttpRequest& request) {
  KSDB_ASSIGN_OR_RETURN(std::string id, ParseCollectionId(request.PathParam("collection_id")));
  KSDB_ASSIGN_OR_RETURN(db::CollectionInfo collection, engine->GetCollectionById(id));
  if (collection.tenant != request.PathParam("tenant") ||
      collection.database != request.PathParam("database")) {
    return Status::NotFound("Collection [" + id + "] does not exists.");
  }
  return collection;
}

}  // namespace ksdb::server
