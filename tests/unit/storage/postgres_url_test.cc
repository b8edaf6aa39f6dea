// Parsing of postgresql:// store URLs (no server needed).
#include <gtest/gtest.h>

#include <string>

#include "storage/postgres/url.h"

namespace ksdb::storage::postgres {
namespace {

ParsedUrl ParseOk(const std::string& url) {
  auto parsed = ParsePostgresUrl(url, PoolOptions{});
  EXPECT_TRUE(parsed.ok()) << url << ": " << parsed.status().ToString();
  return parsed.ok() ? *parsed : ParsedUrl{};
}

TEST(PostgresUrlTest, FullUrl) {
  ParsedUrl url = ParseOk("postgresql://alice:s3cret@db.example.com:6543/vectors");
  EXPECT_EQ(url.connect.user, "alice");
  EXPECT_EQ(url.connect.password, "s3cret");
  EXPECT_EQ(url.connect.host, "db.example.com");
  EXPECT_EQ(url.connect.port, 6543);
  EXPECT_EQ(url.connect.dbname, "vectors");
  EXPECT_EQ(url.connect.Redacted(), "postgresql://alice@db.example.com:6543/vectors");
  EXPECT_EQ(url.pool.pool_size, 20u);
  EXPECT_EQ(url.pool.max_overflow, 10u);
  EXPECT_TRUE(url.pool.pre_ping);
}

TEST(PostgresUrlTest, DefaultsAndShortScheme) {
  ParsedUrl url = ParseOk("postgres://bob@127.0.0.1/db");
  EXPECT_EQ(url.connect.port, 5432);
  EXPECT_EQ(url.connect.password, std::nullopt);  // libpq falls back to PGPASSWORD
  EXPECT_EQ(url.connect.host, "127.0.0.1");
}

TEST(PostgresUrlTest, PercentEncodingIpv6AndSocketDirectory) {
  ParsedUrl url = ParseOk("postgresql://us%40er:p%3Aw%2Fd@[::1]:5000/my%20db");
  EXPECT_EQ(url.connect.user, "us@er");
  EXPECT_EQ(url.connect.password, "p:w/d");
  EXPECT_EQ(url.connect.host, "::1");
  EXPECT_EQ(url.connect.port, 5000);
  EXPECT_EQ(url.connect.dbname, "my db");
  EXPECT_EQ(url.connect.Redacted(), "postgresql://us@er@[::1]:5000/my db");
  ParsedUrl socket = ParseOk("postgresql://u@%2Ftmp%2Fpg%2Fsock:7000/d");
  EXPECT_EQ(socket.connect.host, "/tmp/pg/sock");
  // A raw '@' in the password: the last '@' ends the user info.
  ParsedUrl at = ParseOk("postgresql://u:pa@ss@h:1/d");
  EXPECT_EQ(at.connect.password, "pa@ss");
  EXPECT_EQ(at.connect.host, "h");
}

TEST(PostgresUrlTest, QueryParameters) {
  ParsedUrl url = ParseOk(
      "postgresql://u@h/d?pool_size=5&max_overflow=0&pool_timeout_ms=250&pre_ping=false&"
      "sslmode=disable&connect_timeout=3");
  EXPECT_EQ(url.pool.pool_size, 5u);
  EXPECT_EQ(url.pool.max_overflow, 0u);
  EXPECT_EQ(url.pool.checkout_timeout.count(), 250);
  EXPECT_FALSE(url.pool.pre_ping);
  EXPECT_EQ(url.connect.sslmode, "disable");
  EXPECT_EQ(url.connect.connect_timeout_s, 3);
}

TEST(PostgresUrlTest, PoolDefaultsComeFromTheCaller) {
  PoolOptions defaults;
  defaults.pool_size = 3;
  auto parsed = ParsePostgresUrl("postgresql://u@h/d?max_overflow=1", defaults);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->pool.pool_size, 3u);
  EXPECT_EQ(parsed->pool.max_overflow, 1u);
}

TEST(PostgresUrlTest, BadUrlsGiveClearErrorsWithoutThePassword) {
  const struct {
    const char* url;
    const char* expected;
  } cases[] = {
      {"mysql://u:hunter2@h/d", "must start with postgresql://"},
      {"postgresql://u:hunter2@h", "missing /DB"},
      {"postgresql://hunter2/d", "missing USER@"},
      {"postgresql://:hunter2@h/d", "missing user name"},
      {"postgresql://u:hunter2@/d", "missing host"},
      {"postgresql://u:hunter2@h:99999/d", "the port must be a whole number from 1 to 65535"},
      {"postgresql://u:hunter2@h:hunter2/d", "the port must be"},
      {"postgresql://u:hunter2@h/", "missing database name"},
      {"postgresql://u:hunter2@h/a/b", "contains '/'"},
      {"postgresql://u:hunter2%zz@h/d", "bad percent-encoding in the password"},
      {"postgresql://u:hunter2@h/d?pool_size=0", "pool_size must be a whole number"},
      {"postgresql://u:hunter2@h/d?pool_size", "without a value"},
      {"postgresql://u:hunter2@h/d?color=blue", "unknown parameter 'color'"},
      {"postgresql://u:hunter2@h/d?sslmode=maybe", "sslmode must be"},
      {"postgresql://u:hunter2@[::1/d", "unterminated [IPv6]"},
  };
  for (const auto& c : cases) {
    auto parsed = ParsePostgresUrl(c.url, PoolOptions{});
    ASSERT_FALSE(parsed.ok()) << c.url;
    const std::string message = parsed.status().message();
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << c.url;
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.url << " -> " << message;
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << c.url << " -> " << message;
    EXPECT_NE(message.find("postgresql://USER[:PASSWORD]@HOST[:PORT]/DB"), std::string::npos)
        << message;
  }
}

TEST(PostgresUrlTest, IsPostgresUrl) {
  EXPECT_TRUE(IsPostgresUrl("postgresql://u@h/d"));
  EXPECT_TRUE(IsPostgresUrl("postgres://u@h/d"));
  EXPECT_FALSE(IsPostgresUrl("/var/lib/ksdb/ksdb.sqlite3"));
  EXPECT_FALSE(IsPostgresUrl("postgresql.db"));
}

}  // namespace
}  // namespace ksdb::storage::postgres
