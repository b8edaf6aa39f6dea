#include "db/engine.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <tuple>
#include <unordered_map>

#include "common/logging.h"
#include "common/uuid.h"
#include "db/background_indexer.h"
#include "db/collection.h"
#include "db/data_dir_lock.h"
#include "db/periodic_task.h"
#include "db/embedding_write.h"
#include "db/sequenced_writer.h"
#include "db/validation.h"
#include "storage/open_store.h"
#include "storage/postgres/postgres_store.h"
#include "storage/record_store.h"

namespace ksdb::db {
namespace {

using CollectionKey = std::tuple<std::string, std::string, std::string>;  // tenant, db, name
using DatabaseKey = std::pair<std::string, std::string>;                  // tenant, name

CollectionInfo FromRow(storage::CollectionRow row) {
  return {std::move(row.id),       std::move(row.name),   std::move(row.tenant),
          std::move(row.database), std::move(row.metadata), std::move(row.config),
          row.dimension};
}

template <typename T>
std::vector<T> Page(std::vector<T> items, std::optional<uint32_t> limit, uint32_t offset) {
  if (offset >= items.size()) return {};
  items.erase(items.begin(), items.begin() + offset);
  if (limit && *limit < items.size()) items.resize(*limit);
  return items;
}

Status CollectionByNameNotFound(const std::string& name) {
  return Status::NotFound("Collection [" + name + "] does not exists");
}

const Status& StatusOf(const Status& status) { return status; }
template <typename T>
Status StatusOf(const Result<T>& result) {
  return result.status();
}

// Index snapshots live in DIR/index/<collection id>.hnsw.
constexpr char kIndexDir[] = "index";
// How long the background indexer holds one collection's lock per step:
// queries and writes behind it wait at most about this long.
constexpr std::chrono::milliseconds kIndexStep{20};

class EngineImpl final : public Engine {
 public:
  EngineImpl(EngineOptions options, std::unique_ptr<DataDirLock> lock,
             std::unique_ptr<storage::RecordStore> store, uint64_t last_seq)
      : options_(std::move(options)),
        lock_(std::move(lock)),
        store_(std::move(store)),
        writer_(store_.get(), last_seq) {}
  ~EngineImpl() override;

  // Starts the periodic checkpoints and, for a shared store, the follower
  // (after LoadCatalog).
  void StartBackgroundTasks();

  Status LoadCatalog();
  Status EnsureDefaults();

  Status CreateTenant(const std::string& name) override;
  Result<TenantInfo> GetTenant(const std::string& name) override;
  Status UpdateTenant(const std::string& name, const std::string& resource_name) override;
  Status CreateDatabase(const std::string& tenant, const std::string& name) override;
  Result<std::vector<DatabaseInfo>> ListDatabases(const std::string& tenant,
                                                  std::optional<uint32_t> limit,
                                                  uint32_t offset) override;
  Result<DatabaseInfo> GetDatabase(const std::string& tenant, const std::string& name) override;
  Status DeleteDatabase(const std::string& tenant, const std::string& name) override;
  Result<CollectionInfo> CreateCollection(const std::string& tenant, const std::string& database,
                                          const CreateCollectionRequest& request) override;
  Result<std::vector<CollectionInfo>> ListCollections(const std::string& tenant,
                                                      const std::string& database,
                                                      std::optional<uint32_t> limit,
                                                      uint32_t offset) override;
  Result<uint64_t> CountCollections(const std::string& tenant,
                                    const std::string& database) override;
  Result<CollectionInfo> GetCollectionByName(const std::string& tenant,
                                             const std::string& database,
                                             const std::string& name) override;
  Result<CollectionInfo> GetCollectionById(const std::string& collection_id) override;
  Status ModifyCollection(const std::string& collection_id,
                          const ModifyCollectionRequest& request) override;
  Status DeleteCollection(const std::string& tenant, const std::string& database,
                          const std::string& name) override;

  Status Add(const std::string& collection_id, const WriteBatch& batch) override;
  Status Upsert(const std::string& collection_id, const WriteBatch& batch) override;
  Status Update(const std::string& collection_id, const WriteBatch& batch) override;
  Result<uint64_t> Delete(const std::string& collection_id, const DeleteRequest& request) override;
  Result<uint64_t> Count(const std::string& collection_id) override;
  Result<GetResult> Get(const std::string& collection_id, const GetRequest& request) override;
  Result<std::vector<QueryHits>> Query(const std::string& collection_id,
                                       const QueryRequest& request) override;
  Status Reset() override;
  EngineStats Stats() override;
  Status Checkpoint() override { return CheckpointAll(/*force=*/true); }
  Status CatchUp() override;
  Status BuildIndexes() override;

 private:
  // Looks a collection up by id under the shared catalog lock. The handle stays
  // usable after the lock is released; a concurrent drop makes its calls
  // return NotFound.
  Result<std::shared_ptr<Collection>> FindById(const std::string& collection_id);
  std::shared_ptr<Collection> FindByNameLocked(const std::string& tenant,
                                               const std::string& database,
                                               const std::string& name) const;
  // Drops `victims` and whatever `extra` stages, in one transaction. Requires
  // the exclusive catalog lock; erases the victims from the catalog maps.
  Status DropCollectionsLocked(const std::vector<std::shared_ptr<Collection>>& victims,
                               const std::function<Status(storage::WriteTransaction&)>& extra);
  Result<HnswConfig> ResolveHnsw(const CreateCollectionRequest& request) const;
  // Writes the records (their vectors staged in the index) and wakes the
  // background indexer.
  Status WriteRecords(const std::string& collection_id, const WriteBatch& batch, WriteKind kind);
  Status StageRecords(const std::string& collection_id, const WriteBatch& batch, WriteKind kind);
  Status StageRecordsIn(const std::shared_ptr<Collection>& collection, const WriteBatch& batch,
                        WriteKind kind);
  // The embedder a collection with `config` uses; nullptr when none.
  Result<const embed::Embedder*> EmbedderFor(const CollectionConfig& config) const;

