#include "storage/postgres/url.h"

#include <charconv>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace ksdb::storage::postgres {
namespace {

constexpr std::string_view kForm = "postgresql://USER[:PASSWORD]@HOST[:PORT]/DB";

Status Invalid(const std::string& problem) {
  return Status::InvalidArgument("invalid PostgreSQL store URL: " + problem + " (expected " +
                                 std::string(kForm) + ")");
}

int HexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// Percent-decodes `in`; `field` names it in the error (never its value).
Result<std::string> Decode(std::string_view in, std::string_view field) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    const int hi = i + 2 < in.size() ? HexValue(in[i + 1]) : -1;
    const int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
    if (hi < 0 || lo < 0)
      return Invalid("bad percent-encoding in the " + std::string(field));
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  if (out.find('\0') != std::string::npos)
    return Invalid("the " + std::string(field) + " contains a NUL byte");
  return out;
}

Result<int64_t> ParseInt(std::string_view text, int64_t min, int64_t max, const std::string& what) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return Invalid(what + " must be a whole number from " + std::to_string(min) + " to " +
                   std::to_string(max));
  }
  return value;
}

Result<bool> ParseBool(std::string_view text, const std::string& what) {
  if (text == "true" || text == "1" || text == "on")
    return true;
  if (text == "false" || text == "0" || text == "off")
    return false;
  return Invalid(what + " must be true or false");
}

// HOST[:PORT], HOST being a name, an address, [IPv6] or an encoded socket dir.
Status ParseHostPort(std::string_view hostport, ConnectParams* out) {
  std::string_view host = hostport;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    if (close == std::string_view::npos)
      return Invalid("unterminated [IPv6] host");
    std::string_view rest = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return Invalid("unexpected text after the [IPv6] host");
      port = rest.substr(1);
    }
  } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.empty())
    return Invalid("missing host");
  KSDB_ASSIGN_OR_RETURN(out->host, Decode(host, "host"));
  if (!port.empty()) {
    KSDB_ASSIGN_OR_RETURN(int64_t value, ParseInt(port, 1, 65535, "the port"));
    out->port = static_cast<int>(value);
  }
  return Status::Ok();
}

// USER[:PASSWORD]
Status ParseUserInfo(std::string_view userinfo, ConnectParams* out) {
  const size_t colon = userinfo.find(':');
  const std::string_view user = userinfo.substr(0, colon);
  if (user.empty())
    return Invalid("missing user name");
  KSDB_ASSIGN_OR_RETURN(out->user, Decode(user, "user name"));
  if (colon != std::string_view::npos) {
    KSDB_ASSIGN_OR_RETURN(out->password, Decode(userinfo.substr(colon + 1), "password"));
  }
  return Status::Ok();
}

// PostgreSQL keeps these settings in an int of milliseconds.
constexpr int64_t kMaxTimeoutMs = std::numeric_limits<int32_t>::max();
constexpr int64_t kMaxRetentionS = 365LL * 24 * 3600;

// The session timeouts, and the error for a key no branch knows.
Status ApplyTimeoutParam(std::string_view key, std::string_view value, ParsedUrl* out) {
  const std::string name(key);
  std::chrono::milliseconds* target = nullptr;
  if (key == "statement_timeout_ms") {
    target = &out->pool.statement_timeout;
  } else if (key == "lock_timeout_ms") {
    target = &out->pool.lock_timeout;
  } else if (key == "idle_in_transaction_timeout_ms") {
    target = &out->pool.idle_in_transaction_timeout;
  } else {
    return Invalid("unknown parameter '" + name +
                   "' (known: sslmode, connect_timeout, pool_size, max_overflow, "
                   "pool_timeout_ms, pre_ping, statement_timeout_ms, lock_timeout_ms, "
                   "idle_in_transaction_timeout_ms, change_log_retention_s)");
  }
  KSDB_ASSIGN_OR_RETURN(int64_t v, ParseInt(value, 0, kMaxTimeoutMs, name));
  *target = std::chrono::milliseconds(v);
  return Status::Ok();
}

