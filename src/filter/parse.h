// JSON -> filter tree compilation (private to filter/).
#ifndef KSDB_FILTER_PARSE_H_
#define KSDB_FILTER_PARSE_H_

#include "common/result.h"
#include "filter/node.h"
#include "filter/where.h"

namespace ksdb::filter {

// Compiles a `where` clause (spec §6.1 grammar plus the §11 array and
// `#document` predicates). Recursion is bounded by limits.max_depth, checked
// before descending. Errors: InvalidArgument "Invalid where clause[: detail]",
// or "Invalid regex in where: ..." for a `#document` regex.
Result<NodePtr> ParseWhereTree(const simdjson::dom::element& json, const Limits& limits);

// Compiles a `where_document` clause (spec §6.3). Errors: InvalidArgument
// "Invalid where document clause[: detail]" or "Invalid regex in where_document: ...".
Result<NodePtr> ParseDocumentTree(const simdjson::dom::element& json, const Limits& limits);

}  // namespace ksdb::filter

#endif  // KSDB_FILTER_PARSE_H_
