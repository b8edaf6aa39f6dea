// Router: matches request paths against patterns such as
// "/api/v2/tenants/{tenant}/databases/{database}" and picks a handler by
// method. A trailing "{*rest}" segment matches any remaining path (at least one
// segment). Parameters are URL-decoded; an empty segment never matches a
// parameter, so "/x/" does not match "/x/{id}" and a trailing slash is an
// unknown path.
#ifndef KSDB_SERVER_ROUTER_H_
#define KSDB_SERVER_ROUTER_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "server/http_types.h"

namespace ksdb::server {

using Handler = std::function<HttpResponse(const HttpRequest&)>;

// Decodes %XX escapes (invalid escapes are kept verbatim); '+' is kept unless
// `plus_is_space`.
std::string UrlDecode(std::string_view text, bool plus_is_space);

class Router {
 public:
  enum class MatchKind { kFound, kMethodNotAllowed, kNotFound };
  struct Match {
    MatchKind kind = MatchKind::kNotFound;
    const Handler* handler = nullptr;  // set for kFound; owned by the router
    StringPairs params;                // for kFound
    std::string allow;                 // for kMethodNotAllowed, e.g. "GET,HEAD"
  };

  // Registers `handler` for `method` ("GET", "POST", ... or "*" for any) on
  // `pattern`. Registration is not thread-safe; do it before serving.
  void Add(std::string method, std::string_view pattern, Handler handler);

  // Finds the route for `method` and raw `path` (no query string). HEAD
  // matches GET routes. Thread-safe after registration.
  Match Find(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" marks a parameter
    bool catch_all = false;             // last segment is "{*name}"
    Handler handler;
  };
  static bool MatchSegments(const Route& route, const std::vector<std::string_view>& parts,
                            StringPairs* params);

  std::vector<Route> routes_;
};

}  // namespace ksdb::server

#endif  // KSDB_SERVER_ROUTER_H_
