#include "filter/node.h"

#include <re2/re2.h>

#include <string_view>
#include <type_traits>
#include <variant>

namespace ksdb::filter {
namespace {

const MetadataValue* Lookup(const Metadata* metadata, const std::string& key) {
  return metadata == nullptr ? nullptr : metadata->Find(key);
}

bool InRange(std::partial_ordering order, RangeOp op) {
  switch (op) {
    case RangeOp::kGt:
      return order > 0;
    case RangeOp::kGte:
      return order >= 0;
    case RangeOp::kLt:
      return order < 0;
    case RangeOp::kLte:
      return order <= 0;
  }
  return false;
}

}  // namespace

bool AndNode::Matches(const Metadata* metadata, const std::string* document) const {
  for (const NodePtr& child : children_) {
    if (!child->Matches(metadata, document))
      return false;
  }
  return true;
}

bool OrNode::Matches(const Metadata* metadata, const std::string* document) const {
  for (const NodePtr& child : children_) {
    if (child->Matches(metadata, document))
      return true;
  }
  return false;
}

bool MembershipNode::Matches(const Metadata* metadata, const std::string* /*document*/) const {
  const MetadataValue* value = Lookup(metadata, key_);
  const bool member = value != nullptr && values_.ContainsScalar(*value);
  return member != negate_;
}

bool RangeNode::Matches(const Metadata* metadata, const std::string* /*document*/) const {
  const MetadataValue* value = Lookup(metadata, key_);
  if (value == nullptr)
    return false;
  if (const int64_t* i = std::get_if<int64_t>(value)) {
    return InRange(CompareNumber(*i, operand_), op_);
  }
  if (const double* d = std::get_if<double>(value)) {
    return InRange(CompareNumber(*d, operand_), op_);
  }
  return false;
}

bool ArrayContainsNode::Matches(const Metadata* metadata, const std::string* /*document*/) const {
  const MetadataValue* value = Lookup(metadata, key_);
  const bool contains = value != nullptr && operand_.ContainsAnyElement(*value);
  return contains != negate_;
}

bool DocumentContainsNode::Matches(const Metadata* /*metadata*/,
                                   const std::string* document) const {
  const bool contains =
      document != nullptr && std::string_view(*document).find(needle_) != std::string_view::npos;
  return contains != negate_;
}

DocumentRegexNode::DocumentRegexNode(std::unique_ptr<const re2::RE2> regex, bool negate)
    : regex_(std::move(regex)), negate_(negate) {}

DocumentRegexNode::~DocumentRegexNode() = default;

bool DocumentRegexNode::Matches(const Metadata* /*metadata*/, const std::string* document) const {
  const bool found = document != nullptr && re2::RE2::PartialMatch(*document, *regex_);
  return found != negate_;
}

}  // namespace ksdb::filter
