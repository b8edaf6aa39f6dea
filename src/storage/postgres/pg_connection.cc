#include "storage/postgres/pg_connection.h"

#include <bit>
#include <chrono>
#include <cstring>
#include <utility>

namespace ksdb::storage::postgres {
namespace {

void PutBigEndian32(uint32_t value, char* out) {
  if constexpr (std::endian::native == std::endian::little)
    value = __builtin_bswap32(value);
  std::memcpy(out, &value, sizeof(value));
}

void AppendBigEndian32(uint32_t value, std::string* out) {
  char bytes[4];
  PutBigEndian32(value, bytes);
  out->append(bytes, sizeof(bytes));
}

// libpq messages end with a newline and may span lines; a Status is one line.
std::string OneLine(const char* message) {
  std::string out = message != nullptr ? message : "";
  for (char& c : out) {
    if (c == '\n' || c == '\t')
      c = ' ';
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

// The server's reason for a failure, without the DETAIL, CONTEXT and QUERY
// fields libpq's full message carries: those quote SQL (a foreign-key check's
// "SELECT 1 FROM ...") and row data, which an API error must not show. The
// primary message of `result` if the server sent one, else the first line of
// libpq's own message ("server closed the connection unexpectedly").
std::string ServerReason(const PGresult* result, const PGconn* conn) {
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  if (primary != nullptr)
    return OneLine(primary);
  const char* message = PQerrorMessage(conn);
  const std::string_view text = message != nullptr ? message : "";
  return OneLine(std::string(text.substr(0, text.find('\n'))).c_str());
}

// SQLSTATEs worth retrying: connection exceptions (08), operator intervention
// (57: shutdown, crash shutdown, cannot connect now, query cancelled),
// insufficient resources (53), serialization failure and deadlock (40),
// lock not available (55P03: lock_timeout), idle-in-transaction timeout (25P03).
bool IsTransient(std::string_view sqlstate) {
  if (sqlstate.size() != 5)
    return false;
  const std::string_view cls = sqlstate.substr(0, 2);
  return cls == "08" || cls == "57" || cls == "53" || cls == "40" || sqlstate == "55P03" ||
         sqlstate == "25P03";
}

void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

// set_config takes values as parameters, so nothing is spliced into the SQL.
// Plain integers are milliseconds for all three settings.
constexpr char kSetLimits[] =
    "SELECT set_config('statement_timeout', $1, false), set_config('lock_timeout', $2, false), "
    "set_config('idle_in_transaction_session_timeout', $3, false)";

// SQLSTATEs of the session limits: query_canceled (statement_timeout; also a
// cancel request, which ksdb never sends), lock_not_available (lock_timeout)
// and idle_in_transaction_session_timeout.
constexpr std::string_view kCancelledState = "57014";
constexpr std::string_view kLockTimeoutState = "55P03";
constexpr std::string_view kIdleTimeoutState = "25P03";

std::string Millis(std::chrono::milliseconds value) {
  return std::to_string(value.count());
}

}  // namespace

void Params::Reserve(size_t count) {
  types_.reserve(count);
  values_.reserve(count);
  lengths_.reserve(count);
  formats_.reserve(count);
}

void Params::Add(Oid type, const char* data, size_t size) {
  types_.push_back(type);
  values_.push_back(data);
  lengths_.push_back(static_cast<int>(size));
  formats_.push_back(1);
}

void Params::AddText(std::string_view text) {
  // A zero-length value must still be non-null: libpq sends null for nullptr.
  Add(kTextOid, text.empty() ? "" : text.data(), text.size());
}

void Params::AddOptionalText(const std::optional<std::string>& text) {
  if (text.has_value()) {
    AddText(*text);
  } else {
    AddNull(kTextOid);
  }
}

void Params::AddBytes(std::string_view bytes) {
  Add(kByteaOid, bytes.empty() ? "" : bytes.data(), bytes.size());
}

void Params::AddOptionalBytes(const std::optional<std::string>& bytes) {
  if (bytes.has_value()) {
    AddBytes(*bytes);
  } else {
    AddNull(kByteaOid);
  }
}

void Params::AddBytesOrNull(std::string_view bytes) {
  if (bytes.empty()) {
    AddNull(kByteaOid);
  } else {
    AddBytes(bytes);
  }
}

void Params::AddInt64(int64_t value) {
  uint64_t bits = static_cast<uint64_t>(value);
  if constexpr (std::endian::native == std::endian::little)
    bits = __builtin_bswap64(bits);
  std::array<char, 8>& slot = ints_.emplace_back();
  std::memcpy(slot.data(), &bits, sizeof(bits));
  Add(kInt8Oid, slot.data(), slot.size());
}

void Params::AddOptionalInt64(std::optional<int64_t> value) {
  if (value.has_value()) {
    AddInt64(*value);
  } else {
    AddNull(kInt8Oid);
  }
}

void Params::AddBytesArray(std::span<const std::string> items) {
  // Binary array: ndim, has-nulls flag, element type, then per dimension its
  // size and lower bound, then each element as length + bytes.
  std::string& out = owned_.emplace_back();
  AppendBigEndian32(1, &out);
  AppendBigEndian32(0, &out);
  AppendBigEndian32(kByteaOid, &out);
  AppendBigEndian32(static_cast<uint32_t>(items.size()), &out);
  AppendBigEndian32(1, &out);
  for (const std::string& item : items) {
    AppendBigEndian32(static_cast<uint32_t>(item.size()), &out);
    out.append(item);
  }
  Add(kByteaArrayOid, out.data(), out.size());
}

void Params::AddNull(Oid type) {
  types_.push_back(type);
  values_.push_back(nullptr);
  lengths_.push_back(0);
  formats_.push_back(1);
}

bool IsNull(const PGresult* result, int row, int column) {
  return PQgetisnull(result, row, column) != 0;
}

std::string_view GetBytes(const PGresult* result, int row, int column) {
  return std::string_view(PQgetvalue(result, row, column),
                          static_cast<size_t>(PQgetlength(result, row, column)));
}

std::string GetText(const PGresult* result, int row, int column) {
  return std::string(GetBytes(result, row, column));
}

std::optional<std::string> GetOptionalText(const PGresult* result, int row, int column) {
  if (IsNull(result, row, column))
    return std::nullopt;
  return GetText(result, row, column);
}

Result<int64_t> GetInt64(const PGresult* result, int row, int column) {
  const std::string_view bytes = GetBytes(result, row, column);
  if (bytes.size() != sizeof(uint64_t))
    return Status::Corruption("expected an 8-byte integer column");
  uint64_t bits;
  std::memcpy(&bits, bytes.data(), sizeof(bits));
  if constexpr (std::endian::native == std::endian::little)
    bits = __builtin_bswap64(bits);
  return static_cast<int64_t>(bits);
}

std::string StoreName(const ConnectParams& params) {
  return "postgresql store '" + params.Redacted() + "'";
}

SessionLimits LimitsOf(const PoolOptions& options) {
  return SessionLimits{options.statement_timeout, options.lock_timeout,
                       options.idle_in_transaction_timeout};
}

Result<std::unique_ptr<Connection>> Connection::Open(const ConnectParams& params,
                                                     const PoolOptions& options) {
  const std::string port = std::to_string(params.port);
  const std::string timeout = std::to_string(params.connect_timeout_s);
  std::vector<const char*> keys = {"host",
                                   "port",
                                   "dbname",
                                   "user",
                                   "connect_timeout",
                                   "client_encoding",
                                   "application_name",
                                   "keepalives",
                                   "keepalives_idle"};
  std::vector<const char*> values = {params.host.c_str(),
                                     port.c_str(),
                                     params.dbname.c_str(),
                                     params.user.c_str(),
                                     timeout.c_str(),
                                     "UTF8",
                                     "ksdb",
                                     "1",
                                     "30"};
  if (params.password.has_value()) {
    keys.push_back("password");
    values.push_back(params.password->c_str());
  }
  if (!params.sslmode.empty()) {
    keys.push_back("sslmode");
    values.push_back(params.sslmode.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  // expand_dbname = 0: a database name is never parsed as a connection string.
  ConnHandle conn(PQconnectdbParams(keys.data(), values.data(), 0));
  if (conn == nullptr)
    return Status::Unavailable(StoreName(params) + ": out of memory creating a connection");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return Status::Unavailable(StoreName(params) + ": cannot connect to the database: " +
                               OneLine(PQerrorMessage(conn.get())));
  }
  // Notices ("schema already exists, skipping") would go to stderr.
  PQsetNoticeProcessor(conn.get(), IgnoreNotice, nullptr);
  auto connection =
      std::make_unique<Connection>(std::move(conn), StoreName(params), LimitsOf(options));
  KSDB_RETURN_IF_ERROR(connection->ApplyLimits());
  return connection;
}

Status Connection::ApplyLimits() {
  const std::string statement = Millis(limits_.statement_timeout);
  const std::string lock = Millis(limits_.lock_timeout);
  const std::string idle = Millis(limits_.idle_in_transaction_timeout);
  Params params;
  params.AddText(statement);
  params.AddText(lock);
  params.AddText(idle);
  return Run(kSetLimits, params, "set session timeouts");
}

std::string Connection::LimitHint(std::string_view sqlstate) const {
  if (sqlstate == kCancelledState)
    return "; statement_timeout_ms=" + Millis(limits_.statement_timeout);
  if (sqlstate == kLockTimeoutState)
    return "; lock_timeout_ms=" + Millis(limits_.lock_timeout);
  if (sqlstate == kIdleTimeoutState)
    return "; idle_in_transaction_timeout_ms=" + Millis(limits_.idle_in_transaction_timeout);
  return "";
}

Status Connection::Error(const PGresult* result, std::string_view what) const {
  const char* sqlstate = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  if (IsBroken()) {
    // The server says why it closed the connection (an idle-in-transaction
    // timeout, a shutdown) in the FATAL error it sent before closing.
    const std::string hint = sqlstate != nullptr ? LimitHint(sqlstate) : "";
    return Status::Unavailable(store_name_ + ": lost the connection to the database during " +
                               std::string(what) + ": " + ServerReason(result, conn_.get()) +
                               (hint.empty() ? "" : " (" + hint.substr(2) + ")"));
  }
  std::string message =
      store_name_ + ": " + std::string(what) + " failed: " + ServerReason(result, conn_.get());
  if (sqlstate != nullptr)
    message += std::string(" (SQLSTATE ") + sqlstate + LimitHint(sqlstate) + ")";
  if (sqlstate != nullptr && IsTransient(sqlstate))
    return Status::Unavailable(std::move(message));
  // unique_violation: another server created the same name first (each
  // server checks names in its own catalog, which can lag by one follow pass).
  if (sqlstate != nullptr && std::string_view(sqlstate) == "23505")
    return Status::AlreadyExists(std::move(message));
  return Status::IoError(std::move(message));
}

Status Connection::Check(const PGresult* result, ExecStatusType expected,
                         std::string_view what) const {
  if (result != nullptr && PQresultStatus(result) == expected)
    return Status::Ok();
  return Error(result, what);
}

Status Connection::Exec(const char* sql, std::string_view what) {
  // PQexec returns the result of the last statement; an error stops the rest.
  ResultHandle result(PQexec(conn_.get(), sql));
  if (result != nullptr && PQresultStatus(result.get()) == PGRES_TUPLES_OK)
    return Status::Ok();
  return Check(result.get(), PGRES_COMMAND_OK, what);
}

Result<ResultHandle> Connection::Query(const char* sql, const Params& params,
                                       std::string_view what) {
  ResultHandle result(PQexecParams(conn_.get(), sql, params.size(), params.types(), params.values(),
                                   params.lengths(), params.formats(),
                                   /*resultFormat=*/1));
  if (result != nullptr && PQresultStatus(result.get()) == PGRES_TUPLES_OK)
    return result;
  KSDB_RETURN_IF_ERROR(Check(result.get(), PGRES_COMMAND_OK, what));
  return result;
}

Status Connection::Run(const char* sql, const Params& params, std::string_view what) {
  KSDB_ASSIGN_OR_RETURN(ResultHandle result, Query(sql, params, what));
  return Status::Ok();
}

bool Connection::Ping() {
  if (IsBroken())
    return false;
  ResultHandle result(PQexec(conn_.get(), ""));
  return result != nullptr && PQresultStatus(result.get()) == PGRES_EMPTY_QUERY && !IsBroken();
}

bool Connection::IsBroken() const {
  return PQstatus(conn_.get()) != CONNECTION_OK;
}

bool Connection::InTransaction() const {
  const PGTransactionStatusType status = PQtransactionStatus(conn_.get());
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

bool Connection::TransactionFailed() const {
  return PQtransactionStatus(conn_.get()) == PQTRANS_INERROR;
}

void Connection::RollbackQuietly() {
  if (IsBroken() || !InTransaction())
    return;
  ResultHandle result(PQexec(conn_.get(), "ROLLBACK"));
}

int Connection::BackendPid() const {
  return PQbackendPID(conn_.get());
}

}  // namespace ksdb::storage::postgres
