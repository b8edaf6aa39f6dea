// Collection: the vector index side — creating the HNSW index from the
// collection's configuration, loading it (from a snapshot plus the records
// written after it, or rebuilt from the store), and writing snapshots.
//
// A snapshot stores, next to the graph, which record id each node (= slot)
// holds and the store sequence number it reflects (the watermark). Loading
// keeps the snapshot's slot numbers: records with seq <= watermark are taken
// as the snapshot has them (no vector is re-inserted), newer ones are
// re-applied, and snapshot slots whose record is gone were deleted after it.
// Anything that does not add up (a record at or below the watermark missing
// from the snapshot, a watermark beyond the store) means the snapshot does not
// describe this store: it is discarded and the index rebuilt from the store.
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/file_io.h"
#include "common/logging.h"
#include "db/collection.h"

namespace ksdb::db {
namespace {

// Rows handed to the index per Stage call while loading, so the loader never
// holds every vector twice.
constexpr size_t kLoadBatch = 8192;

void PutU32(uint32_t v, std::string* out) { out->append(reinterpret_cast<const char*>(&v), 4); }

bool GetU32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  std::memcpy(v, in->data(), 4);
  in->remove_prefix(4);
  return true;
}

// Replays store rows into the index in batches. They are staged, not
// linked: opening stays fast and the background indexer builds the graph.
class IndexBatch {
 public:
  explicit IndexBatch(index::HnswIndex* index) : index_(index) {}
  Status Add(InternalId slot, const std::vector<float>& embedding) {
    ids_.push_back(slot);
    vectors_.insert(vectors_.end(), embedding.begin(), embedding.end());
    return ids_.size() >= kLoadBatch ? Flush() : Status::Ok();
  }
  Status Flush() {
    if (ids_.empty()) return Status::Ok();
    Status s = index_->Stage(ids_, vectors_);
    count_ += ids_.size();
    ids_.clear();
    vectors_.clear();
    return s;
  }
  size_t count() const { return count_; }

 private:
  index::HnswIndex* index_;
  std::vector<InternalId> ids_;
  std::vector<float> vectors_;
  size_t count_ = 0;
};

}  // namespace

index::HnswParams HnswParamsFor(const CollectionConfig& config, const std::string& snapshot_path) {
  index::HnswParams params;
  params.m = config.hnsw.max_neighbors;
  params.ef_construction = config.hnsw.ef_construction;
  params.ef_search = config.hnsw.ef_search;
  params.num_threads = config.hnsw.num_threads;
  params.quantize_int8 = config.quantization == Quantization::kInt8;
  // Rerank vectors of a quantised index live in a scratch file (unlinked
  // once mapped) beside the snapshot; without a data directory, on the heap.
  if (params.quantize_int8 && !snapshot_path.empty()) params.vectors_file = snapshot_path + ".f32";
  return params;
}

Result<std::unique_ptr<index::HnswIndex>> Collection::NewIndex(uint32_t dim) const {
  const CollectionInfo info = Info();
  return index::NewHnswIndex(dim, info.config.hnsw.space,
                             HnswParamsFor(info.config, snapshot_path_));
}

Status Collection::EnsureIndex(uint32_t dim) {
  if (index_) return Status::Ok();
  KSDB_ASSIGN_OR_RETURN(index_, NewIndex(dim));
  return Status::Ok();
}

void Collection::ResetLoadedState() {
  slots_.clear();
  free_slots_.clear();
  id_to_slot_.clear();
  order_.clear();
  metadata_index_.Clear();
  index_.reset();
}

void Collection::AdoptRow(InternalId slot, storage::RecordRow&& row) {
  Slot& s = SetSlot(slot, SlotFromRow(std::move(row)));
  id_to_slot_.emplace(s.record_id, slot);
  order_.emplace(s.position, slot);
}

