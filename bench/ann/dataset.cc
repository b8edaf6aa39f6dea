#include "ann/dataset.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>
#include <span>
#include <thread>
#include <utility>

#include "simd/distance.h"

namespace ksdb::bench {
namespace {

constexpr char kCacheMagic[8] = {'K', 'S', 'D', 'B', 'G', 'T', '1', '\n'};
constexpr uint32_t kNoId = UINT32_MAX;

// Reads a whole file; IoError naming it when it cannot be opened or read.
Result<std::vector<char>> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    return Status::IoError("cannot open " + path);
  const std::streamsize size = in.tellg();
  in.seekg(0);
  std::vector<char> bytes(static_cast<size_t>(size));
  if (size > 0 && !in.read(bytes.data(), size))
    return Status::IoError("cannot read " + path);
  return bytes;
}

// The rows of a *vecs file: each is an int32 dim then dim 4-byte values.
// `out` receives the raw 4-byte values of the first `max_rows` rows.
Status ParseVecs(const std::string& path, size_t max_rows, size_t* rows, size_t* dim,
                 std::vector<uint32_t>* out) {
  KSDB_ASSIGN_OR_RETURN(std::vector<char> bytes, ReadFile(path));
  if (bytes.size() < 4)
    return Status::Corruption(path + ": empty or shorter than one header");
  int32_t first_dim = 0;
  std::memcpy(&first_dim, bytes.data(), 4);
  if (first_dim <= 0)
    return Status::Corruption(path + ": row 0 has dim " + std::to_string(first_dim));
  const size_t row_bytes = 4 + 4 * static_cast<size_t>(first_dim);
  if (bytes.size() % row_bytes != 0) {
    return Status::Corruption(path + ": size " + std::to_string(bytes.size()) +
                              " is not a multiple of the row size " + std::to_string(row_bytes) +
                              " (dim " + std::to_string(first_dim) + "): truncated file?");
  }
  size_t n = bytes.size() / row_bytes;
  if (max_rows != 0)
    n = std::min(n, max_rows);
  out->resize(n * static_cast<size_t>(first_dim));
  for (size_t r = 0; r < n; ++r) {
    const char* row = bytes.data() + r * row_bytes;
    int32_t row_dim = 0;
    std::memcpy(&row_dim, row, 4);
    if (row_dim != first_dim) {
      return Status::Corruption(path + ": row " + std::to_string(r) + " has dim " +
                                std::to_string(row_dim) + ", row 0 has " +
                                std::to_string(first_dim));
    }
    std::memcpy(out->data() + r * static_cast<size_t>(first_dim), row + 4, row_bytes - 4);
  }
  *rows = n;
  *dim = static_cast<size_t>(first_dim);
  return Status::Ok();
}

void NormaliseRows(Matrix* m) {
  for (size_t r = 0; r < m->rows; ++r) {
    float* row = m->values.data() + r * m->dim;
    double sum = 0;
    for (size_t i = 0; i < m->dim; ++i)
      sum += static_cast<double>(row[i]) * row[i];
    if (sum == 0)
      continue;
    const float inv = static_cast<float>(1.0 / std::sqrt(sum));
    for (size_t i = 0; i < m->dim; ++i)
      row[i] *= inv;
  }
}

struct Candidate {
  float distance;
  uint32_t id;
};

bool NearerThan(const Candidate& a, const Candidate& b) {
  return a.distance != b.distance ? a.distance < b.distance : a.id < b.id;
}

// Exact top-k of one query; `base` is already normalised for cosine, so
// cosine and ip both reduce to 1 - dot.
void TopKOfQuery(const Matrix& base, const float* query, DistanceSpace space, size_t k,
                 const std::vector<uint32_t>* allowed, const simd::Kernels& kernels,
                 uint32_t* out) {
  std::vector<Candidate> heap;
  heap.reserve(k + 1);
  const size_t count = allowed != nullptr ? allowed->size() : base.rows;
  for (size_t i = 0; i < count; ++i) {
    const uint32_t id = allowed != nullptr ? (*allowed)[i] : static_cast<uint32_t>(i);
    const float* row = base.Row(id);
    const float distance = space == DistanceSpace::kL2 ? kernels.l2_squared(query, row, base.dim)
                                                       : 1.0f - kernels.dot(query, row, base.dim);
    const Candidate c{distance, id};
    if (heap.size() < k) {
      heap.push_back(c);
      std::push_heap(heap.begin(), heap.end(), NearerThan);
    } else if (NearerThan(c, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), NearerThan);
      heap.back() = c;
      std::push_heap(heap.begin(), heap.end(), NearerThan);
    }
  }
  std::sort_heap(heap.begin(), heap.end(), NearerThan);
  for (size_t j = 0; j < k; ++j)
    out[j] = j < heap.size() ? heap[j].id : kNoId;
}

