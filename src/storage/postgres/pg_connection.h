// Small RAII wrappers around libpq: a Connection owns one PGconn, a
// ResultHandle one PGresult, and Params builds the parameter arrays of a
// parameterised statement (values are never spliced into SQL text).
//
// Every statement runs with binary parameters and binary results. Errors
// become a Status that names the store (its redacted URL) and the operation,
// carries PostgreSQL's primary message and SQLSTATE, and never SQL text:
// connection loss and transient server states (shutdown, too many
// connections, serialization failure, deadlock, a statement or lock timeout,
// an idle-in-transaction timeout) are Unavailable, anything else IoError.
// A timeout's message names the setting and its value.
//
// Internal to storage/postgres. Thread safety: a Connection is used by one
// thread at a time; the pool serialises access.
#ifndef KSDB_STORAGE_POSTGRES_PG_CONNECTION_H_
#define KSDB_STORAGE_POSTGRES_PG_CONNECTION_H_

#include <libpq-fe.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/postgres/pool_options.h"
#include "storage/postgres/url.h"

namespace ksdb::storage::postgres {

struct PgResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultHandle = std::unique_ptr<PGresult, PgResultDeleter>;
struct PgConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using ConnHandle = std::unique_ptr<PGconn, PgConnDeleter>;

// Type OIDs of the parameters we send (pg_type.h is a server header).
inline constexpr Oid kByteaOid = 17;
inline constexpr Oid kInt8Oid = 20;
inline constexpr Oid kTextOid = 25;
inline constexpr Oid kByteaArrayOid = 1001;

// The parameters of one statement, all in binary format. Added text and bytes
// are referenced, not copied: they must outlive the statement's execution.
class Params {
 public:
  void Reserve(size_t count);
  void AddText(std::string_view text);
  void AddOptionalText(const std::optional<std::string>& text);
  void AddBytes(std::string_view bytes);
  void AddOptionalBytes(const std::optional<std::string>& bytes);
  // Empty bytes are sent as NULL (the stored form of empty metadata).
  void AddBytesOrNull(std::string_view bytes);
  void AddInt64(int64_t value);
  void AddOptionalInt64(std::optional<int64_t> value);
  // A bytea[] value (binary array format), built and owned here.
  void AddBytesArray(std::span<const std::string> items);
  void AddNull(Oid type);

  int size() const { return static_cast<int>(values_.size()); }
  const Oid* types() const { return types_.data(); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  void Add(Oid type, const char* data, size_t size);

  std::vector<Oid> types_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  // Deques: growing them never moves the elements already pointed at.
  std::deque<std::array<char, 8>> ints_;
  std::deque<std::string> owned_;
};

// Reading binary result columns.
bool IsNull(const PGresult* result, int row, int column);
std::string_view GetBytes(const PGresult* result, int row, int column);
std::string GetText(const PGresult* result, int row, int column);
std::optional<std::string> GetOptionalText(const PGresult* result, int row, int column);
// Corruption if the column is not an 8-byte (int8) value.
Result<int64_t> GetInt64(const PGresult* result, int row, int column);

// The session limits of a connection (PoolOptions), kept to name the one
// that cancelled a statement in its error message.
struct SessionLimits {
  std::chrono::milliseconds statement_timeout{0};
  std::chrono::milliseconds lock_timeout{0};
  std::chrono::milliseconds idle_in_transaction_timeout{0};
};

// The limits `options` asks every connection to run with.
SessionLimits LimitsOf(const PoolOptions& options);

class Connection {
 public:
  // Connects (blocking, bounded by params.connect_timeout_s) and sets the
  // session limits of `options` (pool_options.h). Unavailable with libpq's
  // reason if the server cannot be reached or refuses us.
  static Result<std::unique_ptr<Connection>> Open(const ConnectParams& params,
                                                  const PoolOptions& options = PoolOptions());

  Connection(ConnHandle conn, std::string store_name, SessionLimits limits = SessionLimits())
      : conn_(std::move(conn)), store_name_(std::move(store_name)), limits_(limits) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` (one or more statements, no parameters, no rows wanted) with
  // the simple protocol. `what` names the operation in error messages.
  Status Exec(const char* sql, std::string_view what);
  // Runs one parameterised statement and returns its (binary) result rows.
  Result<ResultHandle> Query(const char* sql, const Params& params, std::string_view what);
  // Query() for a statement whose rows, if any, are not wanted.
  Status Run(const char* sql, const Params& params, std::string_view what);

  // One round trip with an empty statement: false if the connection is dead.
  bool Ping();
  // True once libpq has seen the connection fail.
  bool IsBroken() const;
  // True inside a transaction block (open or failed).
  bool InTransaction() const;
  // True inside a transaction block that an error has aborted.
  bool TransactionFailed() const;
  // Ends an open transaction, if any; errors are ignored because the caller
  // is already reporting a failure or cleaning up.
  void RollbackQuietly();
  // The server process id, for tests that kill a backend.
  int BackendPid() const;

  const std::string& store_name() const { return store_name_; }

 private:
  // The Status for a failed `result` (may be null) of operation `what`.
  Status Error(const PGresult* result, std::string_view what) const;
  // Checks that `result` is non-null and in the `expected` state.
  Status Check(const PGresult* result, ExecStatusType expected, std::string_view what) const;
  // Sets the session limits on the new connection (one round trip).
  Status ApplyLimits();
  // "; statement_timeout_ms=N" when `sqlstate` is the error one of the
  // limits raises, else "".
  std::string LimitHint(std::string_view sqlstate) const;

  ConnHandle conn_;
  std::string store_name_;  // "postgresql store 'postgresql://user@host:port/db'"
  SessionLimits limits_;
};

// "postgresql store 'URL'" for messages about the store at `params`.
std::string StoreName(const ConnectParams& params);

}  // namespace ksdb::storage::postgres

#endif  // KSDB_STORAGE_POSTGRES_PG_CONNECTION_H_
