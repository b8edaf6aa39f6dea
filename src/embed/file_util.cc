#include "embed/file_util.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace ksdb::embed {
namespace {

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

}  // namespace

Result<std::string> ReadWholeFile(const std::string& path) {
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file)
    return Status::IoError(path + ": cannot open: " + std::strerror(errno));
  std::string contents;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0)
    contents.append(buffer, n);
  if (std::ferror(file.get()))
    return Status::IoError(path + ": read failed: " + std::strerror(errno));
  return contents;
}

Status WriteWholeFile(const std::string& path, std::string_view contents) {
  FilePtr file(std::fopen(path.c_str(), "wb"));
  if (!file)
    return Status::IoError(path + ": cannot create: " + std::strerror(errno));
  if (std::fwrite(contents.data(), 1, contents.size(), file.get()) != contents.size() ||
      std::fflush(file.get()) != 0) {
    return Status::IoError(path + ": write failed: " + std::strerror(errno));
  }
  return Status::Ok();
}

Result<simdjson::dom::element> ParseJson(std::string_view text, std::string_view what,
                                         simdjson::dom::parser* parser) {
  simdjson::dom::element root;
  simdjson::error_code error = parser->parse(text.data(), text.size(), true).get(root);
  if (error != simdjson::SUCCESS) {
    return Status::InvalidArgument(std::string(what) +
                                   ": invalid JSON: " + simdjson::error_message(error));
  }
  return root;
}

void AppendJsonString(std::string_view text, std::string* out) {
  out->push_back('"');
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
          out->append(escaped);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

}  // namespace ksdb::embed