uint64_t Checksum(const GroundTruth& gt) {
  return HashBytes(gt.ids.data(), gt.ids.size() * sizeof(uint32_t), gt.queries * 31 + gt.k);
}

std::string CachePath(const std::string& cache_dir, const std::string& key) {
  std::string file = key;
  for (char& c : file) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.')
      c = '_';
  }
  return cache_dir + "/gt_" + file + ".bin";
}

// Reads a cache file; NotFound when absent, Corruption when it does not match.
Result<GroundTruth> ReadCache(const std::string& path, const std::string& key) {
  if (!std::filesystem::exists(path))
    return Status::NotFound(path);
  KSDB_ASSIGN_OR_RETURN(std::vector<char> bytes, ReadFile(path));
  const size_t key_size = key.size();
  const size_t header = sizeof(kCacheMagic) + 8 + key_size + 8 + 8;
  if (bytes.size() < header + 8 || std::memcmp(bytes.data(), kCacheMagic, 8) != 0)
    return Status::Corruption(path + ": not a ground-truth cache file");
  uint64_t stored_key_size = 0;
  std::memcpy(&stored_key_size, bytes.data() + 8, 8);
  if (stored_key_size != key_size || std::memcmp(bytes.data() + 16, key.data(), key_size) != 0)
    return Status::Corruption(path + ": written for another key");
  GroundTruth gt;
  uint64_t queries = 0;
  uint64_t k = 0;
  std::memcpy(&queries, bytes.data() + 16 + key_size, 8);
  std::memcpy(&k, bytes.data() + 24 + key_size, 8);
  gt.queries = queries;
  gt.k = k;
  if (bytes.size() != header + queries * k * 4 + 8)
    return Status::Corruption(path + ": wrong size");
  gt.ids.resize(queries * k);
  std::memcpy(gt.ids.data(), bytes.data() + header, gt.ids.size() * 4);
  uint64_t checksum = 0;
  std::memcpy(&checksum, bytes.data() + header + gt.ids.size() * 4, 8);
  if (checksum != Checksum(gt))
    return Status::Corruption(path + ": checksum mismatch");
  return gt;
}

Status WriteCache(const std::string& path, const std::string& key, const GroundTruth& gt) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out)
      return Status::IoError("cannot create " + temp);
    const uint64_t key_size = key.size();
    const uint64_t queries = gt.queries;
    const uint64_t k = gt.k;
    const uint64_t checksum = Checksum(gt);
    out.write(kCacheMagic, 8);
    out.write(reinterpret_cast<const char*>(&key_size), 8);
    out.write(key.data(), static_cast<std::streamsize>(key.size()));
    out.write(reinterpret_cast<const char*>(&queries), 8);
    out.write(reinterpret_cast<const char*>(&k), 8);
    out.write(reinterpret_cast<const char*>(gt.ids.data()),
              static_cast<std::streamsize>(gt.ids.size() * 4));
    out.write(reinterpret_cast<const char*>(&checksum), 8);
    if (!out.flush())
      return Status::IoError("cannot write " + temp);
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec)
    return Status::IoError("cannot rename " + temp + ": " + ec.message());
  return Status::Ok();
}

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string MatrixKey(const Matrix& m) {
  return std::to_string(m.rows) + "x" + std::to_string(m.dim) + "-" +
         Hex(HashBytes(m.values.data(), m.values.size() * sizeof(float), m.rows));
}

Result<Dataset> LoadGlove(const DatasetOptions& options) {
  const std::string dir = options.data_dir + "/glove-100-angular";
  Dataset d;
  d.name = "glove-100-angular";
  d.space = DistanceSpace::kCosine;
  KSDB_ASSIGN_OR_RETURN(d.base, ReadFvecs(dir + "/base.fvecs", options.max_base));
  KSDB_ASSIGN_OR_RETURN(d.queries, ReadFvecs(dir + "/query.fvecs", options.max_queries));
  if (options.max_base == 0 || options.max_base >= 148000) {
    KSDB_ASSIGN_OR_RETURN(d.truth, ReadIvecs(dir + "/gt100_cos.ivecs", options.max_queries));
  }
  return d;
}

