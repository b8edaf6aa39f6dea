#include "db/collection.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <system_error>
#include <thread>
#include <unordered_set>

#include "common/file_io.h"
#include "common/logging.h"

namespace ksdb::db {
namespace {

constexpr InternalId kNewSlot = UINT32_MAX;
// Collections up to this many vectors are always searched exactly.
constexpr size_t kExactSearchMaxSize = 2048;
// Staged vectors linked per LinkPending call: enough for two threads of the
// index's parallel insert, small enough to check the time budget often. A
// queued request does not wait for the chunk (LinkPending's interrupt). While
// that was not so, ingests used chunks of 32; with the interrupt, 128 measured
// the same or better (100k x 384 through the JS client, alternated: ingest
// 9.61/9.50/9.30/9.80 s with 32, 9.10/9.30/9.54/9.71 s with 128).
constexpr size_t kLinkChunk = 128;
// How long the background indexer defers to queued requests at most, and how
// long it sleeps between looks.
constexpr std::chrono::milliseconds kMaxIndexerDeferral{100};
constexpr std::chrono::microseconds kIndexerBackoff{200};
// The least and most the indexer links per acquisition of the lock before it
// yields to a queued request (see LinkPendingFor). The most is about what a
// 32-node step took at 384-d before steps could be interrupted (an ingest's
// writes waited for that), and how long a step taken despite queued requests
// links.
constexpr std::chrono::milliseconds kMinLinkHold{1};
constexpr std::chrono::milliseconds kMaxLinkHold{5};
// A write within this long counts as an ongoing ingest (LinkPendingFor).
constexpr std::chrono::milliseconds kRecentWrite{250};
// Writes that add at least this many slots fault in their index memory on
// another thread during the commit, which mostly waits for its fsync: this
// VM's kernel zeroes fresh memory at ~1-2 GB/s, ~3 ms of a 1,000 x 384 add
// spent in its request thread before. Below it a thread costs more than the
// pages.
constexpr size_t kPrefaultMinNodes = 64;

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status CollectionGone(const std::string& id) {
  return Status::NotFound("Collection [" + id + "] does not exists.");
}

Status DimensionMismatch(size_t expected, size_t got) {
  return Status::InvalidArgument("Collection expecting embedding with dimension of " +
                                 std::to_string(expected) + ", got " + std::to_string(got));
}

// The embedding row `i` of a batch column.
std::span<const float> EmbeddingRow(const EmbeddingColumn& column, size_t i) {
  return {column.values.data() + i * column.dim, column.dim};
}

}  // namespace

storage::CollectionRow ToCollectionRow(const CollectionInfo& info) {
  return {info.id,       info.name,   info.tenant,   info.database,
          info.metadata, info.config, info.dimension};
}

Collection::Slot Collection::SlotFromRow(storage::RecordRow&& row) {
  return Slot{std::move(row.record_id), row.position,       row.seq,
              std::move(row.document),  std::move(row.uri), std::move(row.metadata),
              row.created_at_us,        row.updated_at_us};
}

Collection::Collection(CollectionInfo info, std::string snapshot_path)
    : id_(info.id), info_(std::move(info)), snapshot_path_(std::move(snapshot_path)) {}

CollectionInfo Collection::Info() const {
  std::lock_guard<std::mutex> lock(info_mu_);
  return info_;
}

Status Collection::CheckAlive() const {
  return deleted_ ? CollectionGone(id_) : Status::Ok();
}

Status Collection::CheckDimension(size_t dim) const {
  std::optional<uint32_t> expected = Info().dimension;
  if (expected && *expected != dim)
    return DimensionMismatch(*expected, dim);
  return Status::Ok();
}

InternalId Collection::AllocateSlot() {
  if (!free_slots_.empty()) {
    InternalId slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  slots_.emplace_back();
  return static_cast<InternalId>(slots_.size() - 1);
}

void Collection::RemoveSlots(const std::vector<InternalId>& victims) {
  index_->Remove(victims);
  changes_since_checkpoint_ += victims.size();
  for (InternalId slot : victims) {
    id_to_slot_.erase(slots_[slot].record_id);
    order_.erase(slots_[slot].position);
    FreeSlot(slot);
  }
}

Status Collection::WrongDimension(const std::string& record_id) const {
  return Status::Corruption("record " + record_id + " of collection " + id_ +
                            " has an embedding of the wrong dimension");
}

void Collection::FreeSlot(InternalId slot) {
  metadata_index_.Remove(slot, slots_[slot].metadata);
  slots_[slot] = Slot{};
  free_slots_.push_back(slot);
}

Collection::Slot& Collection::SetSlot(InternalId slot, Slot&& value) {
  Slot& s = slots_[slot];
  // Removing what a fresh slot never indexed is a no-op.
  metadata_index_.Remove(slot, s.metadata);
  s = std::move(value);
  metadata_index_.Add(slot, s.metadata);
  return s;
}

Status Collection::Write(const WriteBatch& batch, WriteKind kind, SequencedWriter* writer) {
  KSDB_RETURN_IF_ERROR(ValidateWriteBatch(batch, kind));
  std::unique_lock<std::shared_mutex> lock = LockForeground();
  last_write_ = std::chrono::steady_clock::now();
  return WriteLocked(batch, kind, writer);
}

Status Collection::WriteLocked(const WriteBatch& batch, WriteKind kind, SequencedWriter* writer) {
  KSDB_RETURN_IF_ERROR(CheckAlive());
  const bool has_embeddings = batch.embeddings.has_value() && batch.embeddings->dim > 0;
  if (has_embeddings)
    KSDB_RETURN_IF_ERROR(CheckDimension(batch.embeddings->dim));
  if (batch.ids.empty())
    return Status::Ok();

  KSDB_ASSIGN_OR_RETURN(WriteScope scope, writer->Begin());
  if (scope.behind())
    KSDB_RETURN_IF_ERROR(RefreshLocked(batch.ids, &scope));
  PlannedWrite plan;
  if (has_embeddings && !Info().dimension) {
    plan.new_dimension = static_cast<uint32_t>(batch.embeddings->dim);
  }
  const int64_t now_us = NowMicros();
  // Index into plan.rows of an id already planned in this batch, so repeated
  // ids in upsert/update merge onto the planned state (last wins).
  std::unordered_map<std::string_view, size_t> planned;
  for (size_t i = 0; i < batch.ids.size(); ++i) {
    const std::string& record_id = batch.ids[i];
    if (auto it = planned.find(record_id); it != planned.end()) {
      PlanMerge(batch, i, it->second, &plan);
      continue;
    }
    auto existing = id_to_slot_.find(record_id);
    if (existing != id_to_slot_.end()) {
      if (kind == WriteKind::kAdd)
        continue;  // add never touches existing ids
      planned.emplace(record_id, plan.rows.size());
      PlanExisting(existing->second, scope.NextSeq(), now_us, &plan);
      PlanMerge(batch, i, plan.rows.size() - 1, &plan);
    } else if (kind != WriteKind::kUpdate) {
      planned.emplace(record_id, plan.rows.size());
      PlanInsert(batch, i, scope.NextSeq(), now_us, &plan);
    }
  }
  if (plan.rows.empty())
    return Status::Ok();
  KSDB_RETURN_IF_ERROR(PrepareIndex(&plan));
  KSDB_RETURN_IF_ERROR(CommitPrefaulting(&plan, &scope));
  Apply(std::move(plan));
  return Status::Ok();
}

void Collection::PlanInsert(const WriteBatch& batch, size_t i, uint64_t seq, int64_t now_us,
                            PlannedWrite* plan) {
  storage::RecordRow row;
  row.record_id = batch.ids[i];
  row.position = seq;
  row.seq = seq;
  std::span<const float> e = EmbeddingRow(*batch.embeddings, i);
  row.embedding.assign(e.begin(), e.end());
  if (batch.documents)
    row.document = (*batch.documents)[i];
  if (batch.uris)
    row.uri = (*batch.uris)[i];
  const auto* patch = batch.metadatas ? &(*batch.metadatas)[i] : nullptr;
  if (patch && *patch)
    row.metadata = MetadataFromPatch(**patch);
  row.created_at_us = now_us;
  row.updated_at_us = now_us;
  plan->rows.push_back(std::move(row));
  plan->slots.push_back(kNewSlot);
  plan->embedding_set.push_back(1);
}

void Collection::PlanExisting(InternalId slot, uint64_t seq, int64_t now_us, PlannedWrite* plan) {
  const Slot& s = slots_[slot];
  std::span<const float> current = index_->GetVector(slot);
  plan->rows.push_back(storage::RecordRow{s.record_id, s.position, seq,
                                          std::vector<float>(current.begin(), current.end()),
                                          s.document, s.uri, s.metadata, s.created_at_us, now_us});
  plan->slots.push_back(slot);
  plan->embedding_set.push_back(0);
}

void Collection::PlanMerge(const WriteBatch& batch, size_t i, size_t r, PlannedWrite* plan) {
  storage::RecordRow& row = plan->rows[r];
  if (batch.embeddings && batch.embeddings->present[i]) {
    std::span<const float> e = EmbeddingRow(*batch.embeddings, i);
    row.embedding.assign(e.begin(), e.end());
    plan->embedding_set[r] = 1;
  }
  if (batch.documents && (*batch.documents)[i])
    row.document = (*batch.documents)[i];
  if (batch.uris && (*batch.uris)[i])
    row.uri = (*batch.uris)[i];
  const auto* patch = batch.metadatas ? &(*batch.metadatas)[i] : nullptr;
  if (patch && *patch)
    ApplyMetadataPatch(**patch, &row.metadata);
}

Status Collection::PrepareIndex(PlannedWrite* plan) {
  if (!index_ && plan->new_dimension) {
    KSDB_ASSIGN_OR_RETURN(plan->new_index, NewIndex(*plan->new_dimension));
  }
  index::HnswIndex* index = index_ ? index_.get() : plan->new_index.get();
  if (index == nullptr)
    return Status::Ok();
  plan->inserts = static_cast<size_t>(std::count(plan->slots.begin(), plan->slots.end(), kNewSlot));
  return index->Reserve(SlotsNeededFor(plan->inserts));
}

size_t Collection::SlotsNeededFor(size_t inserts) const {
  // Inserts take free slots first (AllocateSlot), then new ones at the end.
  return slots_.size() + (inserts - std::min(inserts, free_slots_.size()));
}

Status Collection::Commit(PlannedWrite* plan, WriteScope* scope) {
  if (plan->new_dimension) {
    CollectionInfo info = Info();
    info.dimension = plan->new_dimension;
    KSDB_RETURN_IF_ERROR(scope->txn().PutCollection(ToCollectionRow(info)));
  }
  KSDB_RETURN_IF_ERROR(scope->txn().PutRecords(id_, plan->rows));
  return scope->Commit();
}

Status Collection::CommitPrefaulting(PlannedWrite* plan, WriteScope* scope) {
  const index::HnswIndex* index = index_ ? index_.get() : plan->new_index.get();
  const size_t first = slots_.size();
  const size_t count = SlotsNeededFor(plan->inserts) - first;
  if (index == nullptr || count < kPrefaultMinNodes)
    return Commit(plan, scope);
  std::thread prefault;
  try {
    prefault = std::thread([index, first, count] { index->Prefault(first, count); });
  } catch (const std::system_error&) {
    // No thread: staging faults the pages in itself.
  }
  const Status status = Commit(plan, scope);
  if (prefault.joinable())
    prefault.join();
  return status;
}

void Collection::Apply(PlannedWrite&& plan) {
  if (plan.new_dimension) {
    {
      std::lock_guard<std::mutex> lock(info_mu_);
      info_.dimension = plan.new_dimension;
    }
    if (plan.new_index)
      index_ = std::move(plan.new_index);
  }
  // The rows' embeddings stay in `plan` (SlotFromRow leaves them), so the
  // index reads them in place.
  std::vector<InternalId> index_ids;
  std::vector<const float*> index_rows;
  for (size_t r = 0; r < plan.rows.size(); ++r) {
    storage::RecordRow& row = plan.rows[r];
    InternalId slot = plan.slots[r];
    if (slot == kNewSlot) {
      slot = AllocateSlot();
      id_to_slot_.emplace(row.record_id, slot);
      order_.emplace(row.position, slot);
    }
    if (plan.embedding_set[r]) {
      index_ids.push_back(slot);
      index_rows.push_back(row.embedding.data());
    }
    SetSlot(slot, SlotFromRow(std::move(row)));
  }
  // Cannot fail: sizes and finiteness were validated before the commit.
  Status s = index_->StageRows(index_ids, index_rows);
  KSDB_CHECK(s.ok());
  changes_since_checkpoint_ += plan.rows.size();
}

Result<uint64_t> Collection::Delete(const DeleteRequest& request, SequencedWriter* writer) {
  const bool has_filter = request.where.has_value() || request.where_document.has_value();
  if (!request.ids && !has_filter)
    return uint64_t{0};
  if (request.ids && request.ids->empty() && !has_filter) {
    return Status::InvalidArgument(
        "Validation error: ids, where: Either ids or where must be specified");
  }
  std::unique_lock<std::shared_mutex> lock = LockForeground();
  KSDB_RETURN_IF_ERROR(CheckAlive());
  // Shared stores: the transaction first, so the victims are chosen on state
  // refreshed from the store when other servers' writes are pending.
  std::optional<WriteScope> scope;
  if (writer->shared()) {
    KSDB_ASSIGN_OR_RETURN(scope, writer->Begin());
    if (scope->behind() && request.ids) {
      KSDB_RETURN_IF_ERROR(RefreshLocked(*request.ids, &*scope));
    }
  }
  std::vector<InternalId> victims =
      MatchingSlots(request.ids, request.where, request.where_document);
  if (victims.empty())
    return uint64_t{0};
  std::vector<std::string> record_ids;
  record_ids.reserve(victims.size());
  for (InternalId slot : victims)
    record_ids.push_back(slots_[slot].record_id);

  if (!scope) {
    KSDB_ASSIGN_OR_RETURN(scope, writer->Begin());
  }
  KSDB_RETURN_IF_ERROR(scope->txn().DeleteRecords(id_, record_ids));
  KSDB_RETURN_IF_ERROR(scope->Commit());
  if (scope->shared()) {
    for (const std::string& record_id : record_ids)
      AddTombstone(record_id, scope->last_seq());
  }

  RemoveSlots(victims);
  return static_cast<uint64_t>(victims.size());
}

uint64_t Collection::Count() const {
  std::shared_lock<std::shared_mutex> lock = LockForegroundShared();
  return id_to_slot_.size();
}

size_t Collection::IndexMemoryBytes() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return index_ ? index_->MemoryBytes() : 0;
}

size_t Collection::LinkPendingFor(std::chrono::microseconds budget) {
  using Clock = std::chrono::steady_clock;
  // Requests queued on this collection go first: the indexer takes the lock
  // only when none waits (or after kMaxIndexerDeferral, so a constant stream
  // of queries cannot starve it), and once one queues it ends its step within
  // a node or two (LinkPending's interrupt), after a minimum hold.
  const auto deferral_end = Clock::now() + kMaxIndexerDeferral;
  while (foreground_waiters_.load() > 0 && Clock::now() < deferral_end) {
    std::this_thread::sleep_for(kIndexerBackoff);
  }
  const bool forced = foreground_waiters_.load() > 0;
  const auto asked = Clock::now();
  std::unique_lock<std::shared_mutex> lock(mu_);
  if (deleted_ || !index_)
    return 0;
  const auto start = Clock::now();
  // The lock is kept for as long as getting it took (within kMinLinkHold and
  // kMaxLinkHold) before a queued request ends the step: under a steady query
  // load every acquisition is slow, and yielding after a node or two left the
  // graph crawling (3,000 vectors took two minutes with two threads querying,
  // against seconds). Taken despite waiters, for kMaxLinkHold, or a steady
  // stream of requests would starve the graph after all.
  const Clock::duration hold =
      forced ? Clock::duration(kMaxLinkHold)
             : std::clamp<Clock::duration>(start - asked, kMinLinkHold, kMaxLinkHold);
  const std::function<bool()> yield = [this, start, hold] {
    return foreground_waiters_.load() > 0 && Clock::now() - start >= hold;
  };
  // While writes keep coming (an ingest), leave one core to the requests:
  // they are what the client waits for, and the graph catches up after.
  const bool writes_active = start - last_write_.load() < kRecentWrite;
  const size_t cores = std::max<size_t>(1, std::thread::hardware_concurrency());
  const size_t max_threads = writes_active ? std::max<size_t>(1, cores - 1) : 0;
  size_t linked = 0;
  do {
    const size_t n = index_->LinkPending(kLinkChunk, max_threads, yield);
    if (n == 0)
      break;
    linked += n;
  } while (Clock::now() - start < budget && !yield());
  // The graph changed: the next checkpoint should save the linked state, or
  // a restart links these vectors again.
  changes_since_checkpoint_ += linked;
  return linked;
}

std::unique_lock<std::shared_mutex> Collection::LockForeground() {
  ++foreground_waiters_;
  std::unique_lock<std::shared_mutex> lock(mu_);
  --foreground_waiters_;
  return lock;
}

std::shared_lock<std::shared_mutex> Collection::LockForegroundShared() const {
  ++foreground_waiters_;
  std::shared_lock<std::shared_mutex> lock(mu_);
  --foreground_waiters_;
  return lock;
}

size_t Collection::PendingVectors() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return index_ ? index_->pending() : 0;
}

