#include "filter/value_set.h"

#include <algorithm>
#include <type_traits>
#include <variant>

#include "filter/numeric.h"

namespace ksdb::filter {
namespace {

template <typename T>
void SortUnique(std::vector<T>* values) {
  std::sort(values->begin(), values->end());
  values->erase(std::unique(values->begin(), values->end()), values->end());
  values->shrink_to_fit();
}

template <typename T>
constexpr bool kIsVector = false;
template <typename T>
constexpr bool kIsVector<std::vector<T>> = true;

// Membership of one scalar of a MetadataValue kind: the single place that maps
// each kind to its lookup, shared by scalar values and array elements.
template <typename T>
bool ContainsOne(const ValueSet& set, const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return set.ContainsBool(v);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return set.ContainsInt(v);
  } else if constexpr (std::is_same_v<T, double>) {
    return set.ContainsDouble(v);
  } else {
    static_assert(std::is_same_v<T, std::string>, "not a MetadataValue scalar kind");
    return set.ContainsString(v);
  }
}

}  // namespace

void ValueSet::AddBool(bool v) {
  (v ? has_true_ : has_false_) = true;
}

void ValueSet::AddInt(int64_t v) {
  ints_.push_back(v);
}

void ValueSet::AddDouble(double v) {
  if (std::optional<int64_t> as_int = ExactInt(v)) {
    ints_.push_back(*as_int);
  } else {
    doubles_.push_back(v);
  }
}

void ValueSet::AddString(std::string v) {
  strings_.push_back(std::move(v));
}

void ValueSet::Finalize() {
  SortUnique(&ints_);
  SortUnique(&doubles_);
  SortUnique(&strings_);
}

size_t ValueSet::size() const {
  return static_cast<size_t>(has_true_) + static_cast<size_t>(has_false_) + ints_.size() +
         doubles_.size() + strings_.size();
}

bool ValueSet::ContainsInt(int64_t v) const {
  // Every double equal to an int64 was stored in ints_ by AddDouble.
  return std::binary_search(ints_.begin(), ints_.end(), v);
}

bool ValueSet::ContainsDouble(double v) const {
  if (std::optional<int64_t> as_int = ExactInt(v))
    return ContainsInt(*as_int);
  return std::binary_search(doubles_.begin(), doubles_.end(), v);
}

bool ValueSet::ContainsString(const std::string& v) const {
  return std::binary_search(strings_.begin(), strings_.end(), v);
}

bool ValueSet::ContainsScalar(const MetadataValue& value) const {
  return std::visit(
      [this](const auto& v) -> bool {
        if constexpr (kIsVector<std::decay_t<decltype(v)>>) {
          return false;
        } else {
          return ContainsOne(*this, v);
        }
      },
      value);
}

bool ValueSet::ContainsAnyElement(const MetadataValue& value) const {
  return std::visit(
      [this](const auto& v) -> bool {
        using T = std::decay_t<decltype(v)>;
        if constexpr (kIsVector<T>) {
          return std::any_of(v.begin(), v.end(), [this](const typename T::value_type& e) {
            return ContainsOne(*this, e);
          });
        } else {
          return false;
        }
      },
      value);
}

}  // namespace ksdb::filter
