// Checksum64: a fast streaming 64-bit checksum for detecting damaged files
// (snapshots). Not cryptographic: it catches truncation, bit flips and torn
// writes, not deliberate forgery.
//
// Four independent multiply-rotate lanes over 8-byte words keep the CPU's
// multipliers busy (several GB/s); the result depends only on the byte
// sequence, not on how it was split into Update calls.
#ifndef KSDB_COMMON_CHECKSUM_H_
#define KSDB_COMMON_CHECKSUM_H_

#include <cstddef>
#include <cstdint>

namespace ksdb {

class Checksum64 {
 public:
  Checksum64();
  void Update(const void* data, size_t size);
  // The checksum of everything passed to Update so far.
  uint64_t Finish() const;

 private:
  void Block(const unsigned char* block);

  uint64_t lanes_[4];
  unsigned char pending_[32];
  size_t pending_size_ = 0;
  uint64_t total_ = 0;
};

}  // namespace ksdb

#endif  // KSDB_COMMON_CHECKSUM_H_