bool Collection::SlotMatches(InternalId slot, const std::optional<filter::WhereFilter>& where,
                             const std::optional<filter::DocumentFilter>& doc) const {
  const Slot& s = slots_[slot];
  const std::string* document = s.document ? &*s.document : nullptr;
  if (where && !where->Matches(s.metadata.empty() ? nullptr : &s.metadata, document))
    return false;
  if (doc && !doc->Matches(document))
    return false;
  return true;
}

template <typename Visit>
void Collection::VisitMatches(const std::optional<std::vector<std::string>>& ids,
                              const std::optional<filter::WhereFilter>& where,
                              const std::optional<filter::DocumentFilter>& doc, Visit visit) const {
  if (!ids) {
    if (where) {
      if (std::optional<std::vector<InternalId>> candidates = IndexedCandidates(*where)) {
        for (InternalId slot : *candidates) {
          if (SlotMatches(slot, where, doc) && !visit(slot))
            return;
        }
        return;
      }
    }
    for (const auto& [position, slot] : order_) {
      if (SlotMatches(slot, where, doc) && !visit(slot))
        return;
    }
    return;
  }
  std::vector<InternalId> found;
  std::unordered_set<InternalId> seen;
  for (const std::string& record_id : *ids) {
    auto it = id_to_slot_.find(record_id);
    if (it != id_to_slot_.end() && seen.insert(it->second).second &&
        SlotMatches(it->second, where, doc)) {
      found.push_back(it->second);
    }
  }
  std::sort(found.begin(), found.end(),
            [this](InternalId a, InternalId b) { return slots_[a].position < slots_[b].position; });
  for (InternalId slot : found) {
    if (!visit(slot))
      return;
  }
}

