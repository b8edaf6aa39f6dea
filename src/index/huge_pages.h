// AdviseHugePages: asks the kernel to back a large buffer with transparent
// huge pages (2 MiB) where it can.
//
// A graph search touches a few hundred nodes scattered over the whole index,
// so with 4 KiB pages nearly every node visit also misses the TLB and walks
// the page tables; measured on glove-100-angular (148k x 100, ~80 MB of node
// blocks), huge pages raised single-thread HNSW queries/s by ~1.2x (ef 96,
// bench/ann/search_dev.cc). Debian's default THP mode is "madvise": only
// ranges advised like this get them.
#ifndef KSDB_INDEX_HUGE_PAGES_H_
#define KSDB_INDEX_HUGE_PAGES_H_

#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace ksdb::index {

// Size and alignment of a transparent huge page on x86-64 Linux.
inline constexpr size_t kHugePageBytes = size_t{2} << 20;

// The whole huge pages inside [data, data + bytes): {first byte, length};
// length 0 when the range holds none.
struct HugePageRange {
  uintptr_t begin = 0;
  size_t bytes = 0;
};
inline HugePageRange WholeHugePages(const void* data, size_t bytes) {
  const uintptr_t start = reinterpret_cast<uintptr_t>(data);
  const uintptr_t end = start + bytes;
  const uintptr_t first = (start + kHugePageBytes - 1) & ~(uintptr_t{kHugePageBytes} - 1);
  const uintptr_t last = end & ~(uintptr_t{kHugePageBytes} - 1);
  if (last <= first)
    return {};
  return {first, static_cast<size_t>(last - first)};
}

// Advises huge pages for the whole 2 MiB pages inside [data, data + bytes).
// Call before the memory is first written (the kernel then faults it in as
// huge pages). A hint only: returns whether the kernel accepted it, and
// failure changes nothing else.
inline bool AdviseHugePages(void* data, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const HugePageRange range = WholeHugePages(data, bytes);
  if (range.bytes == 0)
    return false;
  return madvise(reinterpret_cast<void*>(range.begin), range.bytes, MADV_HUGEPAGE) == 0;
#else
  (void)data;
  (void)bytes;
  return false;
#endif
}

}  // namespace ksdb::index

#endif  // KSDB_INDEX_HUGE_PAGES_H_
