#include "filter/parse.h"

#include <re2/re2.h>
#include <simdjson.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "filter/regex.h"

namespace ksdb::filter {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr std::string_view kDocumentKey = "#document";

// Which grammar a TreeParser accepts; the two differ only at predicate level.
enum class Grammar { kWhere, kDocument };

// The predicate operators, as spelled in JSON.
enum class Op {
  kEq,
  kNe,
  kGt,
  kGte,
  kLt,
  kLte,
  kIn,
  kNin,
  kContains,
  kNotContains,
  kRegex,
  kNotRegex,
  kUnknown,
};

Op ParseOp(std::string_view name) {
  static constexpr std::pair<std::string_view, Op> kOps[] = {
      {"$eq", Op::kEq},
      {"$ne", Op::kNe},
      {"$gt", Op::kGt},
      {"$gte", Op::kGte},
      {"$lt", Op::kLt},
      {"$lte", Op::kLte},
      {"$in", Op::kIn},
      {"$nin", Op::kNin},
      {"$contains", Op::kContains},
      {"$not_contains", Op::kNotContains},
      {"$regex", Op::kRegex},
      {"$not_regex", Op::kNotRegex},
  };
  for (const auto& [spelling, op] : kOps) {
    if (spelling == name)
      return op;
  }
  return Op::kUnknown;
}

bool IsDocumentOp(Op op) {
  return op == Op::kContains || op == Op::kNotContains || op == Op::kRegex || op == Op::kNotRegex;
}

bool IsScalar(element_type type) {
  return type == element_type::BOOL || type == element_type::INT64 ||
         type == element_type::DOUBLE || type == element_type::STRING;
}

// Whether a $in/$nin list whose first element has type `list_type` accepts an
// element of type `type`: ints widen to floats, nothing else converts.
bool ListAccepts(element_type list_type, element_type type) {
  if (list_type == element_type::DOUBLE) {
    return type == element_type::DOUBLE || type == element_type::INT64;
  }
  return type == list_type;
}

// Adds the scalar `json` to `set`; false if it is not a scalar (including
// integers above the int64 range, which simdjson types as UINT64).
bool AddScalar(const element& json, ValueSet* set) {
  switch (json.type()) {
    case element_type::BOOL: {
      bool v = false;
      if (json.get_bool().get(v) != simdjson::SUCCESS)
        return false;
      set->AddBool(v);
      return true;
    }
    case element_type::INT64: {
      int64_t v = 0;
      if (json.get_int64().get(v) != simdjson::SUCCESS)
        return false;
      set->AddInt(v);
      return true;
    }
    case element_type::DOUBLE: {
      double v = 0.0;
      if (json.get_double().get(v) != simdjson::SUCCESS)
        return false;
      set->AddDouble(v);
      return true;
    }
    case element_type::STRING: {
      std::string_view v;
      if (json.get_string().get(v) != simdjson::SUCCESS)
        return false;
      set->AddString(std::string(v));
      return true;
    }
    default:
      return false;
  }
}

// Compiles one clause tree; holds the limits and the running node count.
class TreeParser {
 public:
  TreeParser(Grammar grammar, const Limits& limits) : grammar_(grammar), limits_(limits) {}

  Result<NodePtr> Parse(const element& json) { return ParseClause(json, 0); }

 private:
  // `depth` is the number of $and/$or operators enclosing `json`.
  Result<NodePtr> ParseClause(const element& json, size_t depth);
  Result<NodePtr> ParseComposite(bool is_and, const element& operands, size_t depth);
  Result<NodePtr> ParseDocumentPredicate(std::string_view op_name, const element& operand,
                                         std::string_view regex_context);
  Result<NodePtr> ParseFieldPredicate(std::string_view key, const element& value);
  Result<NodePtr> ParseFieldOperator(std::string key, Op op, const element& operand);
  Result<NodePtr> ParseRange(std::string key, Op op, const element& operand);
  Result<NodePtr> ParseInList(std::string key, bool negate, const element& operand);
  Result<NodePtr> ParseSingleValue(std::string key, Op op, const element& operand);

