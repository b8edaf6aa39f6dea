// The SQL the SQLite record store runs, in one place. Each constant has static
// storage, so its address serves as the key of a Connection's statement cache.
#ifndef KSDB_STORAGE_SQLITE_STATEMENTS_H_
#define KSDB_STORAGE_SQLITE_STATEMENTS_H_

namespace ksdb::storage::sqlite::sql {

// Catalog writes are UPSERTs, never REPLACE (see migrations.cc).
inline constexpr char kPutTenant[] =
    "INSERT INTO tenants (name, resource_name) VALUES (?1, ?2) "
    "ON CONFLICT (name) DO UPDATE SET resource_name = excluded.resource_name";
inline constexpr char kPutDatabase[] =
    "INSERT INTO databases (id, name, tenant) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (tenant, name) DO UPDATE SET id = excluded.id";
inline constexpr char kPutCollection[] =
    "INSERT INTO collections (id, name, tenant, \"database\", metadata, config, dimension) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT (id) DO UPDATE SET name = excluded.name, tenant = excluded.tenant, "
    "\"database\" = excluded.\"database\", metadata = excluded.metadata, "
    "config = excluded.config, dimension = excluded.dimension";
inline constexpr char kDeleteDatabase[] = "DELETE FROM databases WHERE tenant = ?1 AND name = ?2";
inline constexpr char kDeleteCollectionRecords[] = "DELETE FROM records WHERE collection_id = ?1";
inline constexpr char kDeleteCollection[] = "DELETE FROM collections WHERE id = ?1";
// Children first, so no foreign-key action has work left to do.
inline constexpr char kDeleteAll[] =
    "DELETE FROM records; DELETE FROM collections; DELETE FROM databases; DELETE FROM tenants;";
// Records have no children, so REPLACE (delete + insert) is safe and is the
// cheapest way to overwrite a whole row.
inline constexpr char kPutRecord[] =
    "INSERT OR REPLACE INTO records (collection_id, record_id, position, seq, embedding, "
    "document, uri, metadata, created_at_us, updated_at_us) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
inline constexpr char kDeleteRecord[] =
    "DELETE FROM records WHERE collection_id = ?1 AND record_id = ?2";
inline constexpr char kSetLastSequence[] =
    "INSERT INTO meta (key, value) VALUES ('last_sequence', ?1) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value";

// Reads. Catalog rows come back in insertion order (rowid; upserts keep it).
inline constexpr char kLoadTenants[] = "SELECT name, resource_name FROM tenants ORDER BY rowid";
inline constexpr char kLoadDatabases[] = "SELECT id, name, tenant FROM databases ORDER BY rowid";
inline constexpr char kLoadCollections[] =
    "SELECT id, name, tenant, \"database\", metadata, config, dimension FROM collections "
    "ORDER BY rowid";
// Served by records_by_position without a sort step.
inline constexpr char kScanRecords[] =
    "SELECT record_id, position, seq, embedding, document, uri, metadata, created_at_us, "
    "updated_at_us FROM records WHERE collection_id = ?1 ORDER BY position";
inline constexpr char kLastSequence[] = "SELECT value FROM meta WHERE key = 'last_sequence'";

}  // namespace ksdb::storage::sqlite::sql

#endif  // KSDB_STORAGE_SQLITE_STATEMENTS_H_
