// HnswGraph insertion (Malkov & Yashunin, algorithms 1, 2 and 4).
//
// A batch Upsert runs in two phases. The sequential phase validates, grows the
// arrays, writes every vector and draws the levels of new nodes, so that
// during the linking phase vectors and levels never change. The linking phase
// may run on several threads: each node's link rows are guarded by a striped
// mutex (never two held at once), and entry_mu_ guards the entry point.
//
// Re-linking a node that was linked before (an update, a re-staged update, or
// the reuse of a deleted slot) first repairs its old neighbourhood: each node
// its old links name that still links to it re-selects its row from its own
// links plus the node's old links (the idea of hnswlib's updatePoint, bounded
// by 2 * MaxLinks candidates per repaired row, so an update costs O(M^3)
// distances whatever the index size). The node then keeps up to MaxLinks of
// the neighbours it finds, not m, since the nodes around it filled their rows
// through back links while it was elsewhere.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "index/hnsw_graph.h"
#include "index/top_k.h"

namespace ksdb::index {
namespace {

constexpr size_t kNumNodeLocks = 4096;
// Below this many nodes per thread, thread start-up costs more than it saves.
constexpr size_t kMinNodesPerThread = 64;
// Nodes a thread claims at a time from the shared cursor.
constexpr size_t kClaimChunk = 2;

bool AllFinite(std::span<const float> values) {
  return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
}

// The batch rows to apply: for each distinct id, the row of its last occurrence
// (a repeated id keeps its last vector), in first-occurrence order.
std::vector<std::pair<InternalId, size_t>> LastRowPerId(std::span<const InternalId> ids) {
  std::unordered_map<InternalId, size_t> slot_of;
  slot_of.reserve(ids.size());
  std::vector<std::pair<InternalId, size_t>> rows;
  rows.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    auto [it, inserted] = slot_of.try_emplace(ids[i], rows.size());
    if (inserted)
      rows.emplace_back(ids[i], i);
    else
      rows[it->second].second = i;
  }
  return rows;
}

}  // namespace

Status HnswGraph::ValidateIds(std::span<const InternalId> ids) {
  for (InternalId id : ids) {
    if (id == kNoNode)
      return Status::InvalidArgument("hnsw index: internal id out of range");
  }
  return Status::Ok();
}

Status HnswGraph::CheckBatchSize(std::span<const InternalId> ids,
                                 std::span<const float> vectors) const {
  if (vectors.size() != ids.size() * dim_) {
    return Status::InvalidArgument("hnsw index: expected " + std::to_string(ids.size()) + " x " +
                                   std::to_string(dim_) + " floats, got " +
                                   std::to_string(vectors.size()));
  }
  return Status::Ok();
}

Status HnswGraph::ValidateUpsert(std::span<const InternalId> ids,
                                 std::span<const float> vectors) const {
  KSDB_RETURN_IF_ERROR(CheckBatchSize(ids, vectors));
  if (!AllFinite(vectors))
    return Status::InvalidArgument("hnsw index: vectors must be finite");
  return ValidateIds(ids);
}

Status HnswGraph::ValidateRows(std::span<const InternalId> ids,
                               std::span<const float* const> rows) const {
  if (rows.size() != ids.size()) {
    return Status::InvalidArgument("hnsw index: expected " + std::to_string(ids.size()) +
                                   " rows, got " + std::to_string(rows.size()));
  }
  for (const float* row : rows) {
    if (!AllFinite(std::span<const float>(row, dim_)))
      return Status::InvalidArgument("hnsw index: vectors must be finite");
  }
  return ValidateIds(ids);
}

Status HnswGraph::GrowTo(size_t num_nodes) {
  if (num_nodes <= states_.size())
    return Status::Ok();
  // Allocate everything first, so a failed allocation leaves the index as it
  // was (std::vector::reserve has the strong guarantee).
  try {
    if (num_nodes > capacity_) {
      const size_t capacity = std::max(num_nodes, capacity_ + capacity_ / 2);
      if (!blocks_.GrowTo(capacity * block_bytes_))
        throw std::bad_alloc();
      levels_.reserve(capacity);
      states_.reserve(capacity);
      closed_rows_.reserve(capacity);
      upper_.reserve(capacity);
      sketches_.reserve(capacity * sketch_stride_);
      capacity_ = capacity;
    }
  } catch (const std::exception&) {
    return Status::Internal("hnsw index: out of memory growing to " + std::to_string(num_nodes) +
                            " nodes");
  }
  if (quantized_)
    KSDB_RETURN_IF_ERROR(floats_.Resize(num_nodes));
  levels_.resize(num_nodes, 0);
  states_.resize(num_nodes, kEmpty);
  closed_rows_.resize(num_nodes, 0);
  upper_.resize(num_nodes);
  sketches_.resize(num_nodes * sketch_stride_, 0);
  return Status::Ok();
}

