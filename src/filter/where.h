// Compiled `where` (metadata) and `where_document` filters (spec §6, plus the
// Chroma 1.5 array operators of §11).
//
// A filter is parsed once from JSON into an immutable tree, then evaluated per
// record. Parsing enforces depth and size limits and RE2 program-size caps, so a
// hostile filter gives InvalidArgument, never a crash or a runaway match.
// Filters are cheap to copy (shared immutable tree) and thread-safe to evaluate.
#ifndef KSDB_FILTER_WHERE_H_
#define KSDB_FILTER_WHERE_H_

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "core/metadata.h"

namespace simdjson::dom {
class element;
}

namespace ksdb::filter {

struct Limits {
  size_t max_depth = 32;          // nesting of $and/$or
  size_t max_nodes = 10'000;      // predicates plus operators
  size_t max_in_values = 100'000; // elements of one $in/$nin list
  size_t max_regex_length = 4096; // bytes of one pattern
  int64_t max_regex_program = 1 << 20;  // RE2 max_mem per compiled pattern
};

class Node;  // defined in filter/node.h

// A compiled metadata filter (`where`). Matching records with no metadata pass
// nullptr. Errors: InvalidArgument "Invalid where clause" for grammar errors.
class WhereFilter {
 public:
  static Result<WhereFilter> Parse(const simdjson::dom::element& json, const Limits& limits = {});
  static Result<WhereFilter> ParseJson(std::string_view json, const Limits& limits = {});

  // `document` may be null; it is consulted only by `#document` predicates.
  bool Matches(const Metadata* metadata, const std::string* document) const;

  // The compiled tree (filter/node.h), for planners such as MetadataIndex.
  const Node& root() const { return *root_; }

 private:
  explicit WhereFilter(std::shared_ptr<const Node> root) : root_(std::move(root)) {}
  std::shared_ptr<const Node> root_;
};

// A compiled document filter (`where_document`). Errors: InvalidArgument
// "Invalid where document clause", or the regex error text for bad patterns.
class DocumentFilter {
 public:
  static Result<DocumentFilter> Parse(const simdjson::dom::element& json, const Limits& limits = {});
  static Result<DocumentFilter> ParseJson(std::string_view json, const Limits& limits = {});

  // `document` is null for records without a document.
  bool Matches(const std::string* document) const;

 private:
  explicit DocumentFilter(std::shared_ptr<const Node> root) : root_(std::move(root)) {}
  std::shared_ptr<const Node> root_;
};

}  // namespace ksdb::filter

#endif  // KSDB_FILTER_WHERE_H_
