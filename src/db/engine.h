// Engine: the embedded ksdb database (tenants -> databases -> collections ->
// records), usable without the server.
//
// Write path: validate the whole request, then one store transaction (committed
// with fsync before returning), then apply to the in-memory state, where the
// vectors are staged in the index (found by exact scan) until the background
// indexer links them into the HNSW graph. A request that fails validation
// changes nothing. Reads see every write acknowledged before they started.
//
// Thread safety: all methods are thread-safe. Reads of one collection run in
// parallel; writes to one collection are serialised; catalog changes are
// serialised engine-wide.
#ifndef KSDB_DB_ENGINE_H_
#define KSDB_DB_ENGINE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/collection_config.h"
#include "core/metadata.h"
#include "core/records.h"
#include "db/embedding_registry.h"
#include "filter/where.h"
#include "storage/postgres/pool_options.h"

namespace ksdb::db {

inline constexpr char kDefaultTenant[] = "default_tenant";
inline constexpr char kDefaultDatabase[] = "default_database";
inline constexpr char kDefaultDatabaseId[] = "00000000-0000-0000-0000-000000000000";

struct EngineOptions {
  // Data directory, created if missing: the lock file, the index snapshots and
  // (without `store`) the SQLite store.
  std::string path = "./ksdb_data";
  // Where the records live: empty = PATH/ksdb.sqlite3; otherwise a SQLite file
  // path or postgresql://USER[:PASSWORD]@HOST[:PORT]/DB (password also from
  // PGPASSWORD). Several servers (each with its own `path`) may share one
  // PostgreSQL database; each follows the others' writes.
  std::string store;
  // Shared stores: how often the follower looks for other servers' writes
  // when no notification woke it (0 = never; CatchUp still works).
  uint32_t follow_interval_ms = 250;
  bool allow_reset = false;
  std::string sqlite_synchronous = "FULL";
  // Embedders configured by the operator (server-side embeddings); null or empty =
  // requests must carry their embeddings.
  std::shared_ptr<const EmbedderRegistry> embedders;
  // How often a background thread snapshots the indexes of collections that
  // changed enough (0 = never; closing the engine still snapshots).
  uint32_t checkpoint_interval_ms = 10000;
  // Whether closing the engine snapshots every changed index. Tests turn it
  // off to simulate a crash.
  bool checkpoint_on_close = true;
  // Whether a background thread links the vectors writes stage into the HNSW
  // graphs. Off (tests), they stay staged until BuildIndexes: still found by
  // every query, through an exact scan.
  bool background_indexing = true;
};

struct TenantInfo {
  std::string name;
  std::optional<std::string> resource_name;
};

struct DatabaseInfo {
  std::string id;
  std::string name;
  std::string tenant;
};

struct CollectionInfo {
  std::string id;
  std::string name;
  std::string tenant;
  std::string database;
  Metadata metadata;  // empty = null
  CollectionConfig config;
  std::optional<uint32_t> dimension;
};

struct CreateCollectionRequest {
  std::string name;
  // Empty = none. The engine cannot tell `{}` from null; the server rejects `{}`
  // ("Metadata cannot be empty") before calling CreateCollection.
  Metadata metadata;
  // nullopt: no hnsw block was given, so legacy `hnsw:*` metadata keys apply
  // (spec §7.1). The embedding function is carried separately.
  std::optional<HnswConfig> hnsw;
  std::string embedding_function_json;  // raw JSON, empty = null
  Quantization quantization = Quantization::kNone;
  bool get_or_create = false;
};

struct ModifyCollectionRequest {
  std::optional<std::string> new_name;
  std::optional<Metadata> new_metadata;  // replaces; empty after null-dropping = null
  std::optional<CollectionConfigPatch> new_configuration;
};

struct DeleteRequest {
  std::optional<std::vector<std::string>> ids;
  std::optional<filter::WhereFilter> where;
  std::optional<filter::DocumentFilter> where_document;
};

struct GetRequest {
  std::optional<std::vector<std::string>> ids;
  std::optional<filter::WhereFilter> where;
  std::optional<filter::DocumentFilter> where_document;
  std::optional<uint32_t> limit;  // nullopt = unlimited
  uint32_t offset = 0;
  Include include;
};

struct QueryRequest {
  // Row-major query vectors: num_queries rows of `dim` floats.
  size_t num_queries = 0;
  size_t dim = 0;
  std::vector<float> embeddings;
  // query_texts: when set, the engine embeds them with the collection's embedder and
  // they replace num_queries/dim/embeddings.
  std::optional<std::vector<std::string>> texts;
  uint32_t n_results = 10;
  std::optional<std::vector<std::string>> ids;
  std::optional<filter::WhereFilter> where;
  std::optional<filter::DocumentFilter> where_document;
  Include include{.embeddings = false, .documents = true, .uris = false, .metadatas = true,
                  .distances = true};
};

struct EngineStats {
  uint64_t collections = 0;
  uint64_t records = 0;
  uint64_t last_sequence = 0;
  // Vectors inserted into indexes while opening: all of them when an index was
  // rebuilt from the store, only those written after the snapshot otherwise.
  uint64_t vectors_indexed_on_open = 0;
  // Heap bytes held by the vector indexes of all collections.
  uint64_t index_memory_bytes = 0;
  // Vectors written but not linked into an HNSW graph yet (searchable by
  // exact scan meanwhile); 0 once the background indexer caught up.
  uint64_t vectors_pending = 0;
  // "sqlite" or "postgresql".
  std::string store_kind;
  // The PostgreSQL store's connection pool; nullopt for SQLite.
  std::optional<storage::postgres::PoolStats> pool;
  // Following other servers (shared stores): passes that found new writes,
  // records and deletes applied from them, failed passes.
  uint64_t follow_passes = 0;
  uint64_t followed_records = 0;
  uint64_t followed_deletes = 0;
  uint64_t follow_errors = 0;
  // Reloads of everything from the store after it pruned change log entries
  // this server had not read (it stopped following for longer than the
  // store's change_log_retention_s).
  uint64_t follow_reloads = 0;
};

class Engine {
 public:
  // Opens or creates the data directory, takes its exclusive lock (a second
  // process gets Unavailable naming the lock file), loads the catalog and every
  // collection. default_tenant/default_database exist afterwards.
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  virtual ~Engine() = default;

