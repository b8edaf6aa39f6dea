#include "filter/regex.h"

#include <re2/re2.h>

#include <string>

namespace ksdb::filter {
namespace {

Status RegexError(std::string_view context, std::string_view reason) {
  std::string message = "Invalid regex in ";
  message.append(context).append(": ").append(reason);
  return Status::InvalidArgument(std::move(message));
}

}  // namespace

Result<std::unique_ptr<const re2::RE2>> CompileRegex(std::string_view pattern, const Limits& limits,
                                                     std::string_view context) {
  if (pattern.size() > limits.max_regex_length) {
    return RegexError(
        context, "pattern is " + std::to_string(pattern.size()) + " bytes, over the limit of " +
                     std::to_string(limits.max_regex_length) + " bytes (max_regex_length)");
  }
  re2::RE2::Options options;
  options.set_encoding(re2::RE2::Options::EncodingUTF8);
  // Bad patterns are user input and reported through Status; RE2 must not
  // write them to stderr.
  options.set_log_errors(false);
  options.set_max_mem(limits.max_regex_program);
  auto regex =
      std::make_unique<re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (regex->ok())
    return std::unique_ptr<const re2::RE2>(std::move(regex));
  if (regex->error_code() == re2::RE2::ErrorPatternTooLarge) {
    return RegexError(context, regex->error() + " (compiled program over the limit of " +
                                   std::to_string(limits.max_regex_program) +
                                   " bytes, max_regex_program)");
  }
  return RegexError(context, regex->error());
}

}  // namespace ksdb::filter