  // Snapshots collections whose changes reached their threshold (or all
  // changed ones when `force`). Returns the first error; tries them all.
  Status CheckpointAll(bool force);
  std::string SnapshotPath(const std::string& collection_id) const;

  // --- following other servers (shared stores) ---
  // One pass: applies what others committed since the watermark, then
  // raises it; reloads everything when the store pruned change log entries
  // this server had not read (ReloadAfterGap). Requires follow_mu_.
  Status FollowLocked();
  // Applies one delete log entry, or a batch of followed records.
  Status ApplyLogEntries(std::vector<storage::ChangeLogEntry>&& entries);
  Status ApplyRecordBatch(std::vector<storage::CollectionRecordRow>&& rows);

  // --- reloading after missed change log entries (requires follow_mu_) ---
  // Replaces the catalog and every collection by the store's state, as a
  // fresh open would load it, then raises the watermark: the store pruned
  // entries after `since` and registered this server again at `from`.
  Status ReloadAfterGap(uint64_t since, uint64_t from);
  // Phase 1, without engine locks: a new object, loaded from the store, for
  // every collection the store has now (each scan sees at least `from`).
  Result<std::map<std::string, std::shared_ptr<Collection>>> LoadFreshCollections(uint64_t from);
  // Phase 2: under the catalog lock and the locks of the objects `fresh`
  // replaces, applies to the fresh objects what was committed after `from`,
  // reads the catalog again and swaps. Returns the new watermark.
  Result<uint64_t> SwapInFresh(std::map<std::string, std::shared_ptr<Collection>>& fresh,
                               uint64_t from);
  // The catalog as the store has it now, keeping `fresh` objects and the
  // current ones of collections that have none. Requires catalog_mu_.
  Result<std::map<std::string, std::shared_ptr<Collection>>> NextCollectionsLocked(
      const std::map<std::string, std::shared_ptr<Collection>>& fresh);
  // The object of `collection_id` after a reload replaced `stale` (whose
  // calls then answer NotFound); null when it was not replaced.
  std::shared_ptr<Collection> Successor(const std::shared_ptr<Collection>& stale) const;
  // Runs `call` (Status or Result<T> of a std::shared_ptr<Collection>) on the
  // collection, and once more on its successor when a reload replaced the
  // object while `call` waited for it.
  template <typename Call>
  auto OnCollection(const std::string& collection_id, Call call)
      -> decltype(call(std::shared_ptr<Collection>()));
  // Replaces the catalog maps by the store's catalog: collections gone there
  // are dropped here, new ones loaded, changed ones adopt the new row.
  Status ReloadCatalog();
  // Looks a collection up by id; null when unknown.
  std::shared_ptr<Collection> FindOrNull(const std::string& collection_id) const;
  std::vector<std::shared_ptr<Collection>> AllCollections() const;

  const EngineOptions options_;
  std::unique_ptr<DataDirLock> lock_;
  std::unique_ptr<storage::RecordStore> store_;
  SequencedWriter writer_;