std::optional<std::vector<InternalId>> Collection::IndexedCandidates(
    const filter::WhereFilter& where) const {
  std::optional<std::vector<InternalId>> candidates = metadata_index_.Candidates(where);
  // A broad filter is walked in storage order instead: no sort, and a get
  // with a limit stops early.
  if (!candidates || candidates->size() > order_.size() / 8)
    return std::nullopt;
  std::sort(candidates->begin(), candidates->end(),
            [this](InternalId a, InternalId b) { return slots_[a].position < slots_[b].position; });
  return candidates;
}

std::vector<InternalId> Collection::MatchingSlots(
    const std::optional<std::vector<std::string>>& ids,
    const std::optional<filter::WhereFilter>& where,
    const std::optional<filter::DocumentFilter>& doc) const {
  std::vector<InternalId> out;
  VisitMatches(ids, where, doc, [&out](InternalId slot) {
    out.push_back(slot);
    return true;
  });
  return out;
}

void Collection::AppendRecord(InternalId slot, const Include& include, GetResult* out) const {
  const Slot& s = slots_[slot];
  out->ids.push_back(s.record_id);
  if (include.embeddings) {
    std::span<const float> v = index_->GetVector(slot);
    out->embeddings.emplace_back(v.begin(), v.end());
  }
  if (include.documents)
    out->documents.push_back(s.document);
  if (include.uris)
    out->uris.push_back(s.uri);
  if (include.metadatas) {
    out->metadatas.push_back(s.metadata.empty() ? std::nullopt
                                                : std::optional<Metadata>(s.metadata));
  }
}

