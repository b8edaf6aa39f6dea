// Static-model encoding throughput: short documents per second through
// StaticEmbedder::Embed, single-threaded and with all cores.
//
// Usage: ksdb_embed_bench [MODEL_DIR] [NUM_DOCS]
//   MODEL_DIR defaults to ../shared/models/glove-6B-100d-static, NUM_DOCS to 100000.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "embed/static_embedder.h"

namespace {

// Short documents (5-20 words) drawn from common English words with some punctuation
// and capitalisation, like titles or chat messages.
std::vector<std::string> ShortDocuments(size_t count) {
  static const char* const kWords[] = {
      "the",     "cat",      "sat",     "on",     "mat",        "stock",    "markets", "fell",
      "sharply", "after",    "reports", "of",     "inflation",  "Kitten",   "resting", "rug",
      "new",     "research", "shows",   "that",   "people",     "who",      "sleep",   "more",
      "are",     "happier",  "Paris",   "London", "government", "said",     "million", "percent",
      "weather", "today",    "sunny",   "rain",   "tomorrow",   "football", "match",   "won",
      "lost",    "players",  "coach",   "music",  "concert",    "tickets",  "sold",    "out"};
  constexpr size_t kNumWords = sizeof(kWords) / sizeof(kWords[0]);
  std::mt19937 random(42);
  std::vector<std::string> docs;
  docs.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    std::string doc;
    size_t words = 5 + random() % 16;
    for (size_t w = 0; w < words; ++w) {
      if (w > 0)
        doc += random() % 8 == 0 ? ", " : " ";
      doc += kWords[random() % kNumWords];
    }
    doc += random() % 2 ? "." : "!";
    docs.push_back(std::move(doc));
  }
  return docs;
}

double DocsPerSecond(const ksdb::embed::StaticEmbedder& embedder,
                     const std::vector<std::string>& docs) {
  auto start = std::chrono::steady_clock::now();
  auto out = embedder.Embed(docs);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!out.ok()) {
    std::fprintf(stderr, "embed failed: %s\n", out.status().ToString().c_str());
    std::exit(1);
  }
  return static_cast<double>(docs.size()) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : KSDB_DEFAULT_MODEL_DIR;
  size_t count = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 100000;
  std::vector<std::string> docs = ShortDocuments(count);
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned threads : {1u, cores}) {
    ksdb::embed::StaticEmbedderOptions options;
    options.num_threads = threads;
    auto embedder = ksdb::embed::StaticEmbedder::Load(dir, options);
    if (!embedder.ok()) {
      std::fprintf(stderr, "%s\n", embedder.status().ToString().c_str());
      return 1;
    }
    DocsPerSecond(**embedder, docs);  // warm-up: page in the table, grow scratch buffers
    double best = 0;
    for (int run = 0; run < 5; ++run)
      best = std::max(best, DocsPerSecond(**embedder, docs));
    std::printf("static encode, %s, %zu short docs, %u thread(s): %.0f docs/s (best of 5)\n",
                (*embedder)->model().c_str(), docs.size(), threads, best);
  }
  return 0;
}