void HnswGraph::Prefault(size_t first, size_t count) const {
  // The node blocks are most of a new node's memory (its vector and level-0
  // links); the per-node arrays were written when Reserve grew them. While
  // the construction copy exists, staging writes the nodes' rows of it too
  // (it spans the block capacity, mostly untouched). Best effort: unfaulted
  // pages fault in when written.
  blocks_.Populate(first * block_bytes_, count * block_bytes_);
  if (mirror_ && first < mirror_nodes_) {
    const size_t rows = std::min(count, mirror_nodes_ - first);
    mirror_.Populate(first * mirror_row_bytes_, rows * mirror_row_bytes_);
  }
}

int HnswGraph::DrawLevel() {
  // 1 - U lies in (0, 1], so the logarithm is finite.
  const double u = 1.0 - std::uniform_real_distribution<double>(0.0, 1.0)(level_rng_);
  const double level = std::floor(-std::log(u) * level_multiplier_);
  return static_cast<int>(std::min(level, static_cast<double>(kMaxLevel)));
}

void HnswGraph::StoreVector(InternalId id, const float* vector, uint8_t state) {
  float* stored = MutableVector(id);
  std::copy(vector, vector + dim_, stored);
  if (space_ == DistanceSpace::kCosine) {
    const float norm = std::sqrt(kernels_->norm_squared(vector, dim_));
    stored[dim_] = norm == 0.0f ? 0.0f : 1.0f / norm;
  }
  if (states_[id] == kEmpty) {
    const int level = DrawLevel();
    levels_[id] = static_cast<uint8_t>(level);
    if (level > 0)
      upper_[id] = std::make_unique<uint32_t[]>(size_t(level) * (1 + params_.m));
  }
  UpdateSketch(id);
  if (trained_)
    Encode(id);
  // A staged update (or a reused slot) keeps its links, so construction
  // reaches it through the copy before it is re-linked itself.
  if (mirror_ && id < mirror_nodes_)
    EncodeMirrorRow(id);
  const uint8_t before = states_[id];
  if (before == kDeleted)
    --deleted_;
  if (before != kLive && before != kPending)
    ++size_;
  if (before == kPending && state != kPending)
    DropPending(id);
  if (before != kPending && state == kPending)
    AddPending(id);
  states_[id] = state;
}

void HnswGraph::AddPending(InternalId id) {
  pending_pos_.emplace(id, pending_list_.size());
  pending_list_.push_back(id);
}

void HnswGraph::DropPending(InternalId id) {
  auto it = pending_pos_.find(id);
  if (it == pending_pos_.end())
    return;
  const size_t pos = it->second;
  pending_pos_.erase(it);
  const InternalId last = pending_list_.back();
  pending_list_.pop_back();
  if (last != id) {
    pending_list_[pos] = last;
    pending_pos_[last] = pos;
  }
}

Status HnswGraph::PrepareBatch(std::span<const InternalId> ids,
                               std::vector<std::pair<InternalId, size_t>>* rows) {
  if (ids.empty())
    return Status::Ok();
  const InternalId max_id = *std::max_element(ids.begin(), ids.end());
  KSDB_RETURN_IF_ERROR(GrowTo(size_t{max_id} + 1));
  *rows = LastRowPerId(ids);
  try {
    pending_list_.reserve(pending_list_.size() + rows->size());
    pending_pos_.reserve(pending_pos_.size() + rows->size());
  } catch (const std::exception&) {
    return Status::Internal("hnsw index: out of memory staging " + std::to_string(rows->size()) +
                            " vectors");
  }
  return Status::Ok();
}

