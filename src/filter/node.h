// The compiled filter tree shared by WhereFilter and DocumentFilter (private to
// filter/). Nodes are immutable after construction and evaluate without
// allocating, so one tree can be shared by many threads.
#ifndef KSDB_FILTER_NODE_H_
#define KSDB_FILTER_NODE_H_

#include <memory>
#include <string>
#include <vector>

#include "core/metadata.h"
#include "filter/numeric.h"
#include "filter/value_set.h"

namespace re2 {
class RE2;
}

namespace ksdb::filter {

class AndNode;
class OrNode;
class MembershipNode;
class RangeNode;
class ArrayContainsNode;
class DocumentContainsNode;
class DocumentRegexNode;

// Read-only double dispatch over a compiled tree, for components that plan from
// a filter's structure (e.g. MetadataIndex) rather than evaluate it per record.
class NodeVisitor {
 public:
  virtual ~NodeVisitor() = default;
  virtual void Visit(const AndNode& node) = 0;
  virtual void Visit(const OrNode& node) = 0;
  virtual void Visit(const MembershipNode& node) = 0;
  virtual void Visit(const RangeNode& node) = 0;
  virtual void Visit(const ArrayContainsNode& node) = 0;
  virtual void Visit(const DocumentContainsNode& node) = 0;
  virtual void Visit(const DocumentRegexNode& node) = 0;
};

// One predicate or boolean operator. `metadata` is null for records without
// metadata and `document` is null for records without a document.
class Node {
 public:
  virtual ~Node() = default;
  virtual bool Matches(const Metadata* metadata, const std::string* document) const = 0;
  // Calls the `visitor` overload for this node's concrete type (children are
  // not visited; the visitor recurses through children() if it wants to).
  virtual void Accept(NodeVisitor& visitor) const = 0;
};

using NodePtr = std::unique_ptr<const Node>;

// $and: true when every child matches (so an empty $and matches everything).
class AndNode final : public Node {
 public:
  explicit AndNode(std::vector<NodePtr> children) : children_(std::move(children)) {}
  bool Matches(const Metadata* metadata, const std::string* document) const override;

  void Accept(NodeVisitor& visitor) const override { visitor.Visit(*this); }
  const std::vector<NodePtr>& children() const { return children_; }

 private:
  std::vector<NodePtr> children_;
};

// $or: true when some child matches (so an empty $or matches nothing).
class OrNode final : public Node {
 public:
  explicit OrNode(std::vector<NodePtr> children) : children_(std::move(children)) {}
  bool Matches(const Metadata* metadata, const std::string* document) const override;

  void Accept(NodeVisitor& visitor) const override { visitor.Visit(*this); }
  const std::vector<NodePtr>& children() const { return children_; }

 private:
  std::vector<NodePtr> children_;
};

// $eq/$in (negate=false) and $ne/$nin (negate=true) on a metadata key. A missing
// key, a value of another kind, or an array value is "not a member", so $ne/$nin
// match it. Array values are deliberately never equal to a scalar operand: the
// array operators are $contains/$not_contains (Chroma 1.5 semantics).
class MembershipNode final : public Node {
 public:
  MembershipNode(std::string key, ValueSet values, bool negate)
      : key_(std::move(key)), values_(std::move(values)), negate_(negate) {}
  bool Matches(const Metadata* metadata, const std::string* document) const override;

  void Accept(NodeVisitor& visitor) const override { visitor.Visit(*this); }
  const std::string& key() const { return key_; }
  const ValueSet& values() const { return values_; }
  bool negate() const { return negate_; }

 private:
  std::string key_;
  ValueSet values_;
  bool negate_;
};

enum class RangeOp { kGt, kGte, kLt, kLte };

// $gt/$gte/$lt/$lte on a metadata key. Only int64 and double stored values can
// match; missing keys, other kinds and arrays never do.
class RangeNode final : public Node {
 public:
  RangeNode(std::string key, RangeOp op, Number operand)
      : key_(std::move(key)), op_(op), operand_(operand) {}
  bool Matches(const Metadata* metadata, const std::string* document) const override;

  void Accept(NodeVisitor& visitor) const override { visitor.Visit(*this); }
  const std::string& key() const { return key_; }
  RangeOp op() const { return op_; }
  const Number& operand() const { return operand_; }

 private:
  std::string key_;
  RangeOp op_;
  Number operand_;
};

// $contains (negate=false) / $not_contains (negate=true) on an array-valued
// metadata key: true when some element equals the operand. A scalar stored value
// or a missing key does not contain it, so $not_contains matches those.
class ArrayContainsNode final : public Node {
 public:
  ArrayContainsNode(std::string key, ValueSet operand, bool negate)
      : key_(std::move(key)), operand_(std::move(operand)), negate_(negate) {}
  bool Matches(const Metadata* metadata, const std::string* document) const override;

  void Accept(NodeVisitor& visitor) const override { visitor.Visit(*this); }
  const std::string& key() const { return key_; }
  const ValueSet& operand() const { return operand_; }
  bool negate() const { return negate_; }

 private:
  std::string key_;
  ValueSet operand_;
  bool negate_;
};

// Case-sensitive substring test on the raw document bytes. A null document does
// not contain anything (not even ""), so the negated form matches it.
class DocumentContainsNode final : public Node {
 public:
  DocumentContainsNode(std::string needle, bool negate)
      : needle_(std::move(needle)), negate_(negate) {}
  bool Matches(const Metadata* metadata, const std::string* document) const override;

  void Accept(NodeVisitor& visitor) const override { visitor.Visit(*this); }

 private:
  std::string needle_;
  bool negate_;
};

// Unanchored RE2 search on the document. A null document never matches, so the
// negated form matches it.
class DocumentRegexNode final : public Node {
 public:
  DocumentRegexNode(std::unique_ptr<const re2::RE2> regex, bool negate);
  ~DocumentRegexNode() override;
  bool Matches(const Metadata* metadata, const std::string* document) const override;

  void Accept(NodeVisitor& visitor) const override { visitor.Visit(*this); }

 private:
  std::unique_ptr<const re2::RE2> regex_;
  bool negate_;
};

}  // namespace ksdb::filter

#endif  // KSDB_FILTER_NODE_H_
