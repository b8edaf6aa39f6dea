#include "ann/ann_runner.h"

#include <memory>
#include <utility>
#include <vector>

namespace ksdb::bench {

AllowedSet AllowedSet::FromIds(std::vector<uint32_t> ids, size_t num_base, double selectivity) {
  AllowedSet set;
  set.selectivity = selectivity;
  set.bitmap = std::make_unique<BitmapIdFilter>(num_base);
  set.bytes.assign((num_base + 7) / 8, 0);
  for (uint32_t id : ids) {
    set.bitmap->Add(id);
    set.bytes[id >> 3] |= static_cast<uint8_t>(1u << (id & 7));
  }
  set.ids = std::move(ids);
  return set;
}

}  // namespace ksdb::bench
