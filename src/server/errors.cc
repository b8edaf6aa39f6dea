#include "server/errors.h"

#include <string>

#include "common/logging.h"
#include "server/json_writer.h"

namespace ksdb::server {
namespace {

constexpr char kTraceIdHeader[] = "chroma-trace-id";
constexpr char kZeroTraceId[] = "00000000000000000000000000000000";

// How one status code is reported: HTTP status and Chroma `error` name.
struct ErrorKind {
  int http_status;
  const char* name;
};

ErrorKind ErrorKindFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return {200, "ChromaError"};
    case StatusCode::kInvalidArgument:
      return {400, "InvalidArgumentError"};
    case StatusCode::kDuplicateId:
      return {400, "DuplicateID"};
    case StatusCode::kInvalidShape:
      return {422, "ChromaError"};
    case StatusCode::kNotFound:
      return {404, "NotFoundError"};
    case StatusCode::kAlreadyExists:
      return {409, "ChromaError"};
    case StatusCode::kForbidden:
      return {403, "ChromaError"};
    case StatusCode::kUnimplemented:
      return {501, "ChromaError"};
    case StatusCode::kPayloadTooLarge:
      return {413, "ChromaError"};
    case StatusCode::kUnavailable:
      return {503, "ChromaError"};
    case StatusCode::kIoError:
    case StatusCode::kCorruption:
    case StatusCode::kInternal:
      return {500, "InternalError"};
  }
  return {500, "ChromaError"};
}

}  // namespace

int HttpStatusFor(StatusCode code) {
  return ErrorKindFor(code).http_status;
}

const char* ErrorNameFor(StatusCode code) {
  return ErrorKindFor(code).name;
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
  const ErrorKind kind = ErrorKindFor(code);
  // Server faults (and only they) map to 500; their detail stays in the log.
  if (kind.http_status == 500) {
    Log(LogLevel::kError, "request failed: " + status.ToString());
    return ErrorResponse(kind.http_status, kind.name, "Internal error");
  }
  return ErrorResponse(kind.http_status, kind.name, status.message());
}

}  // namespace ksdb::server
