// HnswGraph node orders for memory locality (Coleman et al., "Graph Reordering
// for Cache-Efficient Near Neighbor Search", NeurIPS 2022): a search visits a
// node's neighbours one after the other, so numbering graph neighbours close
// together puts their blocks on nearby pages and cache lines. A relabelled
// copy has the same graph (same links, levels and entry point, renumbered),
// so it returns the same results in other numbers. Measured on glove: 0-5%
// more queries/s, too little to keep an internal order in the index itself
// (bench/RESULTS.md, "Graph reordering"); only bench/ann uses these copies.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "index/hnsw_graph.h"

namespace ksdb::index {

std::vector<InternalId> HnswGraph::BfsOrder(bool by_degree) const {
  const size_t n = num_nodes();
  std::vector<InternalId> order;
  order.reserve(n);
  std::vector<uint8_t> placed(n, 0);
  std::vector<InternalId> row;
  const auto traverse = [&](InternalId root) {
    size_t head = order.size();
    order.push_back(root);
    placed[root] = 1;
    while (head < order.size()) {
      const InternalId id = order[head++];
      if (states_[id] != kLive && states_[id] != kDeleted)
        continue;
      const uint32_t* links = Links(id, 0);
      row.assign(links + 1, links + 1 + links[0]);
      if (by_degree) {
        // Cuthill-McKee: neighbours of low degree first.
        std::stable_sort(row.begin(), row.end(), [this](InternalId a, InternalId b) {
          return Links(a, 0)[0] < Links(b, 0)[0];
        });
      }
      for (InternalId next : row) {
        if (!placed[next]) {
          placed[next] = 1;
          order.push_back(next);
        }
      }
    }
  };
  if (entry_point_ != kNoNode)
    traverse(entry_point_);
  // Nodes the entry point does not reach (pending, empty, cut off) follow in
  // slot order, each starting a traversal of its own.
  for (size_t id = 0; id < n; ++id) {
    if (!placed[id])
      traverse(static_cast<InternalId>(id));
  }
  return order;
}

Result<std::unique_ptr<HnswGraph>> HnswGraph::RelabelledCopy(
    std::span<const InternalId> order) const {
  const size_t n = num_nodes();
  if (order.size() != n || quantized_ || !pending_list_.empty())
    return Status::InvalidArgument("hnsw reorder: unsupported graph or order");
  std::vector<InternalId> new_of_old(n, kNoNode);
  for (size_t i = 0; i < n; ++i) {
    if (order[i] >= n || new_of_old[order[i]] != kNoNode)
      return Status::InvalidArgument("hnsw reorder: the order is not a permutation of the nodes");
    new_of_old[order[i]] = static_cast<InternalId>(i);
  }
  const size_t row_floats = dim_ + (space_ == DistanceSpace::kCosine ? 1 : 0);
  KSDB_ASSIGN_OR_RETURN(FloatRows floats, FloatRows::Create(row_floats, std::string()));
  auto copy = std::make_unique<HnswGraph>(dim_, space_, params_, std::move(floats));
  KSDB_RETURN_IF_ERROR(copy->GrowTo(n));
  for (size_t i = 0; i < n; ++i) {
    const InternalId old = order[i];
    const InternalId id = static_cast<InternalId>(i);
    std::memcpy(copy->Block(id), Block(old), block_bytes_);
    copy->levels_[id] = levels_[old];
    copy->states_[id] = states_[old];
    copy->closed_rows_[id] = closed_rows_[old];
    for (int level = 0; level <= levels_[old]; ++level) {
      // A node above layer 0 that was never linked has no upper rows.
      if (level > 0 && !upper_[old])
        break;
      if (level == 1) {
        const size_t words = size_t{levels_[old]} * (1 + params_.m);
        copy->upper_[id] = std::make_unique<uint32_t[]>(words);
      }
      const uint32_t* src = Links(old, level);
      uint32_t* dst = copy->Links(id, level);
      dst[0] = src[0];
      for (uint32_t j = 1; j <= src[0]; ++j)
        dst[j] = new_of_old[src[j]];
    }
  }
  copy->size_ = size_;
  copy->deleted_ = deleted_;
  copy->entry_point_ = entry_point_ == kNoNode ? kNoNode : new_of_old[entry_point_];
  copy->max_level_ = max_level_;
  return copy;
}

Result<RelabelledHnsw> RelabelHnswForBench(const HnswIndex& index, bool by_degree) {
  const auto* graph = dynamic_cast<const HnswGraph*>(&index);
  if (graph == nullptr)
    return Status::InvalidArgument("hnsw reorder: not an HnswGraph");
  RelabelledHnsw out;
  out.old_of_new = graph->BfsOrder(by_degree);
  // Reverse Cuthill-McKee: the degree-sorted BFS order, reversed.
  if (by_degree)
    std::reverse(out.old_of_new.begin(), out.old_of_new.end());
  KSDB_ASSIGN_OR_RETURN(std::unique_ptr<HnswGraph> copy, graph->RelabelledCopy(out.old_of_new));
  out.index = std::move(copy);
  return out;
}

}  // namespace ksdb::index
