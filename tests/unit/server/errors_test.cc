#include "server/errors.h"

#include <gtest/gtest.h>

namespace ksdb::server {
namespace {

struct Mapping {
  StatusCode code;
  int http;
  const char* name;
};

TEST(ErrorsTest, MapsEveryCode) {
  const Mapping kMappings[] = {
      {StatusCode::kInvalidArgument, 400, "InvalidArgumentError"},
      {StatusCode::kDuplicateId, 400, "DuplicateID"},
      {StatusCode::kInvalidShape, 422, "ChromaError"},
      {StatusCode::kNotFound, 404, "NotFoundError"},
      {StatusCode::kAlreadyExists, 409, "ChromaError"},
      {StatusCode::kForbidden, 403, "ChromaError"},
      {StatusCode::kUnimplemented, 501, "ChromaError"},
      {StatusCode::kUnavailable, 503, "ChromaError"},
      {StatusCode::kIoError, 500, "InternalError"},
      {StatusCode::kCorruption, 500, "InternalError"},
      {StatusCode::kInternal, 500, "InternalError"},
  };
  for (const Mapping& m : kMappings) {
    EXPECT_EQ(HttpStatusFor(m.code), m.http) << StatusCodeName(m.code);
    EXPECT_STREQ(ErrorNameFor(m.code), m.name) << StatusCodeName(m.code);
  }
  EXPECT_EQ(HttpStatusFor(StatusCode::kPayloadTooLarge), 413);
}

TEST(ErrorsTest, BuildsChromaErrorBody) {
  HttpResponse response = ErrorResponse(Status::NotFound("Tenant [x] not found"));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, R"({"error":"NotFoundError","message":"Tenant [x] not found"})");
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].first, "chroma-trace-id");
  EXPECT_EQ(response.headers[0].second, std::string(32, '0'));
}

TEST(ErrorsTest, HidesInternalDetails) {
  HttpResponse response = ErrorResponse(Status::IoError("disk full at /secret/path/db.sqlite"));
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body, R"({"error":"InternalError","message":"Internal error"})");
}

TEST(ErrorsTest, PayloadTooLargeIsPlainText) {
  HttpResponse response = ErrorResponse(Status::PayloadTooLarge("big"));
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(response.body, "Payload too large");
  EXPECT_EQ(response.content_type, "text/plain");
}

TEST(ErrorsTest, EscapesMessage) {
  HttpResponse response = ErrorResponse(Status::InvalidArgument("bad \"x\"\n"));
  EXPECT_EQ(response.body, R"({"error":"InvalidArgumentError","message":"bad \"x\"\n"})");
}

}  // namespace
}  // namespace ksdb::server
