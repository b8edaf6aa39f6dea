// FloatRows: a growable array of fixed-length float rows, on the heap or in a
// memory-mapped file.
//
// The int8-quantised HNSW index traverses its graph on byte codes and only
// reads the float32 vectors to rerank a few candidates per query, so those
// vectors can live in a file the kernel pages in and out instead of in RAM.
// The file is unlinked as soon as it is created: it is scratch space for
// derived data, never left behind, and never read back (snapshots and the
// record store are the durable copies).
#ifndef KSDB_INDEX_FLOAT_ROWS_H_
#define KSDB_INDEX_FLOAT_ROWS_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace ksdb::index {

class FloatRows {
 public:
  // Rows of `row_floats` floats; in a mapped scratch file created at `path`
  // when it is non-empty, else on the heap.
  static Result<FloatRows> Create(size_t row_floats, const std::string& path);
  FloatRows(FloatRows&& other) noexcept;
  FloatRows& operator=(FloatRows&& other) noexcept;
  ~FloatRows();

  // Makes rows [0, rows) addressable (new rows are zero). Pointers from Row()
  // are invalidated when this grows the storage.
  Status Resize(size_t rows);
  float* Row(size_t r) { return data_ + r * row_floats_; }
  const float* Row(size_t r) const { return data_ + r * row_floats_; }
  size_t rows() const { return rows_; }
  // Heap bytes held (0 when the rows live in a mapped file).
  size_t HeapBytes() const { return mapped_ ? 0 : heap_.capacity() * sizeof(float); }
  bool mapped() const { return mapped_; }

 private:
  FloatRows(size_t row_floats, int fd);
  Status GrowMapping(size_t capacity_rows);
  void Unmap();

  size_t row_floats_ = 0;
  size_t rows_ = 0;
  size_t capacity_rows_ = 0;
  bool mapped_ = false;
  int fd_ = -1;
  float* data_ = nullptr;
  std::vector<float> heap_;
};

}  // namespace ksdb::index

#endif  // KSDB_INDEX_FLOAT_ROWS_H_
