#include "common/checksum.h"

#include <cstring>

namespace ksdb {
namespace {

constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kPrime3 = 0x165667B19E3779F9ULL;

uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t LoadWord(const unsigned char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  return w;
}

uint64_t Round(uint64_t lane, uint64_t word) { return Rotl(lane + word * kPrime2, 31) * kPrime1; }

}  // namespace

Checksum64::Checksum64()
    : lanes_{kPrime1 + kPrime2, kPrime2, 0, 0 - kPrime1} {}

void Checksum64::Block(const unsigned char* block) {
  for (int i = 0; i < 4; ++i)
    lanes_[i] = Round(lanes_[i], LoadWord(block + 8 * i));
}

void Checksum64::Update(const void* data, size_t size) {
  // memcpy needs a valid pointer even for 0 bytes, and empty arrays may hand us null.
  if (size == 0) return;
  const unsigned char* p = static_cast<const unsigned char*>(data);
  total_ += size;
  if (pending_size_ > 0) {
    const size_t take = size < 32 - pending_size_ ? size : 32 - pending_size_;
    std::memcpy(pending_ + pending_size_, p, take);
    pending_size_ += take;
    p += take;
    size -= take;
    if (pending_size_ < 32)
      return;
    Block(pending_);
    pending_size_ = 0;
  }
  for (; size >= 32; p += 32, size -= 32)
    Block(p);
  std::memcpy(pending_, p, size);
  pending_size_ = size;
}

uint64_t Checksum64::Finish() const {
  uint64_t h = Rotl(lanes_[0], 1) + Rotl(lanes_[1], 7) + Rotl(lanes_[2], 12) + Rotl(lanes_[3], 18);
  h ^= total_ * kPrime3;
  for (size_t i = 0; i < pending_size_; ++i)
    h = Rotl(h ^ (pending_[i] * kPrime1), 11) * kPrime2;
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  h *= kPrime3;
  h ^= h >> 32;
  return h;
}

}  // namespace ksdb
