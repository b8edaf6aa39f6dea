// Bounded RE2 compilation for $regex / $not_regex.
#ifndef KSDB_FILTER_REGEX_H_
#define KSDB_FILTER_REGEX_H_

#include <memory>
#include <string_view>

#include "common/result.h"
#include "filter/where.h"

namespace re2 {
class RE2;
}

namespace ksdb::filter {

// Compiles `pattern` (UTF-8, RE2 syntax, inline flags such as (?i) allowed) for
// an unanchored search. The pattern length is capped by limits.max_regex_length
// and the compiled program by limits.max_regex_program, so hostile patterns such
// as `a{1000000}` fail fast. `context` names the clause for messages ("where" or
// "where_document"). Errors: InvalidArgument "Invalid regex in <context>: ...".
Result<std::unique_ptr<const re2::RE2>> CompileRegex(std::string_view pattern, const Limits& limits,
                                                     std::string_view context);

}  // namespace ksdb::filter

#endif  // KSDB_FILTER_REGEX_H_
