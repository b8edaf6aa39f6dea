// Shared helpers for the filter unit tests.
#ifndef KSDB_TESTS_UNIT_FILTER_FILTER_TEST_UTIL_H_
#define KSDB_TESTS_UNIT_FILTER_FILTER_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/metadata.h"
#include "filter/where.h"

namespace ksdb::filter::testing {

// A record as the filters see it: an id, optional metadata, optional document.
struct TestRecord {
  std::string id;
  std::optional<Metadata> metadata;
  std::optional<std::string> document;
};

// Ids of `records` matched by `filter`, in order.
template <typename Filter>
std::vector<std::string> MatchingIds(const Filter& filter, const std::vector<TestRecord>& records) {
  std::vector<std::string> ids;
  for (const TestRecord& record : records) {
    const std::string* document = record.document ? &*record.document : nullptr;
    bool matched = false;
    if constexpr (std::is_same_v<Filter, DocumentFilter>) {
      matched = filter.Matches(document);
    } else {
      matched = filter.Matches(record.metadata ? &*record.metadata : nullptr, document);
    }
    if (matched)
      ids.push_back(record.id);
  }
  return ids;
}

// Every id of `records`, in order.
inline std::vector<std::string> AllIds(const std::vector<TestRecord>& records) {
  std::vector<std::string> ids;
  for (const TestRecord& record : records)
    ids.push_back(record.id);
  return ids;
}

// Metadata with the single entry `key: value`.
inline Metadata One(std::string key, MetadataValue value) {
  return Metadata({{std::move(key), std::move(value)}});
}

}  // namespace ksdb::filter::testing

#endif  // KSDB_TESTS_UNIT_FILTER_FILTER_TEST_UTIL_H_