  // Splits a one-key object into its key and value; grammar error otherwise.
  Status SingleEntry(const element& json, std::string_view* key, element* value) const;
  Status CountNode();
  Status Invalid() const { return Status::InvalidArgument(std::string(ClauseError())); }
  Status LimitExceeded(const std::string& detail) const {
    return Status::InvalidArgument(std::string(ClauseError()) + ": " + detail);
  }
  std::string_view ClauseError() const {
    return grammar_ == Grammar::kWhere ? "Invalid where clause" : "Invalid where document clause";
  }

  Grammar grammar_;
  const Limits& limits_;
  size_t node_count_ = 0;
};

Status TreeParser::SingleEntry(const element& json, std::string_view* key, element* value) const {
  simdjson::dom::object object;
  if (json.get_object().get(object) != simdjson::SUCCESS)
    return Invalid();
  auto it = object.begin();
  if (!(it != object.end()))
    return Invalid();
  *key = it.key();
  *value = it.value();
  ++it;
  // There is no implicit AND: a second key is a grammar error.
  if (it != object.end())
    return Invalid();
  return Status::Ok();
}

Status TreeParser::CountNode() {
  if (++node_count_ > limits_.max_nodes) {
    return LimitExceeded("more than " + std::to_string(limits_.max_nodes) +
                         " operators and predicates (max_nodes)");
  }
  return Status::Ok();
}

Result<NodePtr> TreeParser::ParseClause(const element& json, size_t depth) {
  KSDB_RETURN_IF_ERROR(CountNode());
  std::string_view key;
  element value;
  KSDB_RETURN_IF_ERROR(SingleEntry(json, &key, &value));
  if (key == "$and" || key == "$or")
    return ParseComposite(key == "$and", value, depth);
  if (grammar_ == Grammar::kDocument) {
    return ParseDocumentPredicate(key, value, "where_document");
  }
  return ParseFieldPredicate(key, value);
}

Result<NodePtr> TreeParser::ParseComposite(bool is_and, const element& operands, size_t depth) {
  if (depth + 1 > limits_.max_depth) {
    return LimitExceeded("$and/$or nested deeper than " + std::to_string(limits_.max_depth) +
                         " levels (max_depth)");
  }
  simdjson::dom::array array;
  if (operands.get_array().get(array) != simdjson::SUCCESS)
    return Invalid();
  std::vector<NodePtr> children;
  for (element child : array) {
    KSDB_ASSIGN_OR_RETURN(NodePtr node, ParseClause(child, depth + 1));
    children.push_back(std::move(node));
  }
  if (is_and)
    return NodePtr(std::make_unique<AndNode>(std::move(children)));
  return NodePtr(std::make_unique<OrNode>(std::move(children)));
}

Result<NodePtr> TreeParser::ParseDocumentPredicate(std::string_view op_name, const element& operand,
                                                   std::string_view regex_context) {
  const Op op = ParseOp(op_name);
  std::string_view text;
  if (!IsDocumentOp(op) || operand.get_string().get(text) != simdjson::SUCCESS)
    return Invalid();
  if (op == Op::kContains || op == Op::kNotContains) {
    return NodePtr(
        std::make_unique<DocumentContainsNode>(std::string(text), op == Op::kNotContains));
  }
  KSDB_ASSIGN_OR_RETURN(std::unique_ptr<const re2::RE2> regex,
                        CompileRegex(text, limits_, regex_context));
  return NodePtr(std::make_unique<DocumentRegexNode>(std::move(regex), op == Op::kNotRegex));
}

Result<NodePtr> TreeParser::ParseFieldPredicate(std::string_view key, const element& value) {
  if (value.type() != element_type::OBJECT) {
    // `{key: literal}` is shorthand for $eq.
    return ParseSingleValue(std::string(key), Op::kEq, value);
  }
  std::string_view op_name;
  element operand;
  KSDB_RETURN_IF_ERROR(SingleEntry(value, &op_name, &operand));
  const Op op = ParseOp(op_name);
  if (key == kDocumentKey && IsDocumentOp(op)) {
    return ParseDocumentPredicate(op_name, operand, "where");
  }
  // Any other key, `$`-prefixed or `#document` with a metadata operator, is a
  // plain metadata key name, as in Chroma 1.0.x.
  return ParseFieldOperator(std::string(key), op, operand);
}

Result<NodePtr> TreeParser::ParseFieldOperator(std::string key, Op op, const element& operand) {
  switch (op) {
    case Op::kEq:
    case Op::kNe:
    case Op::kContains:
    case Op::kNotContains:
      return ParseSingleValue(std::move(key), op, operand);
    case Op::kGt:
    case Op::kGte:
    case Op::kLt:
    case Op::kLte:
      return ParseRange(std::move(key), op, operand);
    case Op::kIn:
    case Op::kNin:
      return ParseInList(std::move(key), op == Op::kNin, operand);
    default:
      return Invalid();
  }
}

Result<NodePtr> TreeParser::ParseSingleValue(std::string key, Op op, const element& operand) {
  ValueSet values;
  if (!AddScalar(operand, &values))
    return Invalid();
  values.Finalize();
  if (op == Op::kContains || op == Op::kNotContains) {
    return NodePtr(std::make_unique<ArrayContainsNode>(std::move(key), std::move(values),
                                                       op == Op::kNotContains));
  }
  return NodePtr(
      std::make_unique<MembershipNode>(std::move(key), std::move(values), op == Op::kNe));
}

Result<NodePtr> TreeParser::ParseRange(std::string key, Op op, const element& operand) {
  Number number;
  if (operand.type() == element_type::INT64) {
    if (operand.get_int64().get(number.int_value) != simdjson::SUCCESS)
      return Invalid();
  } else if (operand.type() == element_type::DOUBLE) {
    number.is_int = false;
    if (operand.get_double().get(number.double_value) != simdjson::SUCCESS)
      return Invalid();
  } else {
    // No string ordering, and bools are not numbers.
    return Invalid();
  }
  const RangeOp range_op = op == Op::kGt    ? RangeOp::kGt
                           : op == Op::kGte ? RangeOp::kGte
                           : op == Op::kLt  ? RangeOp::kLt
                                            : RangeOp::kLte;
  return NodePtr(std::make_unique<RangeNode>(std::move(key), range_op, number));
}

Result<NodePtr> TreeParser::ParseInList(std::string key, bool negate, const element& operand) {
  simdjson::dom::array array;
  if (operand.get_array().get(array) != simdjson::SUCCESS)
    return Invalid();
  auto it = array.begin();
  if (!(it != array.end()))
    return Invalid();
  // The first element decides the kind of the whole list. In a float list the
  // int elements stay ints rather than being rounded to doubles: identical for
  // |n| <= 2^53 and exact beyond it.
  const element_type list_type = (*it).type();
  if (!IsScalar(list_type))
    return Invalid();
  ValueSet values;
  size_t count = 0;
  for (; it != array.end(); ++it) {
    if (++count > limits_.max_in_values) {
      return LimitExceeded("$in/$nin list longer than " + std::to_string(limits_.max_in_values) +
                           " values (max_in_values)");
    }
    const element value = *it;
    if (!ListAccepts(list_type, value.type()) || !AddScalar(value, &values))
      return Invalid();
  }
  values.Finalize();
  return NodePtr(std::make_unique<MembershipNode>(std::move(key), std::move(values), negate));
}

}  // namespace

Result<NodePtr> ParseWhereTree(const element& json, const Limits& limits) {
  return TreeParser(Grammar::kWhere, limits).Parse(json);
}

Result<NodePtr> ParseDocumentTree(const element& json, const Limits& limits) {
  return TreeParser(Grammar::kDocument, limits).Parse(json);
}

}  // namespace ksdb::filter
