// Parsing of the PostgreSQL store's location, a URL of the form
//   postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?key=value&...]
// (postgres:// is accepted too). USER, PASSWORD and DB may be percent-encoded;
// HOST may be a name, an IPv4 address, a bracketed IPv6 address or a
// percent-encoded unix socket directory (%2Frun%2Fpostgresql). Without a
// password in the URL, libpq takes it from PGPASSWORD (or ~/.pgpass).
//
// Query keys: sslmode, connect_timeout (seconds), pool_size, max_overflow,
// pool_timeout_ms, pre_ping (true/false), statement_timeout_ms,
// lock_timeout_ms, idle_in_transaction_timeout_ms (0 = no limit) and
// change_log_retention_s (0 = never prune); see pool_options.h.
//
// Error messages never quote the URL or any part of its authority, so a
// password cannot leak into a log through a typo.
#ifndef KSDB_STORAGE_POSTGRES_URL_H_
#define KSDB_STORAGE_POSTGRES_URL_H_

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/postgres/pool_options.h"

namespace ksdb::storage::postgres {

// Where and as whom to connect.
struct ConnectParams {
  std::string host;  // a name, an address, or a socket directory (starts with '/')
  int port = 5432;
  std::string user;
  std::optional<std::string> password;  // from the URL only
  std::string dbname;
  std::string sslmode;  // empty: libpq's default
  int connect_timeout_s = 10;

  // postgresql://USER@HOST:PORT/DB, never with the password: for messages.
  std::string Redacted() const;
};

// True when `location` names a PostgreSQL store (postgresql:// or postgres://).
bool IsPostgresUrl(std::string_view location);

struct ParsedUrl {
  ConnectParams connect;
  PoolOptions pool;
};

// Parses `url`; pool settings absent from the query keep the values of
// `pool_defaults`. InvalidArgument with a message that says what is wrong and
// shows the expected form.
Result<ParsedUrl> ParsePostgresUrl(std::string_view url, const PoolOptions& pool_defaults);

}  // namespace ksdb::storage::postgres

#endif  // KSDB_STORAGE_POSTGRES_URL_H_
