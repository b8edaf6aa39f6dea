#include "server/router.h"

#include <gtest/gtest.h>

#include "server/http_server.h"

namespace ksdb::server {
namespace {

Handler Named(std::string name) {
  return [name](const HttpRequest& request) {
    HttpResponse response;
    response.body = name;
    for (const auto& [key, value] : request.path_params)
      response.body += "|" + key + "=" + value;
    return response;
  };
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/api/v2/heartbeat", Named("heartbeat"));
    router_.Add("GET", "/api/v2/tenants/{tenant}", Named("get_tenant"));
    router_.Add("PATCH", "/api/v2/tenants/{tenant}", Named("patch_tenant"));
    router_.Add("POST", "/api/v2/tenants/{tenant}/databases/{database}/collections/{id}/add",
                Named("add"));
    router_.Add("*", "/api/v1/{*rest}", Named("v1"));
  }

  HttpResponse Run(std::string method, std::string path) {
    HttpRequest request;
    request.method = std::move(method);
    request.path = std::move(path);
    return Dispatch(router_, request);
  }

  Router router_;
};

TEST_F(RouterTest, MatchesStaticAndParamRoutes) {
  EXPECT_EQ(Run("GET", "/api/v2/heartbeat").body, "heartbeat");
  EXPECT_EQ(Run("GET", "/api/v2/tenants/ten1").body, "get_tenant|tenant=ten1");
  EXPECT_EQ(Run("PATCH", "/api/v2/tenants/ten1").body, "patch_tenant|tenant=ten1");
  EXPECT_EQ(Run("POST", "/api/v2/tenants/t/databases/d/collections/c/add").body,
            "add|tenant=t|database=d|id=c");
}

TEST_F(RouterTest, UrlDecodesParams) {
  EXPECT_EQ(Run("GET", "/api/v2/tenants/a%20b%2Fc+d").body, "get_tenant|tenant=a b/c+d");
  EXPECT_EQ(UrlDecode("x%zz%4", false), "x%zz%4");
  EXPECT_EQ(UrlDecode("a+b", true), "a b");
}

TEST_F(RouterTest, UnknownPathIs404WithEmptyBody) {
  HttpResponse response = Run("GET", "/api/v2/nothing");
  EXPECT_EQ(response.status, 404);
  EXPECT_TRUE(response.body.empty());
  EXPECT_EQ(Run("GET", "/api/v2/heartbeat/").status, 404);  // trailing slash
  EXPECT_EQ(Run("GET", "/api/v2/tenants/").status, 404);    // empty param
  EXPECT_EQ(Run("GET", "/api/v2/tenants//x").status, 404);
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  HttpResponse response = Run("DELETE", "/api/v2/tenants/x");
  EXPECT_EQ(response.status, 405);
  EXPECT_TRUE(response.body.empty());
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].first, "allow");
  EXPECT_EQ(response.headers[0].second, "GET,HEAD,PATCH");
  EXPECT_EQ(Run("POST", "/api/v2/heartbeat").status, 405);
}

TEST_F(RouterTest, HeadRoutesToGet) {
  EXPECT_EQ(Run("HEAD", "/api/v2/heartbeat").body, "heartbeat");
  EXPECT_EQ(Run("HEAD", "/api/v2/tenants/t/databases/d/collections/c/add").status, 405);
}

TEST_F(RouterTest, CatchAllMatchesAnyDepthAndMethod) {
  EXPECT_EQ(Run("POST", "/api/v1/collections").body, "v1");
  EXPECT_EQ(Run("GET", "/api/v1/a/b/c").body, "v1");
  EXPECT_EQ(Run("GET", "/api/v1").status, 404);
}

TEST_F(RouterTest, ThrowingHandlerBecomes500) {
  router_.Add("GET", "/boom", [](const HttpRequest&) -> HttpResponse { throw std::bad_alloc(); });
  HttpResponse response = Run("GET", "/boom");
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body, R"({"error":"InternalError","message":"Internal error"})");
}

}  // namespace
}  // namespace ksdb::server