Status ApplyQueryParam(std::string_view key, std::string_view value, ParsedUrl* out) {
  const std::string name(key);
  if (key == "sslmode") {
    for (const char* mode : {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}) {
      if (value == mode) {
        out->connect.sslmode = mode;
        return Status::Ok();
      }
    }
    return Invalid("sslmode must be disable, allow, prefer, require, verify-ca or verify-full");
  }
  if (key == "connect_timeout") {
    KSDB_ASSIGN_OR_RETURN(int64_t v, ParseInt(value, 1, 3600, name));
    out->connect.connect_timeout_s = static_cast<int>(v);
  } else if (key == "pool_size") {
    KSDB_ASSIGN_OR_RETURN(int64_t v, ParseInt(value, 1, 10000, name));
    out->pool.pool_size = static_cast<size_t>(v);
  } else if (key == "max_overflow") {
    KSDB_ASSIGN_OR_RETURN(int64_t v, ParseInt(value, 0, 10000, name));
    out->pool.max_overflow = static_cast<size_t>(v);
  } else if (key == "pool_timeout_ms") {
    KSDB_ASSIGN_OR_RETURN(int64_t v, ParseInt(value, 1, 3600000, name));
    out->pool.checkout_timeout = std::chrono::milliseconds(v);
  } else if (key == "pre_ping") {
    KSDB_ASSIGN_OR_RETURN(out->pool.pre_ping, ParseBool(value, name));
  } else if (key == "change_log_retention_s") {
    KSDB_ASSIGN_OR_RETURN(int64_t v, ParseInt(value, 0, kMaxRetentionS, name));
    out->pool.change_log_retention = std::chrono::seconds(v);
  } else {
    return ApplyTimeoutParam(key, value, out);
  }
  return Status::Ok();
}

Status ParseQuery(std::string_view query, ParsedUrl* out) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty())
      continue;
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos)
      return Invalid("query parameter without a value");
    KSDB_RETURN_IF_ERROR(ApplyQueryParam(pair.substr(0, eq), pair.substr(eq + 1), out));
  }
  return Status::Ok();
}

constexpr std::string_view kSchemes[] = {"postgresql://", "postgres://"};

// The URL after its scheme; nullopt if it has neither accepted scheme.
std::optional<std::string_view> StripScheme(std::string_view url) {
  for (std::string_view scheme : kSchemes) {
    if (url.substr(0, scheme.size()) == scheme)
      return url.substr(scheme.size());
  }
  return std::nullopt;
}

}  // namespace

std::string ConnectParams::Redacted() const {
  std::string shown_host = host;
  if (host.find(':') != std::string::npos)
    shown_host = "[" + host + "]";
  return "postgresql://" + user + "@" + shown_host + ":" + std::to_string(port) + "/" + dbname;
}

bool IsPostgresUrl(std::string_view location) {
  return StripScheme(location).has_value();
}

Result<ParsedUrl> ParsePostgresUrl(std::string_view url, const PoolOptions& pool_defaults) {
  const std::optional<std::string_view> after_scheme = StripScheme(url);
  if (!after_scheme.has_value())
    return Invalid("it must start with postgresql:// or postgres://");
  std::string_view rest = *after_scheme;
  const size_t question = rest.find('?');
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : rest.substr(question + 1);
  rest = rest.substr(0, question);
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos)
    return Invalid("missing /DB database name");
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view dbname = rest.substr(slash + 1);
  // The last '@' ends the user info: a password may contain an unencoded '@'.
  const size_t at = authority.rfind('@');
  if (at == std::string_view::npos)
    return Invalid("missing USER@ before the host");

  ParsedUrl parsed;
  parsed.pool = pool_defaults;
  KSDB_RETURN_IF_ERROR(ParseUserInfo(authority.substr(0, at), &parsed.connect));
  KSDB_RETURN_IF_ERROR(ParseHostPort(authority.substr(at + 1), &parsed.connect));
  if (dbname.empty())
    return Invalid("missing database name after the host");
  if (dbname.find('/') != std::string_view::npos)
    return Invalid("the database name contains '/'");
  KSDB_ASSIGN_OR_RETURN(parsed.connect.dbname, Decode(dbname, "database name"));
  KSDB_RETURN_IF_ERROR(ParseQuery(query, &parsed));
  return parsed;
}

}  // namespace ksdb::storage::postgres