Result<Dataset> LoadSift(const DatasetOptions& options) {
  const std::string dir = options.data_dir + "/ngt-sift5k";
  Dataset d;
  d.name = "ngt-sift5k";
  d.space = DistanceSpace::kL2;
  KSDB_ASSIGN_OR_RETURN(d.base, ReadFvecs(dir + "/split_base4900.fvecs", options.max_base));
  KSDB_ASSIGN_OR_RETURN(d.queries, ReadFvecs(dir + "/split_query100.fvecs", options.max_queries));
  if (options.max_base == 0 || options.max_base >= 4900) {
    KSDB_ASSIGN_OR_RETURN(d.truth, ReadIvecs(dir + "/split_gt100_l2.ivecs", options.max_queries));
  }
  return d;
}

}  // namespace

uint64_t HashBytes(const void* data, size_t size, uint64_t seed) {
  // FNV-1a over 8-byte words (then the tail bytes): fast enough for ~1 GB.
  uint64_t h = 1469598103934665603ULL ^ seed;
  const auto* bytes = static_cast<const unsigned char*>(data);
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t word = 0;
    std::memcpy(&word, bytes + i, 8);
    h = (h ^ word) * 1099511628211ULL;
  }
  for (; i < size; ++i)
    h = (h ^ bytes[i]) * 1099511628211ULL;
  return h;
}

Result<Matrix> ReadFvecs(const std::string& path, size_t max_rows) {
  Matrix m;
  std::vector<uint32_t> raw;
  KSDB_RETURN_IF_ERROR(ParseVecs(path, max_rows, &m.rows, &m.dim, &raw));
  m.values.resize(raw.size());
  std::memcpy(m.values.data(), raw.data(), raw.size() * 4);
  for (size_t i = 0; i < m.values.size(); ++i) {
    if (!std::isfinite(m.values[i])) {
      return Status::Corruption(path + ": non-finite value in row " + std::to_string(i / m.dim));
    }
  }
  return m;
}

Result<GroundTruth> ReadIvecs(const std::string& path, size_t max_rows) {
  GroundTruth gt;
  KSDB_RETURN_IF_ERROR(ParseVecs(path, max_rows, &gt.queries, &gt.k, &gt.ids));
  for (size_t i = 0; i < gt.ids.size(); ++i) {
    if (static_cast<int32_t>(gt.ids[i]) < 0)
      return Status::Corruption(path + ": negative id in row " + std::to_string(i / gt.k));
  }
  return gt;
}

Dataset GenerateClustered(const GeneratedSpec& spec) {
  std::mt19937_64 rng(spec.seed);
  std::normal_distribution<float> unit(0.0f, 1.0f);
  Matrix centres{spec.num_clusters, spec.dim, std::vector<float>(spec.num_clusters * spec.dim)};
  for (float& v : centres.values)
    v = unit(rng);
  // Points and queries are drawn from separate streams so the base does not
  // change when the number of queries does.
  auto draw = [&](size_t rows, uint64_t stream) {
    std::mt19937_64 gen(spec.seed ^ (stream * 0x9e3779b97f4a7c15ULL));
    std::uniform_int_distribution<size_t> pick(0, spec.num_clusters - 1);
    std::normal_distribution<float> noise(0.0f, spec.spread);
    Matrix m{rows, spec.dim, std::vector<float>(rows * spec.dim)};
    for (size_t r = 0; r < rows; ++r) {
      const float* centre = centres.Row(pick(gen));
      float* row = m.values.data() + r * spec.dim;
      for (size_t i = 0; i < spec.dim; ++i)
        row[i] = centre[i] + noise(gen);
    }
    return m;
  };
  Dataset d;
  d.name = "generated-" + std::to_string(spec.num_base) + "x" + std::to_string(spec.dim);
  d.space = DistanceSpace::kCosine;
  d.base = draw(spec.num_base, 1);
  d.queries = draw(spec.num_queries, 2);
  return d;
}

BruteForce::BruteForce(const Matrix& base, DistanceSpace space) : base_(&base), space_(space) {
  if (space == DistanceSpace::kCosine) {
    normalised_ = base;
    NormaliseRows(&normalised_);
    base_ = &normalised_;
  }
}

void BruteForce::Search(const float* query, size_t k, const std::vector<uint32_t>* allowed,
                        uint32_t* out) const {
  const simd::Kernels& kernels = simd::ActiveKernels();
  if (space_ != DistanceSpace::kCosine) {
    TopKOfQuery(*base_, query, space_, k, allowed, kernels, out);
    return;
  }
  Matrix q{1, base_->dim, std::vector<float>(query, query + base_->dim)};
  NormaliseRows(&q);
  TopKOfQuery(*base_, q.values.data(), space_, k, allowed, kernels, out);
}