Status HnswGraph::Upsert(std::span<const InternalId> ids, std::span<const float> vectors) {
  KSDB_RETURN_IF_ERROR(ValidateUpsert(ids, vectors));
  std::vector<std::pair<InternalId, size_t>> rows;
  KSDB_RETURN_IF_ERROR(PrepareBatch(ids, &rows));
  std::vector<InternalId> nodes;
  nodes.reserve(rows.size());
  for (const auto& [id, row] : rows) {
    StoreVector(id, vectors.data() + row * dim_, kLive);
    nodes.push_back(id);
  }
  if (quantized_ && !trained_ && size_ >= kTrainMin)
    TrainQuantizer();
  MaybeCentreSketches();
  LinkAll(nodes);
  ReleaseMirrorIfIdle();
  return Status::Ok();
}

Status HnswGraph::Stage(std::span<const InternalId> ids, std::span<const float> vectors) {
  KSDB_RETURN_IF_ERROR(CheckBatchSize(ids, vectors));  // StageRows checks the rest
  std::vector<const float*> rows(ids.size());
  for (size_t i = 0; i < rows.size(); ++i)
    rows[i] = vectors.data() + i * dim_;
  return StageRows(ids, rows);
}

Status HnswGraph::StageRows(std::span<const InternalId> ids, std::span<const float* const> rows) {
  KSDB_RETURN_IF_ERROR(ValidateRows(ids, rows));
  std::vector<std::pair<InternalId, size_t>> order;
  KSDB_RETURN_IF_ERROR(PrepareBatch(ids, &order));
  for (const auto& [id, row] : order)
    StoreVector(id, rows[row], kPending);
  if (quantized_ && !trained_ && size_ >= kTrainMin)
    TrainQuantizer();
  MaybeCentreSketches();
  return Status::Ok();
}

size_t HnswGraph::LinkPending(size_t max_nodes, size_t max_threads,
                              const std::function<bool()>& interrupt) {
  const size_t n = std::min(max_nodes, pending_list_.size());
  if (n == 0)
    return 0;
  // The most recently staged first: taking from the back keeps the list's
  // other positions valid.
  std::vector<InternalId> nodes(pending_list_.end() - static_cast<std::ptrdiff_t>(n),
                                pending_list_.end());
  for (InternalId id : nodes) {
    pending_pos_.erase(id);
    states_[id] = kLive;
  }
  const size_t backlog = pending_list_.size();
  pending_list_.resize(pending_list_.size() - n);
  const size_t linked = LinkAll(nodes, max_threads, backlog, interrupt);
  // Interrupted: the rest go back to the list's end, in the same order.
  for (size_t i = linked; i < n; ++i) {
    states_[nodes[i]] = kPending;
    AddPending(nodes[i]);
  }
  ReleaseMirrorIfIdle();
  return linked;
}

size_t HnswGraph::LinkAll(std::span<const InternalId> nodes, size_t max_threads, size_t backlog,
                          const std::function<bool()>& interrupt) {
  PrepareMirror(nodes, std::max(backlog, nodes.size()));
  size_t first = 0;
  {
    // The very first node only becomes the entry point; link it alone so that
    // every parallel insert finds an entry.
    VisitedPool::Handle visited = visited_pool_.Acquire(num_nodes());
    if (entry_point_ == kNoNode && !nodes.empty())
      LinkNode(nodes[first++], visited.get());
  }
  const std::span<const InternalId> rest = nodes.subspan(first);
  size_t threads =
      params_.num_threads == 0 ? std::thread::hardware_concurrency() : params_.num_threads;
  if (max_threads != 0)
    threads = std::min(threads, max_threads);
  threads = std::max<size_t>(1, std::min(threads, rest.size() / kMinNodesPerThread));

  // Every claimed chunk is linked whole, so the linked nodes are those below
  // the final cursor. Each thread links one chunk before it heeds the
  // interrupt: a call makes progress whenever something is pending, so
  // callers can keep treating 0 as "nothing to link".
  std::atomic<size_t> cursor{0};
  auto work = [&] {
    VisitedPool::Handle visited = visited_pool_.Acquire(num_nodes());
    for (bool claimed = false;; claimed = true) {
      if (claimed && interrupt && interrupt())
        return;
      const size_t begin = cursor.fetch_add(kClaimChunk);
      if (begin >= rest.size())
        return;
      const size_t end = std::min(rest.size(), begin + kClaimChunk);
      for (size_t i = begin; i < end; ++i)
        LinkNode(rest[i], visited.get());
    }
  };
  if (threads > 1)
    node_locks_ = std::make_unique<std::mutex[]>(kNumNodeLocks);
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) {
    try {
      helpers.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // fewer threads than asked; the others share the work
    }
  }
  work();
  for (std::thread& helper : helpers)
    helper.join();
  node_locks_.reset();
  return first + std::min(cursor.load(), rest.size());
}

