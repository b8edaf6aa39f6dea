#include "server/router.h"

namespace ksdb::server {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// Splits "/a/b/" into {"a", "b", ""}; the leading slash is dropped.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  if (!path.empty() && path.front() == '/')
    path.remove_prefix(1);
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      parts.push_back(path.substr(start));
      return parts;
    }
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

bool IsParam(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

bool MethodMatches(std::string_view route_method, std::string_view method) {
  if (route_method == "*" || route_method == method)
    return true;
  return method == "HEAD" && route_method == "GET";
}

}  // namespace

std::string UrlDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = HexDigit(text[i + 1]);
      int lo = HexDigit(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi << 4 | lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

void Router::Add(std::string method, std::string_view pattern, Handler handler) {
  Route route;
  route.method = std::move(method);
  for (std::string_view part : SplitPath(pattern))
    route.segments.emplace_back(part);
  if (!route.segments.empty() && route.segments.back().starts_with("{*")) {
    route.catch_all = true;
  }
  route.handler = std::move(handler);
  routes_.push_back(std::move(route));
}

bool Router::MatchSegments(const Route& route, const std::vector<std::string_view>& parts,
                           StringPairs* params) {
  const size_t fixed = route.segments.size() - (route.catch_all ? 1 : 0);
  if (route.catch_all ? parts.size() <= fixed : parts.size() != fixed)
    return false;
  params->clear();
  for (size_t i = 0; i < fixed; ++i) {
    const std::string& segment = route.segments[i];
    if (IsParam(segment)) {
      if (parts[i].empty())
        return false;
      params->emplace_back(segment.substr(1, segment.size() - 2), UrlDecode(parts[i], false));
    } else if (segment != parts[i]) {
      return false;
    }
  }
  return true;
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match match;
  const std::vector<std::string_view> parts = SplitPath(path);
  StringPairs params;
  bool path_known = false;
  for (const Route& route : routes_) {
    if (!MatchSegments(route, parts, &params))
      continue;
    if (MethodMatches(route.method, method)) {
      match.kind = MatchKind::kFound;
      match.handler = &route.handler;
      match.params = std::move(params);
      return match;
    }
    path_known = true;
    if (!match.allow.empty())
      match.allow += ',';
    match.allow += route.method;
    if (route.method == "GET")
      match.allow += ",HEAD";
  }
  match.kind = path_known ? MatchKind::kMethodNotAllowed : MatchKind::kNotFound;
  return match;
}

}  // namespace ksdb::server