GroundTruth ExactTopK(const Matrix& base, const Matrix& queries, DistanceSpace space, size_t k,
                      const std::vector<uint32_t>* allowed, size_t num_threads) {
  const BruteForce brute(base, space);
  GroundTruth gt{queries.rows, k, std::vector<uint32_t>(queries.rows * k, kNoId)};
  num_threads = std::max<size_t>(1, std::min(num_threads, queries.rows));
  std::vector<std::thread> threads;
  for (size_t t = 0; t < num_threads; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < queries.rows; i += num_threads)
        brute.Search(queries.Row(i), k, allowed, gt.ids.data() + i * k);
    });
  }
  for (std::thread& th : threads)
    th.join();
  return gt;
}

Result<GroundTruth> CachedExactTopK(const std::string& cache_dir, const std::string& key,
                                    const Matrix& base, const Matrix& queries, DistanceSpace space,
                                    size_t k, const std::vector<uint32_t>* allowed,
                                    size_t num_threads) {
  const std::string full_key =
      key + "-" + DistanceSpaceName(space) + "-k" + std::to_string(k) + "-b" + MatrixKey(base) +
      "-q" + MatrixKey(queries) +
      (allowed != nullptr
           ? "-a" + Hex(HashBytes(allowed->data(), allowed->size() * 4, allowed->size()))
           : "");
  std::string path;
  if (!cache_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(cache_dir, ec);
    path = CachePath(cache_dir, Hex(HashBytes(full_key.data(), full_key.size(), 7)) + "-" + key);
    Result<GroundTruth> cached = ReadCache(path, full_key);
    if (cached.ok())
      return cached;
    if (cached.status().code() != StatusCode::kNotFound)
      std::fprintf(stderr, "ann_bench: ignoring ground-truth cache: %s\n",
                   cached.status().ToString().c_str());
  }
  GroundTruth gt = ExactTopK(base, queries, space, k, allowed, num_threads);
  if (!path.empty())
    KSDB_RETURN_IF_ERROR(WriteCache(path, full_key, gt));
  return gt;
}

Result<Dataset> LoadDataset(const std::string& name, const DatasetOptions& options) {
  Dataset d;
  if (name == "glove") {
    KSDB_ASSIGN_OR_RETURN(d, LoadGlove(options));
  } else if (name == "sift") {
    KSDB_ASSIGN_OR_RETURN(d, LoadSift(options));
  } else if (name == "generated") {
    GeneratedSpec spec = options.generated;
    if (options.max_queries != 0)
      spec.num_queries = std::min(spec.num_queries, options.max_queries);
    d = GenerateClustered(spec);
  } else {
    return Status::InvalidArgument("unknown dataset '" + name +
                                   "' (expected glove, sift or generated)");
  }
  if (d.base.rows == 0 || d.queries.rows == 0)
    return Status::InvalidArgument(d.name + ": no base vectors or no queries");
  if (d.base.dim != d.queries.dim) {
    return Status::Corruption(d.name + ": base dim " + std::to_string(d.base.dim) +
                              " != query dim " + std::to_string(d.queries.dim));
  }
  d.cache_key = d.name;
  if (d.truth.queries == 0) {
    KSDB_ASSIGN_OR_RETURN(d.truth, CachedExactTopK(options.cache_dir, d.name, d.base, d.queries,
                                                   d.space, 10, nullptr, options.num_threads));
  }
  if (d.truth.queries != d.queries.rows || d.truth.k < 10)
    return Status::Corruption(d.name + ": ground truth does not match the queries");
  for (uint32_t id : d.truth.ids) {
    if (id != kNoId && id >= d.base.rows)
      return Status::Corruption(d.name + ": ground-truth id " + std::to_string(id) +
                                " beyond the base");
  }
  return d;
}

std::vector<uint32_t> RandomSubset(size_t num_base, size_t count, uint64_t seed) {
  std::vector<uint32_t> all(num_base);
  std::iota(all.begin(), all.end(), 0u);
  std::mt19937_64 rng(seed);
  count = std::min(count, num_base);
  // Partial Fisher-Yates: the first `count` entries become a uniform sample.
  for (size_t i = 0; i < count; ++i) {
    std::uniform_int_distribution<size_t> pick(i, num_base - 1);
    std::swap(all[i], all[pick(rng)]);
  }
  all.resize(count);
  std::sort(all.begin(), all.end());
  return all;
}

double RecallAtK(const uint32_t* found, const uint32_t* truth, size_t k) {
  size_t expected = 0;
  size_t hits = 0;
  for (size_t i = 0; i < k; ++i) {
    if (truth[i] == kNoId)
      continue;
    ++expected;
    for (size_t j = 0; j < k; ++j) {
      if (found[j] == truth[i]) {
        ++hits;
        break;
      }
    }
  }
  return expected == 0 ? 1.0 : static_cast<double>(hits) / static_cast<double>(expected);
}

}  // namespace ksdb::bench
