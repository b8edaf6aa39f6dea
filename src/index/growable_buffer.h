// GrowableBuffer: a zero-initialised byte buffer that grows without copying.
//
// The HNSW node blocks (and the bfloat16 construction copy) grow with every
// large write. A new allocation plus a copy of the old bytes faulted in and
// copied ~3x the final size over a 1.5x-geometric growth, and it did so
// under the collection's write lock: at 100k x 384 single writes of 1,000
// records waited 80-300 ms for it. Here the memory is an anonymous mapping
// that mremap moves or extends by its page tables, never by its bytes; the
// new bytes are the kernel's zero pages, touched (and counted in RSS) only
// when written.
//
// Mappings start on a 2 MiB boundary and are moved only to one, and from
// 2 MiB on they are whole huge pages, advised as such: the kernel can keep
// and move the transparent huge pages a search relies on (huge_pages.h)
// instead of splitting them.
#ifndef KSDB_INDEX_GROWABLE_BUFFER_H_
#define KSDB_INDEX_GROWABLE_BUFFER_H_

#include <cstddef>

namespace ksdb::index {

class GrowableBuffer {
 public:
  GrowableBuffer() = default;
  ~GrowableBuffer();
  GrowableBuffer(GrowableBuffer&& other) noexcept;
  GrowableBuffer& operator=(GrowableBuffer&& other) noexcept;
  GrowableBuffer(const GrowableBuffer&) = delete;
  GrowableBuffer& operator=(const GrowableBuffer&) = delete;

  // Makes at least `bytes` usable (never shrinks): the old bytes keep their
  // values (possibly at a new address), the added ones read as zero. Returns
  // false, changing nothing, when the kernel refuses the memory.
  bool GrowTo(size_t bytes);
  // Faults in the pages of [offset, offset + bytes) (clamped to size())
  // ahead of their first write, without changing a byte: the kernel zeroes
  // fresh memory slowly on some machines, and this lets another thread pay
  // for it. Safe while no thread grows, moves or frees the buffer. False if
  // the kernel cannot (before Linux 5.14, or out of memory); the pages then
  // fault in when first written, as usual.
  bool Populate(size_t offset, size_t bytes) const;
  // Frees everything.
  void Reset();

  std::byte* data() const { return data_; }
  // Usable bytes (whole pages; from 2 MiB on, whole huge pages).
  size_t size() const { return size_; }
  explicit operator bool() const { return data_ != nullptr; }

 private:
  std::byte* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace ksdb::index

#endif  // KSDB_INDEX_GROWABLE_BUFFER_H_
