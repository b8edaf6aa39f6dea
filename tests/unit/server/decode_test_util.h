// Test helper: parses JSON text and runs a decoder on it.
#ifndef KSDB_TESTS_UNIT_SERVER_DECODE_TEST_UTIL_H_
#define KSDB_TESTS_UNIT_SERVER_DECODE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "server/json_body.h"

namespace ksdb::server {

// Parses `json` (which must be valid) and returns decoder(root). The parser is
// kept alive in `holder` because decoders may view its memory.
template <typename Fn>
auto DecodeText(const std::string& json, Fn decoder) {
  static thread_local simdjson::dom::parser parser;
  Result<JsonElement> root = ParseJsonText(json, &parser);
  EXPECT_TRUE(root.ok()) << root.status().ToString() << " for " << json;
  return decoder(*root);
}

// Expects `result` to fail with `code` and a message containing `fragment`.
template <typename R>
void ExpectError(const R& result, StatusCode code, std::string_view fragment) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), code) << result.status().ToString();
  EXPECT_NE(result.status().message().find(fragment), std::string::npos)
      << result.status().message();
}

}  // namespace ksdb::server

#endif  // KSDB_TESTS_UNIT_SERVER_DECODE_TEST_UTIL_H_