Result<GetResult> Collection::Get(const GetRequest& request) const {
  std::shared_lock<std::shared_mutex> lock = LockForegroundShared();
  KSDB_RETURN_IF_ERROR(CheckAlive());
  GetResult result;
  if (request.limit && *request.limit == 0)
    return result;
  size_t skipped = 0;
  const size_t limit = request.limit ? *request.limit : SIZE_MAX;
  VisitMatches(request.ids, request.where, request.where_document, [&](InternalId slot) {
    if (skipped < request.offset) {
      ++skipped;
      return true;
    }
    AppendRecord(slot, request.include, &result);
    return result.ids.size() < limit;
  });
  return result;
}

Result<std::vector<QueryHits>> Collection::Query(const QueryRequest& request) const {
  std::shared_lock<std::shared_mutex> lock = LockForegroundShared();
  KSDB_RETURN_IF_ERROR(CheckAlive());
  if (request.embeddings.size() != request.num_queries * request.dim) {
    return Status::InvalidArgument("query embedding buffer does not match num_queries * dim");
  }
  for (float f : request.embeddings) {
    if (!std::isfinite(f))
      return Status::InvalidArgument("Query embeddings must be finite float32 values");
  }
  std::vector<QueryHits> out(request.num_queries);
  if (request.num_queries == 0 || !index_ || request.n_results == 0)
    return out;
  if (request.dim == 0) {
    return Status::InvalidArgument(
        "Validation error: query_embeddings: Each embedding must have at least 1 dimension");
  }
  KSDB_RETURN_IF_ERROR(CheckDimension(request.dim));

  std::optional<std::vector<InternalId>> allowed;
  std::optional<BitmapIdFilter> allowed_bitmap;
  if (request.ids || request.where || request.where_document) {
    allowed = MatchingSlots(request.ids, request.where, request.where_document);
    // Only a graph search needs the bitmap; an exact scan walks the list.
    if (!index::PreferExactScan(allowed->size(), index_->size(), EfSearch(request.n_results),
                                request.dim)) {
      allowed_bitmap.emplace(slots_.size());
      for (InternalId slot : *allowed)
        allowed_bitmap->Add(slot);
    }
  }
  for (size_t q = 0; q < request.num_queries; ++q) {
    std::span<const float> query(request.embeddings.data() + q * request.dim, request.dim);
    std::vector<index::Neighbor> hits =
        SearchOne(query, request.n_results, allowed, allowed_bitmap ? &*allowed_bitmap : nullptr);
    QueryHits& qh = out[q];
    for (const index::Neighbor& hit : hits) {
      AppendRecord(hit.internal_id, request.include, &qh.records);
      qh.distances.push_back(hit.distance);
    }
  }
  return out;
}