  // --- tenants ---
  // InvalidArgument if name has < 3 chars; AlreadyExists if taken.
  virtual Status CreateTenant(const std::string& name) = 0;
  virtual Result<TenantInfo> GetTenant(const std::string& name) = 0;
  // NotFound for a missing tenant (spec §12 #8); stores resource_name.
  virtual Status UpdateTenant(const std::string& name, const std::string& resource_name) = 0;

  // --- databases ---
  // InvalidArgument (short name), NotFound (tenant missing), AlreadyExists.
  virtual Status CreateDatabase(const std::string& tenant, const std::string& name) = 0;
  // Sorted by name; empty list for a missing tenant.
  virtual Result<std::vector<DatabaseInfo>> ListDatabases(const std::string& tenant,
                                                          std::optional<uint32_t> limit,
                                                          uint32_t offset) = 0;
  virtual Result<DatabaseInfo> GetDatabase(const std::string& tenant, const std::string& name) = 0;
  // Deletes the database and all its collections.
  virtual Status DeleteDatabase(const std::string& tenant, const std::string& name) = 0;

  // --- collections ---
  // Validates name (§4.3), metadata (non-empty if given; no "chroma:" keys),
  // configuration (a ksdb-* embedding_function must name a configured embedder).
  // InvalidArgument "Database [x] does not exist" when the
  // database is missing; AlreadyExists unless get_or_create.
  virtual Result<CollectionInfo> CreateCollection(const std::string& tenant,
                                                  const std::string& database,
                                                  const CreateCollectionRequest& request) = 0;
  // Ordered by collection id; empty for a missing database.
  virtual Result<std::vector<CollectionInfo>> ListCollections(const std::string& tenant,
                                                              const std::string& database,
                                                              std::optional<uint32_t> limit,
                                                              uint32_t offset) = 0;
  virtual Result<uint64_t> CountCollections(const std::string& tenant,
                                            const std::string& database) = 0;
  // NotFound "Collection [name] does not exists".
  virtual Result<CollectionInfo> GetCollectionByName(const std::string& tenant,
                                                     const std::string& database,
                                                     const std::string& name) = 0;
  // `collection_id` must be canonical (see ParseUuid). NotFound
  // "Collection [id] does not exists.".
  virtual Result<CollectionInfo> GetCollectionById(const std::string& collection_id) = 0;
  // AlreadyExists when renaming onto another collection's name.
  virtual Status ModifyCollection(const std::string& collection_id,
                                  const ModifyCollectionRequest& request) = 0;
  virtual Status DeleteCollection(const std::string& tenant, const std::string& database,
                                  const std::string& name) = 0;

