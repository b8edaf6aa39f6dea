// BackgroundIndexer: the linking thread runs at the lowest CPU priority, so
// requests (and their clients) go first; the caller's priority is untouched.
#include "db/background_indexer.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <vector>

namespace ksdb::db {
namespace {

int NiceOfThisThread() {
  return getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
}

TEST(BackgroundIndexerTest, LinksAtTheLowestPriority) {
  const int caller_nice = NiceOfThisThread();
  std::promise<int> seen;
  std::future<int> indexer_nice = seen.get_future();
  bool reported = false;  // touched only by the indexer thread
  BackgroundIndexer indexer(
      [&] {
        if (!reported) {
          reported = true;
          seen.set_value(NiceOfThisThread());
        }
        return std::vector<std::shared_ptr<Collection>>();
      },
      std::chrono::milliseconds(1));
  indexer.Notify();
  ASSERT_EQ(indexer_nice.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(indexer_nice.get(), 19);
  EXPECT_EQ(NiceOfThisThread(), caller_nice);
}

}  // namespace
}  // namespace ksdb::db
