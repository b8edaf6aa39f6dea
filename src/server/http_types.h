// Plain request/response values the handlers work on. They are independent of
// the HTTP library so that routing and handlers can be tested without sockets.
#ifndef KSDB_SERVER_HTTP_TYPES_H_
#define KSDB_SERVER_HTTP_TYPES_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ksdb::server {

using StringPairs = std::vector<std::pair<std::string, std::string>>;

// Returns the value of the first pair named `name`, or nullptr.
inline const std::string* FindPair(const StringPairs& pairs, std::string_view name) {
  for (const auto& [key, value] : pairs) {
    if (key == name)
      return &value;
  }
  return nullptr;
}

// One decoded HTTP request. `body` and `content_type` view memory owned by the
// caller for the duration of the handler call.
struct HttpRequest {
  std::string method;        // "GET" ("HEAD" is routed as GET), "POST", ...
  std::string path;          // raw path, without the query string
  StringPairs path_params;   // URL-decoded {param} segments, in pattern order
  StringPairs query_params;  // URL-decoded query string pairs
  bool has_content_type = false;
  std::string_view content_type;
  std::string_view body;

  // The decoded path parameter `name`; empty if the route has none by that name.
  const std::string& PathParam(std::string_view name) const {
    static const std::string kEmpty;
    const std::string* value = FindPair(path_params, name);
    return value != nullptr ? *value : kEmpty;
  }
};

// One HTTP response. An empty `content_type` sends no Content-Type header.
struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type;
  StringPairs headers;
};

}  // namespace ksdb::server

#endif  // KSDB_SERVER_HTTP_TYPES_H_