size_t Collection::EfSearch(size_t k) const {
  return std::max<size_t>(k, index_->params().ef_search);
}

std::vector<index::Neighbor> Collection::SearchOne(
    std::span<const float> query, size_t k, const std::optional<std::vector<InternalId>>& allowed,
    const BitmapIdFilter* allowed_bitmap) const {
  // Small collections and selective filters are answered exactly: scanning a
  // few thousand vectors is as fast as a graph search and never misses.
  if (index_->size() <= kExactSearchMaxSize) {
    return allowed ? index_->SearchAmong(query, k, *allowed)
                   : index_->ExactSearch(query, k, nullptr);
  }
  // Selective filters scan the matching ids: exactly, or by the index's
  // sketches with exact rescoring where that is cheaper (index::PickAllowedScan).
  if (allowed && allowed_bitmap == nullptr)
    return index_->SearchAllowed(query, k, *allowed);
  return index_->SearchWithEf(query, k, EfSearch(k), allowed_bitmap);
}

Status Collection::Modify(CollectionInfo info, SequencedWriter* writer) {
  std::unique_lock<std::shared_mutex> lock = LockForeground();
  KSDB_RETURN_IF_ERROR(CheckAlive());
  info.dimension = Info().dimension;
  KSDB_ASSIGN_OR_RETURN(WriteScope scope, writer->Begin());
  KSDB_RETURN_IF_ERROR(scope.txn().PutCollection(ToCollectionRow(info)));
  KSDB_RETURN_IF_ERROR(scope.Commit());
  if (index_) {
    index_->SetEfSearch(info.config.hnsw.ef_search);
    index_->SetNumThreads(info.config.hnsw.num_threads);
  }
  std::lock_guard<std::mutex> info_lock(info_mu_);
  info_ = std::move(info);
  return Status::Ok();
}