Status Collection::Load(storage::RecordStore* store, uint64_t store_last_seq) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  const CollectionInfo info = Info();
  if (info.dimension && !snapshot_path_.empty()) {
    Result<index::LoadedHnswSnapshot> snapshot = index::LoadHnswSnapshot(
        snapshot_path_, *info.dimension, info.config.hnsw.space, HnswParamsFor(info.config, snapshot_path_));
    if (snapshot.ok()) {
      Status loaded = LoadFromSnapshot(store, std::move(snapshot).value(), store_last_seq);
      if (loaded.ok()) return loaded;
      if (loaded.code() != StatusCode::kCorruption) return loaded;
      Log(LogLevel::kWarning, "collection " + id_ + ": " + loaded.message() +
                                  "; rebuilding its index from the store");
      ResetLoadedState();
    } else if (snapshot.status().code() != StatusCode::kNotFound) {
      Log(LogLevel::kWarning, "collection " + id_ + ": " + snapshot.status().message() +
                                  "; rebuilding its index from the store");
    }
  }
  return LoadFromStore(store);
}

Status Collection::LoadFromStore(storage::RecordStore* store) {
  std::optional<uint32_t> dim = Info().dimension;
  if (dim) KSDB_RETURN_IF_ERROR(EnsureIndex(*dim));
  // Rebuilding uses every core whatever the collection's num_threads says:
  // nothing else can use this collection until it is loaded.
  if (index_) index_->SetNumThreads(0);
  std::optional<IndexBatch> batch;
  if (index_) batch.emplace(index_.get());
  Status scan = store->ScanRecords(id_, [&](storage::RecordRow&& row) -> Status {
    if (!index_ || row.embedding.size() != index_->dim()) {
      return WrongDimension(row.record_id);
    }
    const InternalId slot = AllocateSlot();
    KSDB_RETURN_IF_ERROR(batch->Add(slot, row.embedding));
    AdoptRow(slot, std::move(row));
    return Status::Ok();
  });
  KSDB_RETURN_IF_ERROR(scan);
  if (batch) {
    KSDB_RETURN_IF_ERROR(batch->Flush());
    indexed_on_load_ = batch->count();
  }
  if (index_) index_->SetNumThreads(Info().config.hnsw.num_threads);
  // No snapshot describes this state yet: write one at the next checkpoint.
  changes_since_checkpoint_ = slots_.size() + 1;
  return Status::Ok();
}

Status Collection::LoadFromSnapshot(storage::RecordStore* store,
                                    index::LoadedHnswSnapshot snapshot, uint64_t store_last_seq) {
  const uint64_t watermark = snapshot.watermark;
  if (watermark > store_last_seq) {
    return Status::Corruption("index snapshot " + snapshot_path_ +
                              " is newer than the record store (stale store or foreign file)");
  }
  KSDB_ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> node_records,
                        DecodeSlotMap(snapshot.user_data));
  index_ = std::move(snapshot.index);
  std::unordered_map<std::string_view, InternalId> snapshot_slot;
  for (size_t slot = 0; slot < node_records.size(); ++slot) {
    if (!node_records[slot]) continue;
    if (!index_->Contains(static_cast<InternalId>(slot)) ||
        !snapshot_slot.emplace(*node_records[slot], static_cast<InternalId>(slot)).second) {
      return Status::Corruption("index snapshot " + snapshot_path_ +
                                " does not match its own slot map");
    }
  }
  // The converse: a live node the slot map does not name has no record (or,
  // past the map's end, no slot at all) and would be returned by searches.
  if (index_->size() != snapshot_slot.size()) {
    return Status::Corruption("index snapshot " + snapshot_path_ +
                              " holds nodes its slot map does not name");
  }
  slots_.resize(node_records.size());
  std::vector<uint8_t> claimed(node_records.size(), 0);
  index_->SetNumThreads(0);
  IndexBatch replay(index_.get());
  Status scan = store->ScanRecords(id_, [&](storage::RecordRow&& row) -> Status {
    if (row.embedding.size() != index_->dim()) {
      return WrongDimension(row.record_id);
    }
    InternalId slot;
    auto it = snapshot_slot.find(row.record_id);
    if (it != snapshot_slot.end()) {
      slot = it->second;
      claimed[slot] = 1;
      // Written after the snapshot: its vector may have changed.
      if (row.seq > watermark) KSDB_RETURN_IF_ERROR(replay.Add(slot, row.embedding));
    } else {
      if (row.seq <= watermark) {
        return Status::Corruption("index snapshot " + snapshot_path_ +
                                  " is stale: it lacks records the store had at its watermark");
      }
      slot = static_cast<InternalId>(slots_.size());
      slots_.emplace_back();
      KSDB_RETURN_IF_ERROR(replay.Add(slot, row.embedding));
    }
    AdoptRow(slot, std::move(row));
    return Status::Ok();
  });
  KSDB_RETURN_IF_ERROR(scan);
  KSDB_RETURN_IF_ERROR(replay.Flush());
  // Snapshot slots with no record left were deleted after the snapshot.
  std::vector<InternalId> gone;
  for (size_t slot = 0; slot < node_records.size(); ++slot) {
    if (claimed[slot]) continue;
    if (node_records[slot]) gone.push_back(static_cast<InternalId>(slot));
    free_slots_.push_back(static_cast<InternalId>(slot));
  }
  index_->Remove(gone);
  index_->SetNumThreads(Info().config.hnsw.num_threads);
  changes_since_checkpoint_ = replay.count() + gone.size();
  indexed_on_load_ = replay.count();
  return Status::Ok();
}

