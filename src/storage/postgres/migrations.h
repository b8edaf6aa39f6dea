// Versioned schema migrations of the PostgreSQL record store, applied by the
// shared runner (storage/migration_runner.h). Everything ksdb owns lives in
// the schema `ksdb` of the target database, so the database may hold other
// applications' tables; a `ksdb` schema that exists without ksdb's
// schema_migrations table is refused. A transaction-level advisory lock
// serialises servers that open the same database at once.
#ifndef KSDB_STORAGE_POSTGRES_MIGRATIONS_H_
#define KSDB_STORAGE_POSTGRES_MIGRATIONS_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "common/status.h"
#include "storage/migration_runner.h"
#include "storage/postgres/pg_connection.h"

namespace ksdb::storage::postgres {

// The migrations this build knows, in ascending version order.
std::span<const Migration> Migrations();

// Advisory-lock keys (pg_advisory_xact_lock) of the ksdb schema: one for
// migrations, one held by every write transaction, one serialising a
// server's registration as a follower with pruning of the change log.
inline constexpr int64_t kMigrationLockKey = 0x6B73646200000001;
inline constexpr int64_t kWriteLockKey = 0x6B73646200000002;
inline constexpr int64_t kFollowersLockKey = 0x6B73646200000003;

// Inside a transaction: waits for the advisory lock `key`, held until the
// transaction ends.
Status LockAdvisory(Connection& conn, int64_t key, std::string_view what);

// Checks that the database has no foreign `ksdb` schema, then brings the
// schema up to the latest version. Errors name the store, never SQL: IoError
// for a foreign schema or one written by a newer ksdb, Unavailable when the
// connection fails.
Status ApplyMigrations(Connection& conn);

}  // namespace ksdb::storage::postgres

#endif  // KSDB_STORAGE_POSTGRES_MIGRATIONS_H_
