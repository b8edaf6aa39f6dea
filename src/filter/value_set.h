// ValueSet: the operand values of $eq/$ne/$in/$nin and of array $contains,
// prepared at parse time for allocation-free membership tests.
#ifndef KSDB_FILTER_VALUE_SET_H_
#define KSDB_FILTER_VALUE_SET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/metadata.h"

namespace ksdb::filter {

// A set of scalar values (bool, int64, double, string). Membership is exact:
// numbers compare as mathematical values across int64/double, strings never
// equal numbers, and bools are their own kind. Immutable after Finalize().
class ValueSet {
 public:
  void AddBool(bool v);
  void AddInt(int64_t v);
  // An integral double that fits int64 is stored as that int, so that lookups
  // of either kind need only one probe.
  void AddDouble(double v);
  void AddString(std::string v);
  // Sorts and removes duplicates; call once after the last Add*.
  void Finalize();

  size_t size() const;

  bool ContainsBool(bool v) const { return v ? has_true_ : has_false_; }
  bool ContainsInt(int64_t v) const;
  bool ContainsDouble(double v) const;
  bool ContainsString(const std::string& v) const;

  // Whether the scalar `value` is a member; false for array values.
  bool ContainsScalar(const MetadataValue& value) const;
  // Whether some element of the array `value` is a member; false for scalars.
  bool ContainsAnyElement(const MetadataValue& value) const;

  // The members, for planners that enumerate them (after Finalize(): sorted,
  // unique). An integral double in int64 range is listed in ints(), never in
  // doubles().
  bool has_true() const { return has_true_; }
  bool has_false() const { return has_false_; }
  const std::vector<int64_t>& ints() const { return ints_; }
  const std::vector<double>& doubles() const { return doubles_; }
  const std::vector<std::string>& strings() const { return strings_; }

 private:
  bool has_true_ = false;
  bool has_false_ = false;
  std::vector<int64_t> ints_;
  std::vector<double> doubles_;  // non-integral or outside the int64 range
  std::vector<std::string> strings_;
};

}  // namespace ksdb::filter

#endif  // KSDB_FILTER_VALUE_SET_H_