std::string Collection::EncodeSlotMap() const {
  std::string out;
  PutU32(static_cast<uint32_t>(slots_.size()), &out);
  for (InternalId slot = 0; slot < slots_.size(); ++slot) {
    const bool live = index_->Contains(slot);
    out.push_back(live ? 1 : 0);
    if (!live) continue;
    const std::string& record_id = slots_[slot].record_id;
    PutU32(static_cast<uint32_t>(record_id.size()), &out);
    out.append(record_id);
  }
  return out;
}

Result<std::vector<std::optional<std::string>>> Collection::DecodeSlotMap(
    std::string_view bytes) const {
  const Status bad = Status::Corruption("index snapshot " + snapshot_path_ + " has a bad slot map");
  uint32_t count = 0;
  if (!GetU32(&bytes, &count) || count > bytes.size()) return bad;
  std::vector<std::optional<std::string>> out(count);
  for (uint32_t slot = 0; slot < count; ++slot) {
    if (bytes.empty()) return bad;
    const char live = bytes.front();
    bytes.remove_prefix(1);
    if (live == 0) continue;
    uint32_t size = 0;
    if (live != 1 || !GetU32(&bytes, &size) || size > bytes.size()) return bad;
    out[slot] = std::string(bytes.substr(0, size));
    bytes.remove_prefix(size);
  }
  if (!bytes.empty()) return bad;
  return out;
}

Status Collection::Checkpoint(const SequencedWriter& writer, size_t min_changes) {
  std::lock_guard<std::mutex> checkpoint_lock(checkpoint_mu_);
  std::shared_lock<std::shared_mutex> lock(mu_);
  if (deleted_ || !index_ || snapshot_path_.empty()) return Status::Ok();
  const uint64_t changes = changes_since_checkpoint_.load();
  if (changes == 0 || changes < min_changes) return Status::Ok();
  // Every write to this collection holds the exclusive lock from its commit
  // to its apply, so under the shared lock all committed writes are applied
  // and any later one gets a larger sequence number.
  const uint64_t watermark = writer.committed_seq();
  KSDB_RETURN_IF_ERROR(index_->SaveSnapshot(snapshot_path_, watermark, EncodeSlotMap()));
  changes_since_checkpoint_ = 0;
  return Status::Ok();
}

size_t Collection::CheckpointThreshold() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  // A snapshot rewrites the whole index, so wait for changes in proportion to
  // its size (bounding replay on open to a fraction of a rebuild).
  const size_t sync_threshold = Info().config.hnsw.sync_threshold;
  return std::max<size_t>(sync_threshold, slots_.size() / 4);
}

}  // namespace ksdb::db