  mutable std::shared_mutex catalog_mu_;
  std::map<std::string, TenantInfo> tenants_;                       // guarded by catalog_mu_
  std::map<DatabaseKey, DatabaseInfo> databases_;                   // guarded by catalog_mu_
  std::map<std::string, std::shared_ptr<Collection>> collections_;  // by id; guarded
  std::map<CollectionKey, std::string> collection_names_;           // -> id; guarded
  uint64_t vectors_indexed_on_open_ = 0;
  std::mutex follow_mu_;  // one follow pass at a time
  std::atomic<uint64_t> follow_passes_{0};
  std::atomic<uint64_t> followed_records_{0};
  std::atomic<uint64_t> followed_deletes_{0};
  std::atomic<uint64_t> follow_errors_{0};
  std::atomic<uint64_t> follow_reloads_{0};
  // Set by a successful reload after missed change log entries, cleared by
  // the next successful pass: while set, missed entries are an error, not
  // another reload, so reloads never loop. A failed reload is retried on a
  // later pass, after 0, 1, 3, 7, ... up to 63 passes without one (so a
  // database blip heals by itself, a lasting failure does not reload the
  // whole catalog every pass). Guarded by follow_mu_.
  bool reloaded_after_gap_ = false;
  uint32_t failed_reloads_ = 0;
  uint32_t passes_before_reload_ = 0;
  // Stopped first: it stages vectors the indexer then links.
  std::unique_ptr<PeriodicTask> follower_;
  // Links the vectors writes staged (null without options.background_indexing).
  std::unique_ptr<BackgroundIndexer> indexer_;
  // Last member: stopped first on destruction, before anything it uses.
  std::unique_ptr<PeriodicTask> checkpointer_;
};

EngineImpl::~EngineImpl() {
  follower_.reset();
  indexer_.reset();
  checkpointer_.reset();
  if (options_.checkpoint_on_close) {
    Status s = CheckpointAll(/*force=*/true);
    if (!s.ok()) Log(LogLevel::kWarning, "index snapshot on close failed: " + s.message());
  }
}

void EngineImpl::StartBackgroundTasks() {
  if (options_.background_indexing) {
    indexer_ = std::make_unique<BackgroundIndexer>([this] { return AllCollections(); },
                                                   kIndexStep);
    // Loading staged whatever the snapshots did not hold.
    indexer_->Notify();
  }
  if (store_->shared() && options_.follow_interval_ms != 0) {
    follower_ = std::make_unique<PeriodicTask>(
        std::chrono::milliseconds(options_.follow_interval_ms), [this] {
          Status s = CatchUp();
          if (indexer_) indexer_->Notify();
          // Logged once per failure streak: a database restart must not
          // flood the log every interval.
          if (!s.ok() && follow_errors_.load() == 1) {
            Log(LogLevel::kWarning, "following other servers failed (retrying): " + s.message());
          }
        });
  }
  if (options_.checkpoint_interval_ms == 0) return;
  checkpointer_ = std::make_unique<PeriodicTask>(
      std::chrono::milliseconds(options_.checkpoint_interval_ms), [this] {
        Status s = CheckpointAll(/*force=*/false);
        if (!s.ok()) Log(LogLevel::kWarning, "index snapshot failed: " + s.message());
      });
}

std::string EngineImpl::SnapshotPath(const std::string& collection_id) const {
  return (std::filesystem::path(options_.path) / kIndexDir / (collection_id + ".hnsw")).string();
}

std::vector<std::shared_ptr<Collection>> EngineImpl::AllCollections() const {
  std::shared_lock<std::shared_mutex> lock(catalog_mu_);
  std::vector<std::shared_ptr<Collection>> out;
  out.reserve(collections_.size());
  for (const auto& [id, collection] : collections_) out.push_back(collection);
  return out;
}

Status EngineImpl::CheckpointAll(bool force) {
  Status first = Status::Ok();
  for (const std::shared_ptr<Collection>& collection : AllCollections()) {
    const size_t threshold = force ? 1 : collection->CheckpointThreshold();
    Status s = collection->Checkpoint(writer_, threshold);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

Status EngineImpl::LoadCatalog() {
  KSDB_ASSIGN_OR_RETURN(auto tenants, store_->LoadTenants());
  for (auto& t : tenants) tenants_[t.name] = TenantInfo{t.name, t.resource_name};
  KSDB_ASSIGN_OR_RETURN(auto databases, store_->LoadDatabases());
  for (auto& d : databases) databases_[{d.tenant, d.name}] = DatabaseInfo{d.id, d.name, d.tenant};
  KSDB_ASSIGN_OR_RETURN(auto collections, store_->LoadCollections());
  for (auto& row : collections) {
    const std::string snapshot_path = SnapshotPath(row.id);
    auto collection = std::make_shared<Collection>(FromRow(std::move(row)), snapshot_path);
    KSDB_RETURN_IF_ERROR(collection->Load(store_.get(), writer_.committed_seq()));
    vectors_indexed_on_open_ += collection->indexed_on_load();
    CollectionInfo info = collection->Info();
    collection_names_[{info.tenant, info.database, info.name}] = info.id;
    collections_[info.id] = std::move(collection);
  }
  return Status::Ok();
}

Status EngineImpl::EnsureDefaults() {
  std::unique_lock<std::shared_mutex> lock(catalog_mu_);
  bool has_tenant = tenants_.count(kDefaultTenant) > 0;
  bool has_db = databases_.count({kDefaultTenant, kDefaultDatabase}) > 0;
  if (has_tenant && has_db) return Status::Ok();
  KSDB_ASSIGN_OR_RETURN(WriteScope scope, writer_.Begin());
  TenantInfo tenant{kDefaultTenant, std::nullopt};
  DatabaseInfo db{kDefaultDatabaseId, kDefaultDatabase, kDefaultTenant};
  if (!has_tenant) KSDB_RETURN_IF_ERROR(scope.txn().PutTenant({tenant.name, tenant.resource_name}));
  if (!has_db) KSDB_RETURN_IF_ERROR(scope.txn().PutDatabase({db.id, db.name, db.tenant}));
  KSDB_RETURN_IF_ERROR(scope.Commit());
  tenants_[tenant.name] = tenant;
  databases_[{db.tenant, db.name}] = db;
  return Status::Ok();
}

// --- following other servers ---

std::shared_ptr<Collection> EngineImpl::FindOrNull(const std::string& collection_id) const {
  std::shared_lock<std::shared_mutex> lock(catalog_mu_);
  auto it = collections_.find(collection_id);
  return it == collections_.end() ? nullptr : it->second;
}

Status EngineImpl::CatchUp() {
  if (!store_->shared()) return Status::Ok();
  std::lock_guard<std::mutex> lock(follow_mu_);
  Status s = FollowLocked();
  if (s.ok()) {
    follow_errors_ = 0;
  } else {
    ++follow_errors_;
  }
  return s;
}

Status EngineImpl::FollowLocked() {
  const uint64_t since = writer_.committed_seq();
  storage::ChangeVisitor visitor;
  visitor.log = [this](std::vector<storage::ChangeLogEntry>&& entries) {
    return ApplyLogEntries(std::move(entries));
  };
  visitor.records = [this](std::vector<storage::CollectionRecordRow>&& rows) {
    return ApplyRecordBatch(std::move(rows));
  };
  std::optional<uint64_t> reload_from;
  bool may_reload = !reloaded_after_gap_;
  if (may_reload && passes_before_reload_ > 0) {
    --passes_before_reload_;
    may_reload = false;
  }
  if (may_reload) {
    // Reloaded after the store's call returns: it holds a connection until then.
    visitor.missed = [&reload_from](uint64_t from) {
      reload_from = from;
      return Status::Ok();
    };
  }
  KSDB_ASSIGN_OR_RETURN(uint64_t last, store_->ReadChangesSince(since, visitor));
  if (reload_from.has_value()) return ReloadAfterGap(since, *reload_from);
  reloaded_after_gap_ = false;
  if (last <= since) return Status::Ok();
  ++follow_passes_;
  writer_.AdvanceTo(last);
  // Every read of the store from now on reflects the deletions up to `last`.
  for (const std::shared_ptr<Collection>& collection : AllCollections()) {
    collection->ForgetDeletionsUpTo(last);
  }
  return Status::Ok();
}

Status EngineImpl::ApplyLogEntries(std::vector<storage::ChangeLogEntry>&& entries) {
  // The catalog first: records that follow may belong to new collections.
  for (const storage::ChangeLogEntry& entry : entries) {
    if (entry.kind == storage::ChangeKind::kCatalog) {
      KSDB_RETURN_IF_ERROR(ReloadCatalog());
      break;
    }
  }
  for (const storage::ChangeLogEntry& entry : entries) {
    if (entry.kind != storage::ChangeKind::kDeleteRecords) continue;
    std::shared_ptr<Collection> collection = FindOrNull(entry.collection_id);
    if (!collection) continue;  // dropped since
    collection->ApplyFollowedDeletes(entry.record_ids, entry.seq);
    followed_deletes_ += entry.record_ids.size();
  }
  return Status::Ok();
}

Status EngineImpl::ApplyRecordBatch(std::vector<storage::CollectionRecordRow>&& rows) {
  // Rows arrive in sequence order; group them per collection.
  std::map<std::string, std::vector<storage::RecordRow>> by_collection;
  for (storage::CollectionRecordRow& row : rows) {
    by_collection[row.collection_id].push_back(std::move(row.row));
  }
  for (auto& [collection_id, records] : by_collection) {
    std::shared_ptr<Collection> collection = FindOrNull(collection_id);
    if (!collection) continue;  // dropped since
    followed_records_ += records.size();
    KSDB_RETURN_IF_ERROR(collection->ApplyFollowedRows(std::move(records)));
  }
  return Status::Ok();
}

// --- reloading after missed change log entries ---

Status EngineImpl::ReloadAfterGap(uint64_t since, uint64_t from) {
  reloaded_after_gap_ = true;
  ++follow_reloads_;
  Result<std::map<std::string, std::shared_ptr<Collection>>> fresh = LoadFreshCollections(from);
  Result<uint64_t> last =
      fresh.ok() ? SwapInFresh(*fresh, from) : Result<uint64_t>(fresh.status());
  if (!last.ok()) {
    reloaded_after_gap_ = false;
    passes_before_reload_ = (1u << std::min<uint32_t>(failed_reloads_, 6)) - 1;
    ++failed_reloads_;
    return Status(last.status().code(),
                  "reloading after missed change log entries failed (retried by a later follow "
                  "pass): " +
                      last.status().message());
  }
  failed_reloads_ = 0;
  Log(LogLevel::kWarning,
      "following other servers: change log entries after sequence number " +
          std::to_string(since) +
          " were pruned before this server read them (it stopped following for longer than "
          "change_log_retention_s); reloaded the catalog and " +
          std::to_string(fresh->size()) + " collections from the store, following on from " +
          std::to_string(*last));
  return Status::Ok();
}

Result<std::map<std::string, std::shared_ptr<Collection>>> EngineImpl::LoadFreshCollections(
    uint64_t from) {
  KSDB_ASSIGN_OR_RETURN(std::vector<storage::CollectionRow> rows, store_->LoadCollections());
  std::map<std::string, std::shared_ptr<Collection>> fresh;
  for (storage::CollectionRow& row : rows) {
    const std::string snapshot_path = SnapshotPath(row.id);
    auto collection = std::make_shared<Collection>(FromRow(std::move(row)), snapshot_path);
    KSDB_RETURN_IF_ERROR(collection->Load(store_.get(), from));
    fresh[collection->id()] = std::move(collection);
  }
  return fresh;
}

Result<uint64_t> EngineImpl::SwapInFresh(std::map<std::string, std::shared_ptr<Collection>>& fresh,
                                         uint64_t from) {
  std::unique_lock<std::shared_mutex> catalog_lock(catalog_mu_);
  // Lock order as for drops: catalog -> collections. Holding the objects
  // being replaced, no local write to them is between its commit and its
  // apply, and none starts: each committed before this point is in the
  // fresh object's scan or in the read below.
  std::vector<std::unique_lock<std::shared_mutex>> replaced_locks;
  for (const auto& [id, collection] : collections_) {
    if (fresh.count(id)) replaced_locks.push_back(collection->LockForDrop());
  }
  // The fresh object, or the current one of a collection created here
  // while they loaded; never one locked above.
  auto target = [&](const std::string& id) -> std::shared_ptr<Collection> {
    auto it = fresh.find(id);
    if (it != fresh.end()) return it->second;
    auto current = collections_.find(id);
    return current == collections_.end() ? nullptr : current->second;
  };
  storage::ChangeVisitor visitor;
  visitor.log = [&](std::vector<storage::ChangeLogEntry>&& entries) {
    for (const storage::ChangeLogEntry& entry : entries) {
      if (entry.kind != storage::ChangeKind::kDeleteRecords) continue;
      if (std::shared_ptr<Collection> collection = target(entry.collection_id)) {
        collection->ApplyFollowedDeletes(entry.record_ids, entry.seq);
      }
    }
    return Status::Ok();
  };
  visitor.records = [&](std::vector<storage::CollectionRecordRow>&& rows) {
    std::map<std::string, std::vector<storage::RecordRow>> by_collection;
    for (storage::CollectionRecordRow& row : rows) {
      by_collection[row.collection_id].push_back(std::move(row.row));
    }
    for (auto& [id, records] : by_collection) {
      if (std::shared_ptr<Collection> collection = target(id)) {
        KSDB_RETURN_IF_ERROR(collection->ApplyFollowedRows(std::move(records)));
      }
    }
    return Status::Ok();
  };
  // `missed` stays unset: entries missing again now are an error.
  KSDB_ASSIGN_OR_RETURN(uint64_t last, store_->ReadChangesSince(from, visitor));
  last = std::max(last, from);
  // Catalog changes of the log are covered by reading the catalog now.
  KSDB_ASSIGN_OR_RETURN(auto tenants, store_->LoadTenants());
  KSDB_ASSIGN_OR_RETURN(auto databases, store_->LoadDatabases());
  KSDB_ASSIGN_OR_RETURN(auto next, NextCollectionsLocked(fresh));
  for (auto& [id, collection] : collections_) {
    auto kept = next.find(id);
    if (kept != next.end() && kept->second == collection) continue;
    // Replaced objects are locked above; collections gone from the store
    // are not. Either way later calls through old handles get NotFound.
    std::unique_lock<std::shared_mutex> drop_lock;
    if (!fresh.count(id)) drop_lock = collection->LockForDrop();
    // A successor has the same snapshot path and may have loaded the file.
    if (kept != next.end())
      collection->FinishReplaced();
    else
      collection->FinishDrop();
  }
  tenants_.clear();
  for (auto& t : tenants) tenants_[t.name] = TenantInfo{t.name, t.resource_name};
  databases_.clear();
  for (auto& d : databases) databases_[{d.tenant, d.name}] = DatabaseInfo{d.id, d.name, d.tenant};
  collections_ = std::move(next);
  collection_names_.clear();
  for (const auto& [id, collection] : collections_) {
    CollectionInfo info = collection->Info();
    collection_names_[{info.tenant, info.database, info.name}] = id;
  }
  ++follow_passes_;
  writer_.AdvanceTo(last);
  replaced_locks.clear();
  catalog_lock.unlock();
  for (const std::shared_ptr<Collection>& collection : AllCollections()) {
    collection->ForgetDeletionsUpTo(last);
  }
  return last;
}

Result<std::map<std::string, std::shared_ptr<Collection>>> EngineImpl::NextCollectionsLocked(
    const std::map<std::string, std::shared_ptr<Collection>>& fresh) {
  KSDB_ASSIGN_OR_RETURN(std::vector<storage::CollectionRow> rows, store_->LoadCollections());
  std::map<std::string, std::shared_ptr<Collection>> next;
  for (storage::CollectionRow& row : rows) {
    CollectionInfo info = FromRow(std::move(row));
    auto fresh_it = fresh.find(info.id);
    auto current_it = collections_.find(info.id);
    if (fresh_it != fresh.end() || current_it != collections_.end()) {
      std::shared_ptr<Collection> kept =
          fresh_it != fresh.end() ? fresh_it->second : current_it->second;
      kept->AdoptInfo(info);
      next[info.id] = std::move(kept);
      continue;
    }
    // Created by another server while the fresh objects loaded.
    auto collection = std::make_shared<Collection>(info, SnapshotPath(info.id));
    KSDB_RETURN_IF_ERROR(collection->Load(store_.get(), writer_.committed_seq()));
    next[info.id] = std::move(collection);
  }
  return next;
}

std::shared_ptr<Collection> EngineImpl::Successor(const std::shared_ptr<Collection>& stale) const {
  std::shared_ptr<Collection> current = FindOrNull(stale->id());
  return current == stale ? nullptr : current;
}

template <typename Call>
auto EngineImpl::OnCollection(const std::string& collection_id, Call call)
    -> decltype(call(std::shared_ptr<Collection>())) {
  KSDB_ASSIGN_OR_RETURN(std::shared_ptr<Collection> collection, FindById(collection_id));
  auto result = call(collection);
  if (StatusOf(result).code() != StatusCode::kNotFound) return result;
  std::shared_ptr<Collection> successor = Successor(collection);
  return successor ? call(successor) : result;
}

Status EngineImpl::ReloadCatalog() {
  // Under the exclusive catalog lock, so no local catalog change can land
  // between this read and its application.
  std::unique_lock<std::shared_mutex> lock(catalog_mu_);
  KSDB_ASSIGN_OR_RETURN(auto tenants, store_->LoadTenants());
  KSDB_ASSIGN_OR_RETURN(auto databases, store_->LoadDatabases());
  KSDB_ASSIGN_OR_RETURN(auto collections, store_->LoadCollections());
  tenants_.clear();
  for (auto& t : tenants) tenants_[t.name] = TenantInfo{t.name, t.resource_name};
  databases_.clear();
  for (auto& d : databases) databases_[{d.tenant, d.name}] = DatabaseInfo{d.id, d.name, d.tenant};
  std::map<std::string, std::shared_ptr<Collection>> next;
  for (auto& row : collections) {
    CollectionInfo info = FromRow(std::move(row));
    auto it = collections_.find(info.id);
    if (it != collections_.end()) {
      it->second->AdoptInfo(info);
      next[info.id] = it->second;
      continue;
    }
    auto collection = std::make_shared<Collection>(info, SnapshotPath(info.id));
    KSDB_RETURN_IF_ERROR(collection->Load(store_.get(), writer_.committed_seq()));
    next[info.id] = std::move(collection);
  }
  for (auto& [id, collection] : collections_) {
    if (next.count(id)) continue;
    std::unique_lock<std::shared_mutex> drop_lock = collection->LockForDrop();
    collection->FinishDrop();
  }
  collections_ = std::move(next);
  collection_names_.clear();
  for (const auto& [id, collection] : collections_) {
    CollectionInfo info = collection->Info();
    collection_names_[{info.tenant, info.database, info.name}] = id;
  }
  return Status::Ok();
}

// --- tenants ---

Status EngineImpl::CreateTenant(const std::string& name) {
  KSDB_RETURN_IF_ERROR(ValidateTenantName(name));
  std::unique_lock<std::shared_mutex> lock(catalog_mu_);
  if (tenants_.count(name)) return Status::AlreadyExists("Tenant [" + name + "] already exists");
  KSDB_ASSIGN_OR_RETURN(WriteScope scope, writer_.Begin());
  KSDB_RETURN_IF_ERROR(scope.txn().PutTenant({name, std::nullopt}));
  KSDB_RETURN_IF_ERROR(scope.Commit());
  tenants_[name] = TenantInfo{name, std::nullopt};
  return Status::Ok();
}

Result<TenantInfo> EngineImpl::GetTenant(const std::string& name) {
  std::shared_lock<std::shared_mutex> lock(catalog_mu_);
  auto it = tenants_.find(name);
  if (it == tenants_.end()) return Status::NotFound("Tenant [" + name + "] not found");
  return it->second;
}

Status EngineImpl::UpdateTenant(const std::string& name, const std::string& resource_name) {
  std::unique_lock<std::shared_mutex> lock(catalog_mu_);
  auto it = tenants_.find(name);
  if (it == tenants_.end()) return Status::NotFound("Tenant [" + name + "] not found");
  KSDB_ASSIGN_OR_RETURN(WriteScope scope, writer_.Begin());
  KSDB_RETURN_IF_ERROR(scope.txn().PutTenant({name, resource_name}));
  KSDB_RETURN_IF_ERROR(scope.Commit());
  it->second.resource_name = resource_name;
  return Status::Ok();
}

// --- databases ---

Status EngineImpl::CreateDatabase(const std::string& tenant, const std::string& name) {
  KSDB_RETURN_IF_ERROR(ValidateDatabaseName(name));
  std::unique_lock<std::shared_mutex> lock(catalog_mu_);
  if (!tenants_.count(tenant)) return Status::NotFound("Tenant [" + tenant + "] not found");
  if (databases_.count({tenant, name})) {
    return Status::AlreadyExists("Database [" + name + "] already exists");
  }
  DatabaseInfo db{NewUuidV4(), name, tenant};
  KSDB_ASSIGN_OR_RETURN(WriteScope scope, writer_.Begin());
  KSDB_RETURN_IF_ERROR(scope.txn().PutDatabase({db.id, db.name, db.tenant}));
  KSDB_RETURN_IF_ERROR(scope.Commit());
  databases_[{tenant, name}] = db;
  return Status::Ok();
}

Result<std::vector<DatabaseInfo>> EngineImpl::ListDatabases(const std::string& tenant,
                                                            std::optional<uint32_t> limit,
                                                            uint32_t offset) {
  std::shared_lock<std::shared_mutex> lock(catalog_mu_);
  std::vector<DatabaseInfo> out;
  // The map is ordered by (tenant, name): one tenant's databases are contiguous, by name.
  for (auto it = databases_.lower_bound({tenant, ""});
       it != databases_.end() && it->first.first == tenant; ++it) {
    out.push_back(it->second);
  }
  return Page(std::move(out), limit, offset);
}

Result<DatabaseInfo> EngineImpl::GetDatabase(const std::string& tenant, const std::string& name) {
  std::shared_lock<std::shared_mutex> lock(catalog_mu_);
  auto it = databases_.find({tenant, name});
  if (it == databases_.end()) {
    return Status::NotFound("Database [" + name + "] not found. Are you sure it exists?");
  }
  return it->second;
}

Status EngineImpl::DeleteDatabase(const std::string& tenant, const std::string& name) {
  std::unique_lock<std::shared_mutex> lock(catalog_mu_);
  if (!databases_.count({tenant, name})) {
    return Status::NotFound("Database [" + name + "] not found");
  }
  std::vector<std::shared_ptr<Collection>> victims;
  for (const auto& [key, id] : collection_names_) {
    if (std::get<0>(key) == tenant && std::get<1>(key) == name) {
      victims.push_back(collections_.at(id));
    }
  }
  KSDB_RETURN_IF_ERROR(DropCollectionsLocked(victims, [&](storage::WriteTransaction& txn) {
    return txn.DeleteDatabase(tenant, name);
  }));
  databases_.erase({tenant, name});
  return Status::Ok();
}

// --- collections ---

Status EngineImpl::DropCollectionsLocked(
    const std::vector<std::shared_ptr<Collection>>& victims,
    const std::function<Status(storage::WriteTransaction&)>& extra) {
  // Lock order: catalog (held by the caller) -> collections -> store.
  std::vector<std::unique_lock<std::shared_mutex>> locks;
  locks.reserve(victims.size());
  for (const auto& c : victims) locks.push_back(c->LockForDrop());
  KSDB_ASSIGN_OR_RETURN(WriteScope scope, writer_.Begin());
  for (const auto& c : victims) KSDB_RETURN_IF_ERROR(c->StageDrop(&scope));
  KSDB_RETURN_IF_ERROR(extra(scope.txn()));
  KSDB_RETURN_IF_ERROR(scope.Commit());
  for (const auto& c : victims) {
    CollectionInfo info = c->Info();
    collection_names_.erase({info.tenant, info.database, info.name});
    collections_.erase(info.id);
    c->FinishDrop();
  }
  return Status::Ok();
}

Result<HnswConfig> EngineImpl::ResolveHnsw(const CreateCollectionRequest& request) const {
  HnswConfig hnsw;
  if (request.hnsw) {
    hnsw = *request.hnsw;
    KSDB_RETURN_IF_ERROR(ValidateHnswConfig(hnsw));
  } else {
    KSDB_RETURN_IF_ERROR(ApplyLegacyHnswMetadata(request.metadata, &hnsw));
  }
  return hnsw;
}

std::shared_ptr<Collection> EngineImpl::FindByNameLocked(const std::string& tenant,
                                                         const std::string& database,
                                                         const std::string& name) const {
  auto it = collection_names_.find({tenant, database, name});
  return it == collection_names_.end() ? nullptr : collections_.at(it->second);
}

Result<CollectionInfo> EngineImpl::CreateCollection(const std::string& tenant,
                                                    const std::string& database,
                                                    const CreateCollectionRequest& request) {
  KSDB_RETURN_IF_ERROR(ValidateCollectionName(request.name));
  KSDB_RETURN_IF_ERROR(ValidateMetadata(request.metadata));
  KSDB_ASSIGN_OR_RETURN(HnswConfig hnsw, ResolveHnsw(request));
  // A ksdb-* embedding function must name an embedder this server has.
  KSDB_RETURN_IF_ERROR(
      EmbedderFor(CollectionConfig{hnsw, request.embedding_function_json}).status());
  const CollectionConfig config{hnsw, request.embedding_function_json, request.quantization};
  std::unique_lock<std::shared_mutex> lock(catalog_mu_);
  if (!databases_.count({tenant, database})) {
    return Status::InvalidArgument("Database [" + database + "] does not exist");
  }
  if (auto existing = FindByNameLocked(tenant, database, request.name)) {
    if (request.get_or_create) return existing->Info();
    return Status::AlreadyExists("Collection [" + request.name + "] already exists");
  }
  CollectionInfo info{NewUuidV4(), request.name, tenant, database, request.metadata,
                      config, std::nullopt};
  KSDB_ASSIGN_OR_RETURN(WriteScope scope, writer_.Begin());
  Status put = scope.txn().PutCollection(ToCollectionRow(info));
  if (put.ok()) put = scope.Commit();
  // On a shared store another server may have created the name meanwhile.
  if (put.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("Collection [" + request.name + "] already exists");
  }
  KSDB_RETURN_IF_ERROR(put);
  collection_names_[{tenant, database, info.name}] = info.id;
  collections_[info.id] = std::make_shared<Collection>(info, SnapshotPath(info.id));
  return info;
}

Result<std::vector<CollectionInfo>> EngineImpl::ListCollections(const std::string& tenant,
                                                                const std::string& database,
                                                                std::optional<uint32_t> limit,
                                                                uint32_t offset) {
  std::shared_lock<std::shared_mutex> lock(catalog_mu_);
  std::vector<CollectionInfo> out;
  for (const auto& [id, collection] : collections_) {  // ordered by id, as Chroma lists
    CollectionInfo info = collection->Info();
    if (info.tenant == tenant && info.database == database) out.push_back(std::move(info));
  }
  return Page(std::move(out), limit, offset);
}

Result<uint64_t> EngineImpl::CountCollections(const std::string& tenant,
                                              const std::string& database) {
  std::shared_lock<std::shared_mutex> lock(catalog_mu_);
  uint64_t n = 0;
  for (const auto& [key, id] : collection_names_) {
    if (std::get<0>(key) == tenant && std::get<1>(key) == database) ++n;
  }
  return n;
}

Result<CollectionInfo> EngineImpl::GetCollectionByName(const std::string& tenant,
                                                       const std::string& database,
                                                       const std::string& name) {
  std::shared_lock<std::shared_mutex> lock(catalog_mu_);
  auto collection = FindByNameLocked(tenant, database, name);
  if (!collection) return CollectionByNameNotFound(name);
  return collection->Info();
}

Result<std::shared_ptr<Collection>> EngineImpl::FindById(const std::string& collection_id) {
  std::shared_lock<std::shared_mutex> lock(catalog_mu_);
  auto it = collections_.find(collection_id);
  if (it == collections_.end()) {
    return Status::NotFound("Collection [" + collection_id + "] does not exists.");
  }
  return it->second;
}

Result<CollectionInfo> EngineImpl::GetCollectionById(const std::string& collection_id) {
  KSDB_ASSIGN_OR_RETURN(auto collection, FindById(collection_id));
  return collection->Info();
}

Status EngineImpl::ModifyCollection(const std::string& collection_id,
                                    const ModifyCollectionRequest& request) {
  if (request.new_name) KSDB_RETURN_IF_ERROR(ValidateCollectionName(*request.new_name, "new_name"));
  if (request.new_metadata) KSDB_RETURN_IF_ERROR(ValidateMetadata(*request.new_metadata));
  std::unique_lock<std::shared_mutex> lock(catalog_mu_);
  auto it = collections_.find(collection_id);
  if (it == collections_.end()) {
    return Status::NotFound("Collection [" + collection_id + "] does not exists.");
  }
  std::shared_ptr<Collection> collection = it->second;
  CollectionInfo info = collection->Info();
  const std::string old_name = info.name;
  if (request.new_name && *request.new_name != info.name) {
    if (FindByNameLocked(info.tenant, info.database, *request.new_name)) {
      return Status::AlreadyExists("Collection [" + *request.new_name + "] already exists");
    }
    info.name = *request.new_name;
  }
  if (request.new_metadata) info.metadata = *request.new_metadata;
  if (request.new_configuration) {
    ApplyConfigPatch(*request.new_configuration, &info.config);
    KSDB_RETURN_IF_ERROR(ValidateHnswConfig(info.config.hnsw));
  }
  KSDB_RETURN_IF_ERROR(collection->Modify(info, &writer_));
  if (info.name != old_name) {
    collection_names_.erase({info.tenant, info.database, old_name});
    collection_names_[{info.tenant, info.database, info.name}] = info.id;
  }
  return Status::Ok();
}

Status EngineImpl::DeleteCollection(const std::string& tenant, const std::string& database,
                                    const std::string& name) {
  std::unique_lock<std::shared_mutex> lock(catalog_mu_);
  auto collection = FindByNameLocked(tenant, database, name);
  if (!collection) return CollectionByNameNotFound(name);
  return DropCollectionsLocked({collection},
                               [](storage::WriteTransaction&) { return Status::Ok(); });
}

// --- records ---

Result<const embed::Embedder*> EngineImpl::EmbedderFor(const CollectionConfig& config) const {
  if (!options_.embedders) return EmbedderRegistry().Select(config.embedding_function_json);
  return options_.embedders->Select(config.embedding_function_json);
}

Status EngineImpl::WriteRecords(const std::string& collection_id, const WriteBatch& batch,
                                WriteKind kind) {
  Status s = StageRecords(collection_id, batch, kind);
  if (s.ok() && indexer_) indexer_->Notify();
  return s;
}

Status EngineImpl::BuildIndexes() {
  for (const std::shared_ptr<Collection>& collection : AllCollections()) {
    while (collection->LinkPendingFor(std::chrono::seconds(1)) > 0) {
    }
  }
  return Status::Ok();
}

Status EngineImpl::StageRecords(const std::string& collection_id, const WriteBatch& batch,
                                WriteKind kind) {
  return OnCollection(collection_id, [&](const std::shared_ptr<Collection>& collection) {
    return StageRecordsIn(collection, batch, kind);
  });
}

Status EngineImpl::StageRecordsIn(const std::shared_ptr<Collection>& collection,
                                  const WriteBatch& batch, WriteKind kind) {
  if (!NeedsEmbedding(batch, kind)) return collection->Write(batch, kind, &writer_);
  // Embedding runs before the collection lock is taken, so a slow embedder never
  // blocks readers or other writers of the collection.
  CollectionInfo info = collection->Info();
  KSDB_ASSIGN_OR_RETURN(const embed::Embedder* embedder, EmbedderFor(info.config));
  // An update of documents only changes the documents and keeps the stored
  // embeddings, as Chroma does, unless the collection chose one of ksdb's
  // embedders (then they are re-embedded). A server default embedder only
  // fills in embeddings add/upsert would otherwise lack.
  if (kind == WriteKind::kUpdate &&
      (embedder == nullptr ||
       !EmbedderRegistry::NamesKsdbEmbedder(info.config.embedding_function_json))) {
    return collection->Write(batch, kind, &writer_);
  }
  WriteBatch embedded = batch;
  KSDB_RETURN_IF_ERROR(EmbedDocuments(embedder, info.name, kind, &embedded));
  return collection->Write(embedded, kind, &writer_);
}

Status EngineImpl::Add(const std::string& collection_id, const WriteBatch& batch) {
  return WriteRecords(collection_id, batch, WriteKind::kAdd);
}

Status EngineImpl::Upsert(const std::string& collection_id, const WriteBatch& batch) {
  return WriteRecords(collection_id, batch, WriteKind::kUpsert);
}

Status EngineImpl::Update(const std::string& collection_id, const WriteBatch& batch) {
  return WriteRecords(collection_id, batch, WriteKind::kUpdate);
}

Result<uint64_t> EngineImpl::Delete(const std::string& collection_id,
                                    const DeleteRequest& request) {
  return OnCollection(collection_id, [&](const std::shared_ptr<Collection>& collection) {
    return collection->Delete(request, &writer_);
  });
}

Result<uint64_t> EngineImpl::Count(const std::string& collection_id) {
  KSDB_ASSIGN_OR_RETURN(auto collection, FindById(collection_id));
  const uint64_t count = collection->Count();
  // A reload may have replaced (and emptied) the object meanwhile.
  std::shared_ptr<Collection> successor = Successor(collection);
  return successor ? successor->Count() : count;
}

Result<GetResult> EngineImpl::Get(const std::string& collection_id, const GetRequest& request) {
  return OnCollection(collection_id, [&](const std::shared_ptr<Collection>& collection) {
    return collection->Get(request);
  });
}

Result<std::vector<QueryHits>> EngineImpl::Query(const std::string& collection_id,
                                                 const QueryRequest& request) {
  if (!request.texts.has_value()) {
    return OnCollection(collection_id, [&](const std::shared_ptr<Collection>& collection) {
      return collection->Query(request);
    });
  }
  KSDB_ASSIGN_OR_RETURN(auto collection, FindById(collection_id));
  CollectionInfo info = collection->Info();
  KSDB_ASSIGN_OR_RETURN(const embed::Embedder* embedder, EmbedderFor(info.config));
  QueryRequest embedded = request;
  KSDB_RETURN_IF_ERROR(EmbedQueryTexts(embedder, info.name, *request.texts, &embedded.embeddings,
                                       &embedded.num_queries, &embedded.dim));
  embedded.texts.reset();
  return OnCollection(collection_id, [&](const std::shared_ptr<Collection>& current) {
    return current->Query(embedded);
  });
}

// --- system ---

Status EngineImpl::Reset() {
  if (!options_.allow_reset) return Status::Forbidden("Reset is disabled by config");
  {
    std::unique_lock<std::shared_mutex> lock(catalog_mu_);
    std::vector<std::shared_ptr<Collection>> victims;
    for (const auto& [id, collection] : collections_) victims.push_back(collection);
    KSDB_RETURN_IF_ERROR(DropCollectionsLocked(
        victims, [](storage::WriteTransaction& txn) { return txn.DeleteAll(); }));
    tenants_.clear();
    databases_.clear();
  }
  return EnsureDefaults();
}

EngineStats EngineImpl::Stats() {
  std::shared_lock<std::shared_mutex> lock(catalog_mu_);
  EngineStats stats;
  stats.collections = collections_.size();
  for (const auto& [id, collection] : collections_) {
    stats.records += collection->Count();
    stats.index_memory_bytes += collection->IndexMemoryBytes();
    stats.vectors_pending += collection->PendingVectors();
  }
  stats.last_sequence = writer_.committed_seq();
  stats.vectors_indexed_on_open = vectors_indexed_on_open_;
  stats.store_kind = store_->shared() ? "postgresql" : "sqlite";
  if (auto* pg = dynamic_cast<storage::PostgresRecordStore*>(store_.get())) {
    stats.pool = pg->PoolStats();
  }
  stats.follow_passes = follow_passes_.load();
  stats.followed_records = followed_records_.load();
  stats.followed_deletes = followed_deletes_.load();
  stats.follow_errors = follow_errors_.load();
  stats.follow_reloads = follow_reloads_.load();
  return stats;
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  KSDB_ASSIGN_OR_RETURN(auto lock, DataDirLock::Acquire(options.path));
  std::error_code error;
  const std::filesystem::path index_dir = std::filesystem::path(options.path) / kIndexDir;
  std::filesystem::create_directories(index_dir, error);
  if (error) {
    return Status::IoError("cannot create " + index_dir.string() + ": " + error.message());
  }
  storage::StoreOptions store_options;
  store_options.location = options.store.empty()
                               ? (std::filesystem::path(options.path) / "ksdb.sqlite3").string()
                               : options.store;
  store_options.sqlite.synchronous = options.sqlite_synchronous;
  KSDB_ASSIGN_OR_RETURN(auto store, storage::OpenRecordStore(store_options));
  KSDB_ASSIGN_OR_RETURN(uint64_t last_seq, store->LastSequence());
  auto engine = std::make_unique<EngineImpl>(options, std::move(lock), std::move(store), last_seq);
  KSDB_RETURN_IF_ERROR(engine->LoadCatalog());
  KSDB_RETURN_IF_ERROR(engine->EnsureDefaults());
  engine->StartBackgroundTasks();
  return std::unique_ptr<Engine>(std::move(engine));
}

}  // namespace ksdb::db
