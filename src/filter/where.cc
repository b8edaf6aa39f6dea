#include "filter/where.h"

#include <simdjson.h>

#include <string>

#include "filter/node.h"
#include "filter/parse.h"

namespace ksdb::filter {
namespace {

// Parses `json` text and compiles it with `Filter::Parse`; syntax errors (and
// nesting beyond simdjson's own depth limit) become InvalidArgument
// "<clause_error>: malformed JSON (...)".
template <typename Filter>
Result<Filter> ParseJsonAs(std::string_view json, std::string_view clause_error,
                           const Limits& limits) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const simdjson::error_code error = parser.parse(json.data(), json.size()).get(root);
  if (error != simdjson::SUCCESS) {
    std::string message(clause_error);
    message.append(": malformed JSON (").append(simdjson::error_message(error)).append(")");
    return Status::InvalidArgument(std::move(message));
  }
  return Filter::Parse(root, limits);
}

}  // namespace

Result<WhereFilter> WhereFilter::Parse(const simdjson::dom::element& json, const Limits& limits) {
  KSDB_ASSIGN_OR_RETURN(NodePtr root, ParseWhereTree(json, limits));
  return WhereFilter(std::shared_ptr<const Node>(std::move(root)));
}

Result<WhereFilter> WhereFilter::ParseJson(std::string_view json, const Limits& limits) {
  return ParseJsonAs<WhereFilter>(json, "Invalid where clause", limits);
}

bool WhereFilter::Matches(const Metadata* metadata, const std::string* document) const {
  return root_->Matches(metadata, document);
}

Result<DocumentFilter> DocumentFilter::Parse(const simdjson::dom::element& json,
                                             const Limits& limits) {
  KSDB_ASSIGN_OR_RETURN(NodePtr root, ParseDocumentTree(json, limits));
  return DocumentFilter(std::shared_ptr<const Node>(std::move(root)));
}

Result<DocumentFilter> DocumentFilter::ParseJson(std::string_view json, const Limits& limits) {
  return ParseJsonAs<DocumentFilter>(json, "Invalid where document clause", limits);
}

bool DocumentFilter::Matches(const std::string* document) const {
  return root_->Matches(nullptr, document);
}

}  // namespace ksdb::filter