Status Collection::StageDrop(WriteScope* scope) const {
  KSDB_RETURN_IF_ERROR(CheckAlive());
  return scope->txn().DeleteCollection(id_);
}

void Collection::FinishDrop() {
  FinishReplaced();
  if (!snapshot_path_.empty()) {
    // Derived data only: a leftover file is harmless (no collection has this
    // id again), so a failure is logged, not returned.
    Status removed = RemoveFileIfExists(snapshot_path_);
    if (!removed.ok())
      Log(LogLevel::kWarning, removed.message());
  }
}

void Collection::FinishReplaced() {
  deleted_ = true;
  slots_ = {};
  free_slots_ = {};
  id_to_slot_ = {};
  order_ = {};
  metadata_index_.Clear();
  index_.reset();
}

// --- following other servers ---

Status Collection::ApplyFollowedRows(std::vector<storage::RecordRow>&& rows) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  if (deleted_)
    return Status::Ok();
  return ApplyFollowedRowsLocked(std::move(rows));
}

Status Collection::ApplyFollowedRowsLocked(std::vector<storage::RecordRow>&& rows) {
  if (rows.empty())
    return Status::Ok();
  if (!index_) {
    // The first embeddings another server wrote set the dimension there too.
    std::lock_guard<std::mutex> info_lock(info_mu_);
    if (!info_.dimension)
      info_.dimension = static_cast<uint32_t>(rows.front().embedding.size());
  }
  KSDB_RETURN_IF_ERROR(EnsureIndex(*Info().dimension));
  // Every row is checked before any is applied, so a bad one changes nothing.
  for (const storage::RecordRow& row : rows) {
    if (row.embedding.size() != index_->dim())
      return WrongDimension(row.record_id);
  }
  // Only ids not held yet take a slot (an upper bound: tombstoned ones are
  // skipped below); reserving for every row grew the index by the batch size
  // whenever a pass re-read rows already applied, or reused freed slots.
  const size_t inserts = static_cast<size_t>(std::count_if(
      rows.begin(), rows.end(),
      [this](const storage::RecordRow& row) { return !id_to_slot_.count(row.record_id); }));
  KSDB_RETURN_IF_ERROR(index_->Reserve(SlotsNeededFor(inserts)));
  std::vector<InternalId> index_ids;
  std::vector<const float*> index_rows;  // into `rows`, whose embeddings SlotFromRow leaves
  for (storage::RecordRow& row : rows) {
    InternalId slot;
    auto existing = id_to_slot_.find(row.record_id);
    if (existing != id_to_slot_.end()) {
      slot = existing->second;
      if (slots_[slot].seq >= row.seq)
        continue;  // ours is as new: already applied
      order_.erase(slots_[slot].position);
    } else {
      auto tombstone = tombstones_.find(row.record_id);
      if (tombstone != tombstones_.end() && tombstone->second >= row.seq)
        continue;
      slot = AllocateSlot();
      id_to_slot_.emplace(row.record_id, slot);
    }
    order_.emplace(row.position, slot);
    index_ids.push_back(slot);
    index_rows.push_back(row.embedding.data());
    SetSlot(slot, SlotFromRow(std::move(row)));
  }
  if (index_ids.empty())
    return Status::Ok();
  KSDB_RETURN_IF_ERROR(index_->StageRows(index_ids, index_rows));
  changes_since_checkpoint_ += index_ids.size();
  return Status::Ok();
}

