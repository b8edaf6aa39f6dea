// Collection: the in-memory state of one collection and its record operations.
//
// State: a dense slot array indexed by InternalId (record id, document, uri,
// metadata, sequence numbers), a record-id -> slot map, an ordered position ->
// slot map (storage order, spec §5.6), and the vector index holding every live
// record's embedding. Freed slots are reused by later inserts. Writes stage
// their vectors in the index (exactly searchable at once); a background
// indexer links them into the graph (LinkPendingFor).
//
// Every write validates first, commits one store transaction (durable on
// return), then applies to memory under the exclusive lock, so readers never
// see a write that is not durable and a failed write changes nothing.
//
// Thread safety: reads take the shared lock, writes the exclusive lock; the
// descriptive info (name, metadata, config, dimension) has its own mutex so
// catalog listings never wait behind a long write.
#ifndef KSDB_DB_COLLECTION_H_
#define KSDB_DB_COLLECTION_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "db/engine.h"
#include "db/sequenced_writer.h"
#include "db/validation.h"
#include "filter/metadata_index.h"
#include "index/hnsw_index.h"
#include "index/vector_index.h"
#include "storage/record_store.h"

namespace ksdb::db {

// The index parameters of a collection's configuration; a quantised index
// keeps its float vectors in a scratch file named after `snapshot_path`.
index::HnswParams HnswParamsFor(const CollectionConfig& config, const std::string& snapshot_path);

// The catalog row of a collection as the store keeps it.
storage::CollectionRow ToCollectionRow(const CollectionInfo& info);

class Collection {
 public:
  // `snapshot_path` is where the index snapshot lives; empty disables snapshots.
  Collection(CollectionInfo info, std::string snapshot_path);

  // A copy of the descriptive info. Thread-safe.
  CollectionInfo Info() const;
  const std::string& id() const { return id_; }

  // Loads every stored record (called once, before the collection is shared):
  // the index from the snapshot plus the records written after it when the
  // snapshot is good, else rebuilt from the store (see collection_index.cc).
  // `store_last_seq` is the store's LastSequence().
  Status Load(storage::RecordStore* store, uint64_t store_last_seq);
  // Writes the index snapshot if at least `min_changes` (and at least one)
  // records changed since the last one. Readers continue meanwhile; writers
  // to this collection wait.
  Status Checkpoint(const SequencedWriter& writer, size_t min_changes);
  // Changes after which a periodic checkpoint is worth its cost.
  size_t CheckpointThreshold() const;
  // Vectors Load inserted into the index: all of them on a rebuild, only those
  // written after the snapshot otherwise (0 after a clean close).
  size_t indexed_on_load() const { return indexed_on_load_; }

  // add / upsert / update of `batch`, as `kind` says (Engine::Add etc.).
  Status Write(const WriteBatch& batch, WriteKind kind, SequencedWriter* writer);
  Result<uint64_t> Delete(const DeleteRequest& request, SequencedWriter* writer);
  uint64_t Count() const;
  // Heap bytes of the vector index (0 before the first embedding).
  size_t IndexMemoryBytes() const;
  // Writes stage their vectors (searchable at once by exact scan); this links
  // staged vectors into the graph, under the exclusive lock, for about
  // `budget` (at least one chunk). Returns how many it linked.
  size_t LinkPendingFor(std::chrono::microseconds budget);
  // Staged vectors not linked into the graph yet.
  size_t PendingVectors() const;
  Result<GetResult> Get(const GetRequest& request) const;
  Result<std::vector<QueryHits>> Query(const QueryRequest& request) const;

  // Persists `info` (with this collection's current dimension) and adopts it.
  // Holding the exclusive lock orders it against writes that set the dimension.
  Status Modify(CollectionInfo info, SequencedWriter* writer);
  // Dropping, possibly several collections in one transaction (delete
  // collection/database, reset): the caller holds the engine's catalog lock,
  // takes each collection's lock with LockForDrop, stages the store deletes in
  // one scope, commits, then calls FinishDrop on each. Later writes through
  // stale handles get NotFound.
  std::unique_lock<std::shared_mutex> LockForDrop() {
    return std::unique_lock<std::shared_mutex>(mu_);
  }
  // Requires the LockForDrop lock.
  Status StageDrop(WriteScope* scope) const;
  // Requires the LockForDrop lock; frees the in-memory state and deletes the
  // index snapshot file.
  void FinishDrop();
  // Requires the LockForDrop lock; frees the in-memory state like FinishDrop
  // but keeps the snapshot file: a new object of the same collection (same
  // path), loaded from it, replaces this one (a follower's reload).
  void FinishReplaced();

