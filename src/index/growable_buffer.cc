#include "index/growable_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "index/huge_pages.h"

namespace ksdb::index {
namespace {

// The mapping's size for `bytes`: whole pages, and whole huge pages from one
// huge page up. Huge page advice then covers the whole mapping: advising
// part of it would split it into several kernel mappings, which mremap
// refuses to grow or move.
size_t MappingBytes(size_t bytes) {
  const size_t page =
      bytes >= kHugePageBytes ? kHugePageBytes : static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}

// `bytes` of address space starting on a huge page boundary, reserved (no
// access, no memory behind it) for a mapping to be placed over; null when
// the address space is exhausted.
void* ReserveAligned(size_t bytes) {
  const size_t span = bytes + kHugePageBytes;
  void* raw = ::mmap(nullptr, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED)
    return nullptr;
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePageBytes - 1) & ~(uintptr_t{kHugePageBytes} - 1);
  const uintptr_t end = aligned + bytes;
  if (aligned > start)
    ::munmap(raw, aligned - start);
  if (start + span > end)
    ::munmap(reinterpret_cast<void*>(end), start + span - end);
  return reinterpret_cast<void*>(aligned);
}

}  // namespace

GrowableBuffer::~GrowableBuffer() {
  Reset();
}

GrowableBuffer::GrowableBuffer(GrowableBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

GrowableBuffer& GrowableBuffer::operator=(GrowableBuffer&& other) noexcept {
  if (this != &other) {
    Reset();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void GrowableBuffer::Reset() {
  if (data_ != nullptr)
    ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

bool GrowableBuffer::Populate(size_t offset, size_t bytes) const {
  if (offset >= size_ || bytes == 0)
    return true;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t begin = offset / page * page;
  // size_ is whole pages, so rounding up stays inside the buffer.
  const size_t end = (offset + std::min(bytes, size_ - offset) + page - 1) / page * page;
  return ::madvise(data_ + begin, end - begin, MADV_POPULATE_WRITE) == 0;
}

bool GrowableBuffer::GrowTo(size_t bytes) {
  if (bytes <= size_)
    return true;
  const size_t size = MappingBytes(bytes);
  void* grown = MAP_FAILED;
  // In place when the address space after the mapping is free: nothing moves.
  if (data_ != nullptr)
    grown = ::mremap(data_, size_, size, 0);
  if (grown == MAP_FAILED) {
    void* target = ReserveAligned(size);
    if (target == nullptr)
      return false;
    // Both calls replace the reservation at `target`; mremap moves the old
    // pages' table entries there and extends them with zero pages.
    grown = data_ == nullptr ? ::mmap(target, size, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
                             : ::mremap(data_, size_, size, MREMAP_MAYMOVE | MREMAP_FIXED, target);
    if (grown == MAP_FAILED) {
      ::munmap(target, size);
      return false;
    }
  }
  data_ = static_cast<std::byte*>(grown);
  size_ = size;
  // Before the new pages are first written, so they fault in huge. Smaller
  // buffers stay on small pages: one huge page would be mostly unused.
  if (size_ >= kHugePageBytes)
    AdviseHugePages(data_, size_);
  return true;
}

}  // namespace ksdb::index