std::mutex* HnswGraph::NodeLock(InternalId id) const {
  return node_locks_ ? &node_locks_[id % kNumNodeLocks] : nullptr;
}

void HnswGraph::CopyLinks(InternalId id, int level, std::vector<InternalId>* out) const {
  std::unique_lock<std::mutex> lock;
  if (std::mutex* mu = NodeLock(id))
    lock = std::unique_lock<std::mutex>(*mu);
  const uint32_t* row = Links(id, level);
  out->assign(row + 1, row + 1 + row[0]);
}

bool HnswGraph::SelectNeighbors(std::vector<Neighbor>* candidates, size_t max,
                                InternalId newcomer) const {
  if (candidates->size() < max)
    return false;
  std::vector<Neighbor> kept;
  kept.reserve(max);
  for (const Neighbor& c : *candidates) {
    if (kept.size() >= max)
      break;
    bool diverse = true;
    for (const Neighbor& k : kept) {
      const bool known_to_pass =
          newcomer != kNoNode && c.internal_id != newcomer && k.internal_id != newcomer;
      if (!known_to_pass && NodeDistance(c.internal_id, k.internal_id) < c.distance) {
        diverse = false;
        break;
      }
    }
    if (diverse)
      kept.push_back(c);
  }
  *candidates = std::move(kept);
  return true;
}

void HnswGraph::NodeDistances(InternalId from, std::span<const InternalId> ids, float* out) const {
  for (InternalId id : ids)
    __builtin_prefetch(Vector(id));
  const PreparedQuery q{Vector(from), space_ == DistanceSpace::kCosine ? InvNorm(from) : 0.0f};
  QueryDistances(q, ids.data(), ids.size(), out);
}

void HnswGraph::SetLinks(InternalId id, int level, const std::vector<Neighbor>& neighbors,
                         bool closed) {
  std::unique_lock<std::mutex> lock;
  if (std::mutex* mu = NodeLock(id))
    lock = std::unique_lock<std::mutex>(*mu);
  uint32_t* row = Links(id, level);
  row[0] = static_cast<uint32_t>(neighbors.size());
  for (size_t i = 0; i < neighbors.size(); ++i)
    row[1 + i] = neighbors[i].internal_id;
  if (level == 0)
    closed_rows_[id] = closed;
}

void HnswGraph::AddBackLink(InternalId from, InternalId to, int level) {
  std::unique_lock<std::mutex> lock;
  if (std::mutex* mu = NodeLock(from))
    lock = std::unique_lock<std::mutex>(*mu);
  uint32_t* row = Links(from, level);
  const uint32_t count = row[0];
  if (std::find(row + 1, row + 1 + count, to) != row + 1 + count)
    return;
  const size_t max = MaxLinks(level);
  if (count < max) {
    row[1 + count] = to;
    row[0] = count + 1;
    if (level == 0)
      closed_rows_[from] = false;  // `to` was not checked against the others
    return;
  }
  // Full: keep the most diverse `max` of the old neighbours plus the new one.
  std::vector<InternalId> ids(row + 1, row + 1 + count);
  ids.push_back(to);
  std::vector<float> distances(ids.size());
  NodeDistances(from, ids, distances.data());
  std::vector<Neighbor> candidates(ids.size());
  for (size_t i = 0; i < ids.size(); ++i)
    candidates[i] = {distances[i], ids[i]};
  std::sort(candidates.begin(), candidates.end(), Closer);
  // A closed row is closed again afterwards; an open one is closed by the full run.
  const bool row_closed = level == 0 && closed_rows_[from];
  SelectNeighbors(&candidates, max, row_closed ? to : kNoNode);
  if (level == 0)
    closed_rows_[from] = true;
  row[0] = static_cast<uint32_t>(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i)
    row[1 + i] = candidates[i].internal_id;
}