  // --- following other servers on a shared store (see Engine::CatchUp) ---
  // Applies records another server wrote: a row replaces the local record
  // unless the local record, or a local deletion, is as new or newer.
  Status ApplyFollowedRows(std::vector<storage::RecordRow>&& rows);
  // Removes `record_ids`, deleted at `seq`, unless the local ones are newer.
  void ApplyFollowedDeletes(std::span<const std::string> record_ids, uint64_t seq);
  // Forgets deletions at or below `seq`: every later read of the store
  // reflects them, so no older row can come back from it.
  void ForgetDeletionsUpTo(uint64_t seq);
  // Adopts the catalog row another server wrote (name, metadata, config; the
  // dimension if the row has one).
  void AdoptInfo(CollectionInfo info);

 private:
  struct Slot {
    std::string record_id;
    uint64_t position = 0;
    uint64_t seq = 0;
    std::optional<std::string> document;
    std::optional<std::string> uri;
    Metadata metadata;
    int64_t created_at_us = 0;
    int64_t updated_at_us = 0;
  };
  static Slot SlotFromRow(storage::RecordRow&& row);

  // A write that has been validated and turned into store rows plus the
  // in-memory changes to make once the rows are committed.
  struct PlannedWrite {
    std::vector<storage::RecordRow> rows;
    std::vector<InternalId> slots;       // per row: its slot, or kNewSlot for an insert
    std::vector<uint8_t> embedding_set;  // per row: whether its embedding changes
    std::optional<uint32_t> new_dimension;
    // The collection's first index, made before the commit (new_dimension).
    std::unique_ptr<index::HnswIndex> new_index;
    size_t inserts = 0;  // rows with slot kNewSlot
  };

  // mu_ for a request (not the background indexer): counted while waiting,
  // so the indexer yields to it (see LinkPendingFor).
  std::unique_lock<std::shared_mutex> LockForeground();
  std::shared_lock<std::shared_mutex> LockForegroundShared() const;
  Status WriteLocked(const WriteBatch& batch, WriteKind kind, SequencedWriter* writer);
  // Commit(), while another thread faults in the index memory of the slots
  // the plan's inserts will add at the end (see kPrefaultMinNodes).
  Status CommitPrefaulting(PlannedWrite* plan, WriteScope* scope);
  Status ApplyFollowedRowsLocked(std::vector<storage::RecordRow>&& rows);
  void ApplyFollowedDeletesLocked(std::span<const std::string> record_ids, uint64_t seq);
  // Shared stores, when others' writes are pending: re-reads `record_ids` in
  // `scope` and applies them, so a write plans on the current state.
  Status RefreshLocked(std::span<const std::string> record_ids, WriteScope* scope);
  // Records that `record_id` was deleted at `seq` (shared stores only).
  void AddTombstone(const std::string& record_id, uint64_t seq);
  Status CheckAlive() const;
  Status CheckDimension(size_t dim) const;
  // Appends a row for a new record from entry `i`.
  void PlanInsert(const WriteBatch& batch, size_t i, uint64_t seq, int64_t now_us,
                  PlannedWrite* plan);
  // Appends a row holding the current state of an existing record.
  void PlanExisting(InternalId slot, uint64_t seq, int64_t now_us, PlannedWrite* plan);
  // Merges entry `i` onto planned row `r` (update semantics: nulls keep).
  void PlanMerge(const WriteBatch& batch, size_t i, size_t r, PlannedWrite* plan);
  Status Commit(PlannedWrite* plan, WriteScope* scope);
  void Apply(PlannedWrite&& plan);
  // A new empty index for `dim` with this collection's parameters (an int8
  // index opens its vectors file, which can fail).
  Result<std::unique_ptr<index::HnswIndex>> NewIndex(uint32_t dim) const;
  Status EnsureIndex(uint32_t dim);
  // Before a commit: creates the first index and reserves room for the
  // plan's inserts, so applying the committed write cannot fail.
  Status PrepareIndex(PlannedWrite* plan);
  // --- loading and snapshots (collection_index.cc) ---
  Status LoadFromStore(storage::RecordStore* store);
  Status LoadFromSnapshot(storage::RecordStore* store, index::LoadedHnswSnapshot snapshot,
                          uint64_t store_last_seq);
  void ResetLoadedState();
  // Takes `row` into `slot` with its id and position entries.
  void AdoptRow(InternalId slot, storage::RecordRow&& row);
  // Which record id each slot holds (live slots only), for the snapshot.
  std::string EncodeSlotMap() const;
  Result<std::vector<std::optional<std::string>>> DecodeSlotMap(std::string_view bytes) const;
  // The candidate list size for a top-k graph search.
  size_t EfSearch(size_t k) const;
  // The vector search of one query (exact or graph, see Query).
  std::vector<index::Neighbor> SearchOne(std::span<const float> query, size_t k,
                                         const std::optional<std::vector<InternalId>>& allowed,
                                         const BitmapIdFilter* allowed_bitmap) const;
  // Index slots after `inserts` new records: free slots first, then new ones.
  size_t SlotsNeededFor(size_t inserts) const;
  InternalId AllocateSlot();
  void FreeSlot(InternalId slot);
  // Puts `value` into `slot` (allocated), keeping the metadata index in step.
  Slot& SetSlot(InternalId slot, Slot&& value);
  // The slots that can match `where` according to the metadata index, in
  // storage order, or nullopt when a full scan is as good (see VisitMatches).
  std::optional<std::vector<InternalId>> IndexedCandidates(const filter::WhereFilter& where) const;
  // Removes `victims` (live slots) from the index and the maps, frees them.
  void RemoveSlots(const std::vector<InternalId>& victims);
  // Corruption for a stored record whose embedding has another dimension.
  Status WrongDimension(const std::string& record_id) const;

