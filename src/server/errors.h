// Mapping from ksdb::Status to Chroma's HTTP error responses (spec §1.2):
// status code, `error` name and the JSON body {"error": ..., "message": ...}.
#ifndef KSDB_SERVER_ERRORS_H_
#define KSDB_SERVER_ERRORS_H_

#include <string_view>

#include "common/status.h"
#include "server/http_types.h"

namespace ksdb::server {

// The HTTP status for a non-OK `code` (200 for kOk).
int HttpStatusFor(StatusCode code);

// The Chroma `error` name for `code`, e.g. "InvalidArgumentError".
const char* ErrorNameFor(StatusCode code);

// The full error response for a non-OK `status`. 500-class failures get a
// generic message (the detail is logged, never sent: it may name files or SQL).
// 413 is plain text "Payload too large". Errors carry chroma-trace-id.
HttpResponse ErrorResponse(const Status& status);

// An error response with an explicit status, name and message (e.g. v1 410).
HttpResponse ErrorResponse(int http_status, std::string_view error, std::string_view message);

// The plain-text 413 response of spec §1.1.
HttpResponse PayloadTooLargeResponse();

}  // namespace ksdb::server

#endif  // KSDB_SERVER_ERRORS_H_
