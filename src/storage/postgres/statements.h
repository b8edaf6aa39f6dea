// The SQL the PostgreSQL record store runs, in one place. Every value is a
// $n parameter; nothing is ever spliced into these strings.
#ifndef KSDB_STORAGE_POSTGRES_STATEMENTS_H_
#define KSDB_STORAGE_POSTGRES_STATEMENTS_H_

namespace ksdb::storage::postgres::sql {

// Catalog writes are upserts, never delete + insert (see migrations.cc).
inline constexpr char kPutTenant[] =
    "INSERT INTO ksdb.tenants (name, resource_name) VALUES ($1, $2) "
    "ON CONFLICT (name) DO UPDATE SET resource_name = excluded.resource_name";
inline constexpr char kPutDatabase[] =
    "INSERT INTO ksdb.databases (id, name, tenant) VALUES ($1, $2, $3) "
    "ON CONFLICT (tenant, name) DO UPDATE SET id = excluded.id";
inline constexpr char kPutCollection[] =
    "INSERT INTO ksdb.collections (id, name, tenant, \"database\", metadata, config, dimension) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) "
    "ON CONFLICT (id) DO UPDATE SET name = excluded.name, tenant = excluded.tenant, "
    "\"database\" = excluded.\"database\", metadata = excluded.metadata, "
    "config = excluded.config, dimension = excluded.dimension";
inline constexpr char kDeleteDatabase[] =
    "DELETE FROM ksdb.databases WHERE tenant = $1 AND name = $2";
inline constexpr char kDeleteCollectionRecords[] =
    "DELETE FROM ksdb.records WHERE collection_id = $1";
inline constexpr char kDeleteCollection[] = "DELETE FROM ksdb.collections WHERE id = $1";
// Children first, so no foreign-key action has work left to do. DELETE, not
// TRUNCATE: TRUNCATE's exclusive lock would block concurrent readers.
inline constexpr char kDeleteAll[] =
    "DELETE FROM ksdb.records; DELETE FROM ksdb.collections; DELETE FROM ksdb.databases; "
    "DELETE FROM ksdb.tenants";
// Record ids are bytea and records are keyed by (collection_id, record_key),
// record_key being the generated sha256(record_id) (migrations.cc, version 3).
// The head of the multi-row record upsert; "($1, $2, ..., $10)" groups
// follow (collection_id is $1 in every group), then kPutRecordsTail.
inline constexpr char kPutRecordsHead[] =
    "INSERT INTO ksdb.records (collection_id, record_id, position, seq, embedding, document, "
    "uri, metadata, created_at_us, updated_at_us) VALUES ";
inline constexpr char kPutRecordsTail[] =
    " ON CONFLICT (collection_id, record_key) DO UPDATE SET position = excluded.position, "
    "seq = excluded.seq, embedding = excluded.embedding, document = excluded.document, "
    "uri = excluded.uri, metadata = excluded.metadata, created_at_us = excluded.created_at_us, "
    "updated_at_us = excluded.updated_at_us";
// $2 is a bytea[] of ids. ARRAY(...) is computed once, so the lookup is an
// index scan on the (collection_id, record_key) key.
inline constexpr char kDeleteRecords[] =
    "DELETE FROM ksdb.records WHERE collection_id = $1 AND record_key = ANY "
    "(ARRAY(SELECT sha256(id) FROM unnest($2::bytea[]) AS ids (id)))";
inline constexpr char kSetLastSequence[] =
    "INSERT INTO ksdb.meta (key, value) VALUES ('last_sequence', $1) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value";

// The change log (migrations.cc, version 2) and the notification other
// servers listen for; NOTIFY is delivered at commit.
inline constexpr char kLogCatalogChange[] = "INSERT INTO ksdb.changes (seq, kind) VALUES ($1, 0)";
inline constexpr char kLogRecordDeletes[] =
    "INSERT INTO ksdb.changes (seq, kind, collection_id, record_id) "
    "SELECT $1, 1, $2, unnest($3::bytea[])";
inline constexpr char kNotifyChange[] = "NOTIFY ksdb_changes";
inline constexpr char kListenChanges[] = "LISTEN ksdb_changes";
inline constexpr char kReadLastSequenceForWrite[] =
    "SELECT value FROM ksdb.meta WHERE key = 'last_sequence'";
inline constexpr char kLoadRecordsById[] =
    "SELECT record_id, position, seq, embedding, document, uri, metadata, created_at_us, "
    "updated_at_us FROM ksdb.records WHERE collection_id = $1 AND record_key = ANY "
    "(ARRAY(SELECT sha256(id) FROM unnest($2::bytea[]) AS ids (id)))";
inline constexpr char kChangesSince[] =
    "SELECT seq, kind::bigint, coalesce(collection_id, ''), coalesce(record_id, ''::bytea) "
    "FROM ksdb.changes WHERE seq > $1 AND seq <= $2 ORDER BY seq, collection_id";
// Column order as kDeclareScan plus the collection id last.
inline constexpr char kDeclareSinceScan[] =
    "DECLARE ksdb_since NO SCROLL CURSOR FOR SELECT record_id, position, seq, embedding, "
    "document, uri, metadata, created_at_us, updated_at_us, collection_id FROM ksdb.records "
    "WHERE seq > $1 AND seq <= $2 ORDER BY seq";
inline constexpr char kFetchSinceScan[] = "FETCH 1000 FROM ksdb_since";

// Pruning the change log (migrations.cc, version 4). Every server keeps its
// row in ksdb.followers: the sequence number it has applied everything up to
// and when it last said so (the database's clock, the only one all servers
// share). Entries at or below the lowest followed_seq of the servers seen
// within the retention are deleted; meta 'changes_pruned_through' is the
// highest sequence number whose entries may be gone.
inline constexpr char kRegisterFollower[] =
    "INSERT INTO ksdb.followers (server_id, followed_seq, seen_at) "
    "SELECT $1, coalesce((SELECT value FROM ksdb.meta WHERE key = 'last_sequence'), 0), "
    "clock_timestamp() "
    "ON CONFLICT (server_id) DO UPDATE SET followed_seq = excluded.followed_seq, "
    "seen_at = excluded.seen_at RETURNING followed_seq";
inline constexpr char kReportFollowed[] =
    "INSERT INTO ksdb.followers (server_id, followed_seq, seen_at) "
    "VALUES ($1, $2, clock_timestamp()) "
    "ON CONFLICT (server_id) DO UPDATE SET "
    "followed_seq = greatest(ksdb.followers.followed_seq, excluded.followed_seq), "
    "seen_at = excluded.seen_at";
// $1: the retention in seconds. NULL when no server was seen within it.
inline constexpr char kPruneHorizon[] =
    "SELECT min(followed_seq) FROM ksdb.followers "
    "WHERE seen_at > clock_timestamp() - make_interval(secs => $1::float8)";
// The highest seq among the first $2 entries at or below $1 (NULL: none), so
// one prune transaction deletes a bounded number of rows (plus the rest of
// that seq's rows: a seq is always pruned whole).
inline constexpr char kPruneChunkEnd[] =
    "SELECT max(seq) FROM (SELECT seq FROM ksdb.changes WHERE seq <= $1 ORDER BY seq "
    "LIMIT $2) AS chunk";
inline constexpr char kDeleteChangesThrough[] = "DELETE FROM ksdb.changes WHERE seq <= $1";
inline constexpr char kRaisePrunedThrough[] =
    "INSERT INTO ksdb.meta (key, value) VALUES ('changes_pruned_through', $1) "
    "ON CONFLICT (key) DO UPDATE SET value = greatest(ksdb.meta.value, excluded.value)";
inline constexpr char kReadPrunedThrough[] =
    "SELECT coalesce((SELECT value FROM ksdb.meta WHERE key = 'changes_pruned_through'), 0)";
// Servers gone longer than the retention no longer count; one that comes
// back registers again (and finds out what it missed from the horizon).
inline constexpr char kForgetGoneFollowers[] =
    "DELETE FROM ksdb.followers "
    "WHERE seen_at <= clock_timestamp() - make_interval(secs => $1::float8)";

// Read snapshots whose callers run engine code between fetches (loading an
// index, or another collection for a followed catalog change): that time is
// not the database's, so the idle-in-transaction limit, there to end leaked
// transactions holding locks, is lifted for them. Each statement keeps its
// statement and lock limits, and the transaction only holds share locks.
inline constexpr char kBeginScan[] =
    "BEGIN READ ONLY; SET LOCAL idle_in_transaction_session_timeout = 0";
inline constexpr char kBeginChangesSnapshot[] =
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; "
    "SET LOCAL idle_in_transaction_session_timeout = 0";

// Reads. Catalog rows come back in insertion order.
inline constexpr char kLoadTenants[] = "SELECT name, resource_name FROM ksdb.tenants ORDER BY ord";
inline constexpr char kLoadDatabases[] = "SELECT id, name, tenant FROM ksdb.databases ORDER BY ord";
inline constexpr char kLoadCollections[] =
    "SELECT id, name, tenant, \"database\", metadata, config, dimension FROM ksdb.collections "
    "ORDER BY ord";
// A cursor, so a million-row collection streams in batches instead of
// arriving as one result in memory. Served by records_by_position.
inline constexpr char kDeclareScan[] =
    "DECLARE ksdb_scan NO SCROLL CURSOR FOR SELECT record_id, position, seq, embedding, "
    "document, uri, metadata, created_at_us, updated_at_us FROM ksdb.records "
    "WHERE collection_id = $1 ORDER BY position";
inline constexpr char kFetchScan[] = "FETCH 1000 FROM ksdb_scan";
inline constexpr char kLastSequence[] = "SELECT value FROM ksdb.meta WHERE key = 'last_sequence'";

}  // namespace ksdb::storage::postgres::sql

#endif  // KSDB_STORAGE_POSTGRES_STATEMENTS_H_
