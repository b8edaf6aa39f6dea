#include "filter/where.h"

#include <simdjson.h>

#include <string>

#include "filter/node.h"
#include "filter/parse.h"

namespace ksdb::filter {
namespace {

// Parses `json` text into a DOM owned by `parser`; syntax errors (and nesting
// beyond simdjson's own depth limit) become InvalidArgument "<clause_error>: ...".
Status ParseText(std::string_view json, std::string_view clause_error,
                 simdjson::dom::parser* parser, simdjson::dom::element* root) {
  const simdjson::error_code error = parser->parse(json.data(), json.size()).get(*root);
  if (error == simdjson::SUCCESS)
    return Status::Ok();
  std::string message(clause_error);
  message.append(": malformed JSON (").append(simdjson::error_message(error)).append(")");
  return Status::InvalidArgument(std::move(message));
}

}  // namespace

Result<WhereFilter> WhereFilter::Parse(const simdjson::dom::element& json, const Limits& limits) {
  KSDB_ASSIGN_OR_RETURN(NodePtr root, ParseWhereTree(json, limits));
  return WhereFilter(std::shared_ptr<const Node>(std::move(root)));
}

Result<WhereFilter> WhereFilter::ParseJson(std::string_view json, const Limits& limits) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  KSDB_RETURN_IF_ERROR(ParseText(json, "Invalid where clause", &parser, &root));
  return Parse(root, limits);
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
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  KSDB_RETURN_IF_ERROR(ParseText(json, "Invalid where document clause", &parser, &root));
  return Parse(root, limits);
}

bool DocumentFilter::Matches(const std::string* document) const {
  return root_->Matches(nullptr, document);
}

}  // namespace ksdb::filter