  // Calls `visit(slot)` for each slot passing ids/where/where_document, in
  // storage order, until it returns false. Without ids it walks the storage
  // order directly, so a limit stops the scan early.
  template <typename Visit>
  void VisitMatches(const std::optional<std::vector<std::string>>& ids,
                    const std::optional<filter::WhereFilter>& where,
                    const std::optional<filter::DocumentFilter>& doc, Visit visit) const;
  // All slots VisitMatches would visit.
  std::vector<InternalId> MatchingSlots(const std::optional<std::vector<std::string>>& ids,
                                        const std::optional<filter::WhereFilter>& where,
                                        const std::optional<filter::DocumentFilter>& doc) const;
  bool SlotMatches(InternalId slot, const std::optional<filter::WhereFilter>& where,
                   const std::optional<filter::DocumentFilter>& doc) const;
  void AppendRecord(InternalId slot, const Include& include, GetResult* out) const;

  const std::string id_;

  mutable std::mutex info_mu_;
  CollectionInfo info_;  // guarded by info_mu_

  mutable std::shared_mutex mu_;
  // Requests waiting for mu_ (LockForeground*).
  mutable std::atomic<uint32_t> foreground_waiters_{0};
  // When the last write started (LinkPendingFor uses fewer threads meanwhile).
  std::atomic<std::chrono::steady_clock::time_point> last_write_{};
  bool deleted_ = false;                                    // guarded by mu_
  std::vector<Slot> slots_;                                 // guarded by mu_
  std::vector<InternalId> free_slots_;                      // guarded by mu_
  std::unordered_map<std::string, InternalId> id_to_slot_;  // guarded by mu_
  std::map<uint64_t, InternalId> order_;                    // guarded by mu_
  // Scalar metadata values and array elements -> slots, so selective where
  // filters evaluate only their candidates.
  filter::MetadataIndex metadata_index_;     // guarded by mu_
  std::unique_ptr<index::HnswIndex> index_;  // guarded by mu_
  const std::string snapshot_path_;
  std::atomic<uint64_t> changes_since_checkpoint_{0};  // written under mu_
  // Serialises checkpoints of this collection (the periodic one and an
  // explicit Engine::Checkpoint), which would otherwise share one temp file.
  std::mutex checkpoint_mu_;
  // Shared stores: record id -> sequence number of its deletion, until every
  // read of the store is known to reflect it (ForgetDeletionsUpTo).
  std::unordered_map<std::string, uint64_t> tombstones_;  // guarded by mu_
  size_t indexed_on_load_ = 0;
};

}  // namespace ksdb::db

#endif  // KSDB_DB_COLLECTION_H_
