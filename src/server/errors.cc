#include "server/errors.h"

#include <string>

#include "common/logging.h"
#include "server/json_writer.h"

namespace ksdb::server {
namespace {

constexpr char kTraceIdHeader[] = "chroma-trace-id";
constexpr char kZeroTraceId[] = "00000000000000000000000000000000";

bool IsServerFault(StatusCode code) {
  return code == StatusCode::kIoError || code == StatusCode::kCorruption ||
         code == StatusCode::kInternal;
}

}  // namespace

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kDuplicateId:
      return 400;
    case StatusCode::kInvalidShape:
      return 422;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kForbidden:
      return 403;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kPayloadTooLarge:
      return 413;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kIoError:
    case StatusCode::kCorruption:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

const char* ErrorNameFor(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return "InvalidArgumentError";
    case StatusCode::kDuplicateId:
      return "DuplicateID";
    case StatusCode::kNotFound:
      return "NotFoundError";
    case StatusCode::kIoError:
    case StatusCode::kCorruption:
    case StatusCode::kInternal:
      return "InternalError";
    default:
      return "ChromaError";
  }
}

HttpResponse ErrorResponse(int http_status, std::string_view error, std::string_view message) {
  HttpResponse response;
  response.status = http_status;
  response.content_type = "application/json";
  JsonWriter writer(&response.body);
  writer.BeginObject();
  writer.Key("error");
  writer.String(error);
  writer.Key("message");
  writer.String(message);
  writer.EndObject();
  response.headers.emplace_back(kTraceIdHeader, kZeroTraceId);
  return response;
}

HttpResponse PayloadTooLargeResponse() {
  HttpResponse response;
  response.status = 413;
  response.body = "Payload too large";
  response.content_type = "text/plain";
  return response;
}

HttpResponse ErrorResponse(const Status& status) {
  const StatusCode code = status.code();
  if (code == StatusCode::kPayloadTooLarge)
    return PayloadTooLargeResponse();
  if (IsServerFault(code)) {
    Log(LogLevel::kError, "request failed: " + status.ToString());
    return ErrorResponse(HttpStatusFor(code), ErrorNameFor(code), "Internal error");
  }
  return ErrorResponse(HttpStatusFor(code), ErrorNameFor(code), status.message());
}

}  // namespace ksdb::server
