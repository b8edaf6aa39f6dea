#include "storage/sqlite/sqlite_handle.h"

#include <string>
#include <utility>

namespace ksdb::storage::sqlite {

Status SqliteError(int rc, std::string_view path, std::string_view what) {
  const int primary = rc & 0xff;
  std::string message = "sqlite store '" + std::string(path) + "': ";
  if (primary == SQLITE_NOTADB) {
    // The most likely user mistake (pointing --path at some other file)
    // deserves a message that says so plainly.
    message += "the file is not an SQLite database (" + std::string(what) + ")";
    return Status::IoError(std::move(message));
  }
  message += std::string(what) + " failed: " + sqlite3_errstr(rc) + " (sqlite code " +
             std::to_string(rc) + ")";
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return Status::Unavailable(std::move(message));
  }
  return Status::IoError(std::move(message));
}

ScopedStatement::~ScopedStatement() {
  if (stmt_ != nullptr)
    Reset();
}

ScopedStatement::ScopedStatement(ScopedStatement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), path_(other.path_), bind_rc_(other.bind_rc_) {}

void ScopedStatement::NoteBind(int rc) {
  // Keep the first failure: it is the one worth reporting.
  if (bind_rc_ == SQLITE_OK)
    bind_rc_ = rc;
}

void ScopedStatement::BindInt64(int index, int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, index, value));
}

void ScopedStatement::BindText(int index, const std::string& value) {
  // std::string::data() is never null, so an empty string stays '' and does
  // not turn into NULL.
  NoteBind(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8));
}

void ScopedStatement::BindOptionalText(int index, const std::optional<std::string>& value) {
  if (value.has_value()) {
    BindText(index, *value);
  } else {
    BindNull(index);
  }
}

void ScopedStatement::BindBlob(int index, const void* data, size_t size) {
  // sqlite3_bind_blob treats a null pointer as SQL NULL; an empty vector's
  // data() may be null, so zero-length blobs are bound explicitly.
  if (size == 0) {
    NoteBind(sqlite3_bind_zeroblob(stmt_, index, 0));
    return;
  }
  NoteBind(sqlite3_bind_blob64(stmt_, index, data, size, SQLITE_STATIC));
}

void ScopedStatement::BindNull(int index) {
  NoteBind(sqlite3_bind_null(stmt_, index));
}

Result<bool> ScopedStatement::Step(std::string_view what) {
  if (bind_rc_ != SQLITE_OK)
    return SqliteError(bind_rc_, *path_, what);
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW)
    return true;
  if (rc == SQLITE_DONE)
    return false;
  return SqliteError(rc, *path_, what);
}

Status ScopedStatement::Run(std::string_view what) {
  KSDB_ASSIGN_OR_RETURN(bool has_row, Step(what));
  if (has_row)
    return Status::Internal("unexpected result row: " + std::string(what));
  return Status::Ok();
}

void ScopedStatement::Reset() {
  // sqlite3_reset repeats the last step's error code, which was already
  // reported by Step(); here only the rewind matters.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
}

bool ScopedStatement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t ScopedStatement::ColumnInt64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string ScopedStatement::ColumnText(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr)
    return std::string();
  return std::string(text, static_cast<size_t>(size));
}

std::optional<std::string> ScopedStatement::ColumnOptionalText(int column) const {
  if (ColumnIsNull(column))
    return std::nullopt;
  return ColumnText(column);
}

std::string_view ScopedStatement::ColumnBlob(int column) const {
  // Per the SQLite docs, fetch the pointer first, then the size.
  const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr)
    return std::string_view();
  return std::string_view(data, static_cast<size_t>(size));
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path,
                                                     const ConnectionOptions& options) {
  // Each connection is used by one thread at a time (the store serialises),
  // so SQLite's per-connection mutex is unnecessary.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (options.create)
    flags |= SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  // sqlite3_open_v2 hands out a handle even on failure; it must be closed.
  DbHandle db(raw);
  if (rc != SQLITE_OK)
    return SqliteError(rc, path, "open");
  sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);

  auto conn = std::make_unique<Connection>(std::move(db), path);
  const std::string cache = "PRAGMA cache_size = -" + std::to_string(options.cache_size_kib);
  KSDB_RETURN_IF_ERROR(conn->Exec(cache.c_str(), "set page cache size"));
  KSDB_RETURN_IF_ERROR(conn->Exec("PRAGMA temp_store = MEMORY", "set temp store"));
  if (options.query_only) {
    KSDB_RETURN_IF_ERROR(conn->Exec("PRAGMA query_only = ON", "set query-only mode"));
  }
  return conn;
}

Status Connection::Exec(const char* sql, std::string_view what) {
  // The error text sqlite3_exec can return may quote SQL; only the code is used.
  const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK)
    return SqliteError(rc, path_, what);
  return Status::Ok();
}

void Connection::SetWalHook(int (*hook)(void*, sqlite3*, const char*, int), void* arg) {
  sqlite3_wal_hook(db_.get(), hook, arg);
}

Status Connection::Checkpoint(std::string_view what) {
  const int rc =
      sqlite3_wal_checkpoint_v2(db_.get(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  if (rc != SQLITE_OK)
    return SqliteError(rc, path_, what);
  return Status::Ok();
}

Result<ScopedStatement> Connection::Prepare(const char* sql, std::string_view what) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    StmtHandle stmt(raw);
    if (rc != SQLITE_OK)
      return SqliteError(rc, path_, what);
    it = statements_.emplace(sql, std::move(stmt)).first;
  }
  return ScopedStatement(it->second.get(), &path_);
}

Result<int64_t> Connection::QueryInt64(const char* sql, std::string_view what) {
  KSDB_ASSIGN_OR_RETURN(ScopedStatement stmt, Prepare(sql, what));
  KSDB_ASSIGN_OR_RETURN(bool has_row, stmt.Step(what));
  if (!has_row)
    return Status::Internal("query returned no row: " + std::string(what));
  return stmt.ColumnInt64(0);
}

void Connection::RollbackQuietly() {
  if (InTransaction())
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

bool Connection::InTransaction() const {
  return sqlite3_get_autocommit(db_.get()) == 0;
}

}  // namespace ksdb::storage::sqlite