bool HnswGraph::RepairOldNeighbors(InternalId id) {
  std::vector<InternalId> old_links;
  bool was_linked = false;
  for (int level = levels_[id]; level >= 0; --level) {
    CopyLinks(id, level, &old_links);
    was_linked = was_linked || !old_links.empty();
    for (InternalId node : old_links)
      RepairLinks(node, id, level, old_links);
  }
  return was_linked;
}

void HnswGraph::RepairLinks(InternalId node, InternalId moved, int level,
                            std::span<const InternalId> moved_links) {
  std::unique_lock<std::mutex> lock;
  if (std::mutex* mu = NodeLock(node))
    lock = std::unique_lock<std::mutex>(*mu);
  uint32_t* row = Links(node, level);
  const uint32_t count = row[0];
  if (std::find(row + 1, row + 1 + count, moved) == row + 1 + count)
    return;
  // `moved`'s old neighbours were near its old vector, as `node` is, so they
  // are the natural replacements if `moved` went far away; `moved` itself
  // stays a candidate at its new distance. All of them have a row at `level`
  // (links only name nodes that reach it).
  std::vector<InternalId> ids(row + 1, row + 1 + count);
  ids.insert(ids.end(), moved_links.begin(), moved_links.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<Neighbor> candidates;
  candidates.reserve(ids.size());
  for (InternalId candidate : ids) {
    if (candidate != node)
      candidates.push_back({NodeDistance(node, candidate), candidate});
  }
  std::sort(candidates.begin(), candidates.end(), Closer);
  const bool closed = SelectNeighbors(&candidates, MaxLinks(level));
  row[0] = static_cast<uint32_t>(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i)
    row[1 + i] = candidates[i].internal_id;
  if (level == 0)
    closed_rows_[node] = closed;
}

void HnswGraph::LinkNode(InternalId id, VisitedList* visited) {
  // Before its own links are replaced: they name the nodes to repair.
  const bool was_linked = RepairOldNeighbors(id);
  const int level = levels_[id];
  PreparedQuery q = Prepare(Vector(id));
  std::vector<float> mirror_query;
  if (mirror_) {
    mirror_query = MirrorPaddedQuery(q);
    q.mirror_padded = mirror_query.data();
  }

  std::unique_lock<std::mutex> entry_lock(entry_mu_);
  InternalId ep = entry_point_;
  const int top = max_level_;
  if (ep == kNoNode) {
    entry_point_ = id;
    max_level_ = level;
    return;
  }
  // A node above the current top becomes the new entry point; hold the lock
  // until it is linked so no other insert starts from a half-linked node.
  if (level <= top)
    entry_lock.unlock();

  int start_level = top;
  if (ep == id) {
    // Re-linking the entry point itself (an update): start from one of its
    // neighbours on the highest layer where it has any.
    ep = kNoNode;
    std::vector<InternalId> links;
    for (int l = top; l >= 0 && ep == kNoNode; --l) {
      CopyLinks(id, l, &links);
      if (!links.empty()) {
        ep = links.front();
        start_level = l;
      }
    }
    if (ep == kNoNode)
      return;  // the only node in the graph
  }

  if (level < start_level)
    ep = GreedyDescend(FloatDistance{this, q}, ep, start_level, level, id);
  for (int l = std::min(level, start_level); l >= 0; --l) {
    NeighborHeap found = SearchLayerPrefetched(q, ep, l, id, visited);
    RescoreExactly(q, &found);
    std::sort(found.begin(), found.end(), Closer);
    ep = found.front().internal_id;
    // A new node keeps m and fills up to MaxLinks through later back links; a
    // re-linked one would otherwise come back with half the layer-0 degree of
    // the nodes around it, which accumulated theirs while it was elsewhere
    // (recall after mass updates drops by ~0.04 without this).
    const bool closed = SelectNeighbors(&found, was_linked ? MaxLinks(l) : params_.m);
    SetLinks(id, l, found, closed);
    for (const Neighbor& n : found)
      AddBackLink(n.internal_id, id, l);
  }
  if (level > top) {
    entry_point_ = id;
    max_level_ = level;
  }
}

}  // namespace ksdb::index
