// GrowableBuffer: growth keeps the bytes written so far and adds zeros,
// Populate faults pages in without changing them, an impossible size fails
// without touching the buffer, and moves hand over ownership.
#include "index/growable_buffer.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "index/huge_pages.h"

namespace ksdb::index {
namespace {

void Fill(GrowableBuffer& buffer, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i)
    buffer.data()[i] = static_cast<std::byte>(i * 7 + 3);
}

bool HoldsFill(const GrowableBuffer& buffer, size_t to) {
  for (size_t i = 0; i < to; ++i) {
    if (buffer.data()[i] != static_cast<std::byte>(i * 7 + 3))
      return false;
  }
  return true;
}

bool ZeroFrom(const GrowableBuffer& buffer, size_t from) {
  for (size_t i = from; i < buffer.size(); ++i) {
    if (buffer.data()[i] != std::byte{0})
      return false;
  }
  return true;
}

TEST(GrowableBufferTest, GrowthKeepsTheBytesAndAddsZeros) {
  GrowableBuffer buffer;
  EXPECT_FALSE(buffer);
  ASSERT_TRUE(buffer.GrowTo(1000));
  EXPECT_GE(buffer.size(), 1000u);
  EXPECT_TRUE(ZeroFrom(buffer, 0));
  // Starts on a huge page boundary, so the kernel can back it with huge pages.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer.data()) % kHugePageBytes, 0u);
  Fill(buffer, 0, 1000);
  size_t written = 1000;
  for (size_t bytes : {size_t{5000}, size_t{3} << 20, size_t{9} << 20, size_t{40} << 20}) {
    // Before the 9 MiB step, a mapping right after the buffer: growing in
    // place is impossible, so the mapping has to move.
    void* blocker = nullptr;
    if (bytes == (size_t{9} << 20)) {
      blocker = ::mmap(buffer.data() + buffer.size(), 4096, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
      ASSERT_NE(blocker, MAP_FAILED);
    }
    std::byte* before = buffer.data();
    ASSERT_TRUE(buffer.GrowTo(bytes)) << bytes;
    if (blocker != nullptr) {
      EXPECT_NE(buffer.data(), before);
      ::munmap(blocker, 4096);
    }
    ASSERT_GE(buffer.size(), bytes);
    EXPECT_TRUE(HoldsFill(buffer, written)) << bytes;
    EXPECT_TRUE(ZeroFrom(buffer, written)) << bytes;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer.data()) % kHugePageBytes, 0u) << bytes;
    Fill(buffer, written, bytes);
    written = bytes;
  }
  // Never shrinks.
  const size_t size = buffer.size();
  ASSERT_TRUE(buffer.GrowTo(10));
  EXPECT_EQ(buffer.size(), size);
  EXPECT_TRUE(HoldsFill(buffer, written));
}

// How many of the small pages of [offset, offset + bytes) are resident.
size_t ResidentPages(const GrowableBuffer& buffer, size_t offset, size_t bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident(bytes / page);
  EXPECT_EQ(mincore(buffer.data() + offset, bytes, resident.data()), 0);
  size_t count = 0;
  for (unsigned char r : resident)
    count += r & 1;
  return count;
}

TEST(GrowableBufferTest, PopulateFaultsInTheRangeAndKeepsItsBytes) {
  GrowableBuffer buffer;
  const size_t mib = size_t{1} << 20;
  ASSERT_TRUE(buffer.GrowTo(8 * mib));
  Fill(buffer, 0, 1000);
  const size_t pages_per_mib = mib / static_cast<size_t>(sysconf(_SC_PAGESIZE));
  EXPECT_EQ(ResidentPages(buffer, 4 * mib, 4 * mib), 0u);
  // From the written bytes into the untouched range, unaligned at both ends.
  if (!buffer.Populate(500, 6 * mib + 123))
    GTEST_SKIP() << "MADV_POPULATE_WRITE is not supported by this kernel";
  EXPECT_EQ(ResidentPages(buffer, 4 * mib, 2 * mib), 2 * pages_per_mib);
  EXPECT_TRUE(HoldsFill(buffer, 1000));
  EXPECT_TRUE(ZeroFrom(buffer, 1000));
  // Clamped to the buffer; an empty or outside range does nothing.
  EXPECT_TRUE(buffer.Populate(7 * mib, 4 * mib));
  EXPECT_TRUE(buffer.Populate(9 * mib, mib));
  EXPECT_TRUE(buffer.Populate(0, 0));
  EXPECT_EQ(ResidentPages(buffer, 7 * mib, mib), pages_per_mib);
}

TEST(GrowableBufferTest, ImpossibleGrowthFailsAndChangesNothing) {
  GrowableBuffer buffer;
  ASSERT_TRUE(buffer.GrowTo(8192));
  Fill(buffer, 0, 8192);
  std::byte* data = buffer.data();
  EXPECT_FALSE(buffer.GrowTo(size_t{1} << 62));
  EXPECT_EQ(buffer.data(), data);
  EXPECT_EQ(buffer.size(), 8192u);
  EXPECT_TRUE(HoldsFill(buffer, 8192));
}

TEST(GrowableBufferTest, MovesHandOverTheMapping) {
  GrowableBuffer a;
  ASSERT_TRUE(a.GrowTo(4096));
  Fill(a, 0, 4096);
  GrowableBuffer b(std::move(a));
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  EXPECT_TRUE(HoldsFill(b, 4096));
  GrowableBuffer c;
  ASSERT_TRUE(c.GrowTo(100));
  c = std::move(b);
  EXPECT_TRUE(HoldsFill(c, 4096));
  c.Reset();
  EXPECT_FALSE(c);
  EXPECT_EQ(c.size(), 0u);
}

}  // namespace
}  // namespace ksdb::index
