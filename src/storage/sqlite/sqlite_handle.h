// Small RAII wrappers around the SQLite C API: a Connection owns one sqlite3*
// and a cache of prepared statements; a ScopedStatement is a borrowed, bound
// statement that is reset (and unbound) when it goes out of scope.
//
// These are internal to storage/sqlite; nothing outside this folder sees a
// sqlite3* or sqlite3_stmt*.
//
// Thread safety: a Connection (and every statement it hands out) is used by one
// thread at a time; the owner serialises access.
#ifndef KSDB_STORAGE_SQLITE_SQLITE_HANDLE_H_
#define KSDB_STORAGE_SQLITE_SQLITE_HANDLE_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"

namespace ksdb::storage::sqlite {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Turns an SQLite result code into a Status for the database file `path`:
// SQLITE_BUSY/SQLITE_LOCKED -> Unavailable, anything else -> IoError. The
// message names the file and the operation and carries sqlite3_errstr text,
// never SQL.
Status SqliteError(int rc, std::string_view path, std::string_view what);

// A statement borrowed from a Connection's cache, with bind and column helpers.
// Binding errors are remembered and reported by the next Step(). Resets the
// statement and clears its bindings on destruction, so borrowed buffers bound
// with SQLITE_STATIC are never referenced after the ScopedStatement dies.
// Must not outlive its Connection; a cached statement is borrowed by at most
// one ScopedStatement at a time.
class ScopedStatement {
 public:
  ScopedStatement(sqlite3_stmt* stmt, const std::string* path) : stmt_(stmt), path_(path) {}
  ~ScopedStatement();
  ScopedStatement(ScopedStatement&& other) noexcept;
  ScopedStatement& operator=(ScopedStatement&&) = delete;
  ScopedStatement(const ScopedStatement&) = delete;
  ScopedStatement& operator=(const ScopedStatement&) = delete;

  // Bind helpers take 1-based parameter indexes. The bound memory must stay
  // valid until the next Reset() or the end of this object (SQLITE_STATIC).
  void BindInt64(int index, int64_t value);
  void BindText(int index, const std::string& value);
  void BindOptionalText(int index, const std::optional<std::string>& value);
  // size 0 binds a zero-length blob (not NULL), whatever `data` is.
  void BindBlob(int index, const void* data, size_t size);
  void BindNull(int index);

  // Runs one step: true when a row is available, false when done.
  Result<bool> Step(std::string_view what);
  // Step() that must finish without producing a row.
  Status Run(std::string_view what);
  // Rewinds the statement for another execution, keeping it prepared and
  // clearing the bindings.
  void Reset();

  bool ColumnIsNull(int column) const;
  int64_t ColumnInt64(int column) const;
  std::string ColumnText(int column) const;
  std::optional<std::string> ColumnOptionalText(int column) const;
  // The blob (or text) bytes of `column`; valid until the next Step/Reset.
  std::string_view ColumnBlob(int column) const;

 private:
  void NoteBind(int rc);

  sqlite3_stmt* stmt_;
  const std::string* path_;
  int bind_rc_ = SQLITE_OK;
};

struct ConnectionOptions {
  bool create = false;      // create the file if missing
  bool query_only = false;  // refuse writes on this connection
  int cache_size_kib = 16 * 1024;
  int busy_timeout_ms = 5000;
};

// One sqlite3 connection plus its prepared-statement cache.
class Connection {
 public:
  // Takes ownership of an open handle; prefer Open().
  Connection(DbHandle db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

  // Opens `path`. The file is not read yet: errors such as "not a database"
  // show up on the first statement.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path,
                                                  const ConnectionOptions& options);

  // Runs `sql` (one or more statements, no result rows wanted). `what` names
  // the operation in error messages.
  Status Exec(const char* sql, std::string_view what);
  // Borrows the cached prepared statement for `sql`, preparing it on first use.
  // `sql` must be a string with static storage: its address is the cache key.
  Result<ScopedStatement> Prepare(const char* sql, std::string_view what);
  // Runs a single-row, single-column integer query (e.g. a PRAGMA).
  Result<int64_t> QueryInt64(const char* sql, std::string_view what);
  // Rolls back an open transaction, if any; errors are ignored because the
  // caller is already reporting a failure or cleaning up.
  void RollbackQuietly();
  bool InTransaction() const;

  // Calls `hook(arg, db, schema, wal_pages)` after each commit (sqlite3_wal_hook;
  // replaces SQLite's automatic checkpoints). nullptr removes it.
  void SetWalHook(int (*hook)(void*, sqlite3*, const char*, int), void* arg);
  // A PASSIVE checkpoint: copies what it can of the WAL into the database file
  // without waiting for readers or writers. Unavailable if another
  // checkpoint is running.
  Status Checkpoint(std::string_view what);

  const std::string& path() const { return path_; }

 private:
  DbHandle db_;
  std::string path_;
  // Declared after db_ so the statements are finalized before the handle closes.
  std::unordered_map<const char*, StmtHandle> statements_;
};

}  // namespace ksdb::storage::sqlite

#endif  // KSDB_STORAGE_SQLITE_SQLITE_HANDLE_H_