  // --- records (collection addressed by canonical UUID) ---
  // Server-side embeddings: add/upsert/update batches without an embeddings column
  // but with documents are embedded first, in one call, by the collection's
  // embedder (EmbedderRegistry::Select); without one, InvalidArgument.
  //
  // Existing ids are skipped silently; duplicate ids in the batch give
  // DuplicateId; embeddings (or documents to embed) required, InvalidArgument
  // otherwise (the server answers a missing field with 422 before the engine).
  virtual Status Add(const std::string& collection_id, const WriteBatch& batch) = 0;
  // Insert new ids, merge-update existing ones; duplicates: last wins.
  virtual Status Upsert(const std::string& collection_id, const WriteBatch& batch) = 0;
  // Merge-update existing ids; unknown ids ignored; duplicates: last wins.
  virtual Status Update(const std::string& collection_id, const WriteBatch& batch) = 0;
  // Deletes records matching ids AND where AND where_document. With none of the
  // three, deletes nothing. Returns the number deleted.
  virtual Result<uint64_t> Delete(const std::string& collection_id,
                                  const DeleteRequest& request) = 0;
  virtual Result<uint64_t> Count(const std::string& collection_id) = 0;
  // In storage (insertion) order: ids ∩ where ∩ where_document, then offset, limit.
  virtual Result<GetResult> Get(const std::string& collection_id, const GetRequest& request) = 0;
  // One QueryHits per query row (or per text of request.texts, embedded first).
  // Dimension checked unless the collection has none.
  virtual Result<std::vector<QueryHits>> Query(const std::string& collection_id,
                                               const QueryRequest& request) = 0;

  // --- system ---
  // Forbidden unless options.allow_reset. Deletes everything, then recreates the
  // default tenant and database.
  virtual Status Reset() = 0;
  virtual EngineStats Stats() = 0;
  // Snapshots the index of every collection changed since its last snapshot.
  virtual Status Checkpoint() = 0;
  // Links every staged vector into its collection's graph now, instead of
  // waiting for the background indexer (tests, benchmarks).
  virtual Status BuildIndexes() = 0;
  // Shared stores: applies every write other servers committed before the
  // call (catalog, records, deletes) to this engine's memory and indexes. A
  // background thread does this on its own; tests call it to wait for no
  // timer. No-op for SQLite.
  //
  // When the store pruned change log entries this engine had not read, it
  // reloads the catalog and every collection from the store instead (as a
  // fresh open would, each collection swapped in whole), logs one line and
  // follows on. A second gap before a pass succeeds after that reload is
  // returned as the store's IoError, as is every later pass (restart). A
  // reload that fails (e.g. the database went away meanwhile) returns its
  // error and is retried by a later pass, with a growing number of passes
  // in between (up to 63).
  virtual Status CatchUp() = 0;
};

// Collection name rules of spec §4.3; InvalidArgument with Chroma's message.
Status ValidateCollectionName(const std::string& name, const char* field = "name");

}  // namespace ksdb::db

#endif  // KSDB_DB_ENGINE_H_