void Collection::ApplyFollowedDeletes(std::span<const std::string> record_ids, uint64_t seq) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  if (deleted_)
    return;
  ApplyFollowedDeletesLocked(record_ids, seq);
}

void Collection::ApplyFollowedDeletesLocked(std::span<const std::string> record_ids, uint64_t seq) {
  std::vector<InternalId> victims;
  for (const std::string& record_id : record_ids) {
    AddTombstone(record_id, seq);
    auto it = id_to_slot_.find(record_id);
    if (it != id_to_slot_.end() && slots_[it->second].seq < seq)
      victims.push_back(it->second);
  }
  if (!victims.empty())
    RemoveSlots(victims);
}

void Collection::AddTombstone(const std::string& record_id, uint64_t seq) {
  uint64_t& at = tombstones_[record_id];
  at = std::max(at, seq);
}

void Collection::ForgetDeletionsUpTo(uint64_t seq) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  std::erase_if(tombstones_, [seq](const auto& entry) { return entry.second <= seq; });
}

Status Collection::RefreshLocked(std::span<const std::string> record_ids, WriteScope* scope) {
  KSDB_ASSIGN_OR_RETURN(std::vector<storage::RecordRow> rows,
                        scope->txn().LoadRecords(id_, record_ids));
  std::unordered_set<std::string_view> stored;
  for (const storage::RecordRow& row : rows)
    stored.insert(row.record_id);
  // Held here but gone from the store: deleted by another server, at a
  // number no later than where this transaction starts.
  std::vector<std::string> gone;
  for (const std::string& record_id : record_ids) {
    if (!stored.count(record_id) && id_to_slot_.count(record_id))
      gone.push_back(record_id);
  }
  // Rows first: `stored` points into them.
  stored.clear();
  KSDB_RETURN_IF_ERROR(ApplyFollowedRowsLocked(std::move(rows)));
  ApplyFollowedDeletesLocked(gone, scope->start_seq());
  return Status::Ok();
}

void Collection::AdoptInfo(CollectionInfo info) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  if (!info.dimension)
    info.dimension = Info().dimension;
  if (index_) {
    index_->SetEfSearch(info.config.hnsw.ef_search);
    index_->SetNumThreads(info.config.hnsw.num_threads);
  }
  std::lock_guard<std::mutex> info_lock(info_mu_);
  info_ = std::move(info);
}

}  // namespace ksdb::db
