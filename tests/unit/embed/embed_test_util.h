// Helpers for the embed/ tests: model locations, temp dirs, the Python reference.
#ifndef KSDB_TESTS_UNIT_EMBED_EMBED_TEST_UTIL_H_
#define KSDB_TESTS_UNIT_EMBED_EMBED_TEST_UTIL_H_

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace ksdb::embed::testing {

// ../shared/models next to the repository, or $KSDB_MODELS_DIR.
inline std::string ModelsDir() {
  if (const char* dir = std::getenv("KSDB_MODELS_DIR"))
    return dir;
  return KSDB_DEFAULT_MODELS_DIR;
}
inline std::string GloveDir() {
  return ModelsDir() + "/glove-6B-100d-static";
}
inline std::string MiniLmTokenizerPath() {
  return ModelsDir() + "/all-MiniLM-L6-v2-tokenizer/tokenizer.json";
}
inline bool Exists(const std::string& path) {
  return std::filesystem::exists(path);
}

// A fresh directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() /
            ("ksdb-embed-test-" + std::to_string(random()) + std::to_string(random()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// A few hundred varied texts: sentences, case, punctuation runs, accents, Greek,
// Cyrillic, CJK, emoji, controls and odd whitespace, long words, empty text.
std::vector<std::string> VariedTexts(size_t count);

}  // namespace ksdb::embed::testing

#endif  // KSDB_TESTS_UNIT_EMBED_EMBED_TEST_UTIL_H_
