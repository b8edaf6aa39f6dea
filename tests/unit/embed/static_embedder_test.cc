#include "embed/static_embedder.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstring>
#include <random>

#include "embed/file_util.h"
#include "embed/safetensors.h"
#include "embed_test_util.h"

namespace ksdb::embed {
namespace {

using testing::Exists;
using testing::TempDir;

struct Reference {
  std::vector<float> embeddings;
  std::vector<std::vector<int32_t>> ids;
};

// Runs tests/unit/embed/reference_embed.py (Debian's python3 + numpy) on `texts`.
Reference RunReference(const std::string& model_dir, const std::vector<std::string>& texts,
                       const TempDir& temp) {
  std::string json = "[";
  for (size_t i = 0; i < texts.size(); ++i) {
    if (i > 0)
      json += ',';
    AppendJsonString(texts[i], &json);
  }
  json += ']';
  EXPECT_TRUE(WriteWholeFile(temp.File("texts.json"), json).ok());
  std::string command = "/usr/bin/python3 '" KSDB_EMBED_TEST_DIR "/reference_embed.py' '" +
                        model_dir + "' '" + temp.File("texts.json") + "' '" + temp.File("out.f32") +
                        "' '" + temp.File("ids.json") + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  Reference reference;
  Result<std::string> floats = ReadWholeFile(temp.File("out.f32"));
  EXPECT_TRUE(floats.ok());
  if (!floats.ok())
    return reference;
  reference.embeddings.resize(floats->size() / sizeof(float));
  std::memcpy(reference.embeddings.data(), floats->data(), floats->size());
  Result<std::string> ids_text = ReadWholeFile(temp.File("ids.json"));
  EXPECT_TRUE(ids_text.ok());
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  EXPECT_EQ(parser.parse(*ids_text).get(root), simdjson::SUCCESS);
  for (simdjson::dom::element row : root.get_array()) {
    std::vector<int32_t> ids;
    for (simdjson::dom::element id : row.get_array())
      ids.push_back(int64_t(id));
    reference.ids.push_back(std::move(ids));
  }
  return reference;
}

void ExpectMatchesReference(const StaticEmbedder& embedder, const std::string& model_dir,
                            const std::vector<std::string>& texts) {
  TempDir temp;
  Reference reference = RunReference(model_dir, texts, temp);
  ASSERT_EQ(reference.ids.size(), texts.size());
  ASSERT_EQ(reference.embeddings.size(), texts.size() * embedder.dim());
  Result<std::vector<float>> ours = embedder.Embed(texts);
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  size_t zero_vectors = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    ASSERT_EQ(embedder.TokenIds(texts[i]), reference.ids[i]) << "text " << i << ": " << texts[i];
    bool zero = true;
    for (size_t j = 0; j < embedder.dim(); ++j) {
      float expected = reference.embeddings[i * embedder.dim() + j];
      zero = zero && expected == 0.0f;
      ASSERT_NEAR((*ours)[i * embedder.dim() + j], expected, 1e-5)
          << "text " << i << " (" << texts[i] << ") component " << j;
    }
    zero_vectors += zero;
  }
  // The varied texts must mostly hit the vocabulary, or the comparison proves little.
  EXPECT_LT(zero_vectors, texts.size() / 5);
}

TEST(StaticEmbedderTest, GloveMatchesPythonReference) {
  if (!Exists(testing::GloveDir()))
    GTEST_SKIP() << "no " << testing::GloveDir();
  auto embedder = StaticEmbedder::Load(testing::GloveDir());
  ASSERT_TRUE(embedder.ok()) << embedder.status().ToString();
  EXPECT_EQ((*embedder)->dim(), 100u);
  EXPECT_EQ((*embedder)->name(), "ksdb-static");
  EXPECT_EQ((*embedder)->model(), "glove-6B-100d-static");
  ExpectMatchesReference(**embedder, testing::GloveDir(), testing::VariedTexts(400));
}

TEST(StaticEmbedderTest, GloveSimilarityAsDocumented) {
  if (!Exists(testing::GloveDir()))
    GTEST_SKIP() << "no " << testing::GloveDir();
  auto embedder = StaticEmbedder::Load(testing::GloveDir());
  ASSERT_TRUE(embedder.ok()) << embedder.status().ToString();
  std::vector<std::string> texts = {"The cat sat on the mat.", "A kitten was resting on the rug."};
  auto out = (*embedder)->Embed(texts);
  ASSERT_TRUE(out.ok());
  double dot = 0;
  for (size_t j = 0; j < 100; ++j)
    dot += (*out)[j] * (*out)[100 + j];
  EXPECT_NEAR(dot, 0.947, 0.0005);  // the model's README
}

TEST(StaticEmbedderTest, EmptyAndUnknownTextsGiveZeroVectors) {
  if (!Exists(testing::GloveDir()))
    GTEST_SKIP() << "no " << testing::GloveDir();
  auto embedder = StaticEmbedder::Load(testing::GloveDir());
  ASSERT_TRUE(embedder.ok());
  std::vector<std::string> texts = {"", "   \n", "qqqqzzzzxxxx", "[UNK]"};
  auto out = (*embedder)->Embed(texts);
  ASSERT_TRUE(out.ok());
  for (float value : *out)
    EXPECT_EQ(value, 0.0f);
}

// The F16 bits of `value`, a multiple of 1/1024 in [-1, 1] (exactly representable).
uint16_t ExactHalf(float value) {
  if (value == 0)
    return 0;
  int exponent;
  float fraction = std::frexp(std::fabs(value), &exponent);  // in [0.5, 1)
  auto mantissa = static_cast<uint16_t>(std::lround((fraction * 2 - 1) * 1024));
  auto bits = static_cast<uint16_t>(((exponent - 1 + 15) << 10) | mantissa);
  return value < 0 ? static_cast<uint16_t>(bits | 0x8000) : bits;
}

// Writes a Model2Vec-style directory around the MiniLM WordPiece tokenizer with random
// tables, to cover F16, `mapping`, `weights` and normalize=false.
std::string WriteSyntheticModel(const TempDir& temp, bool half, bool with_mapping,
                                bool with_weights, bool normalize) {
  constexpr size_t kVocab = 30522;
  const size_t rows = with_mapping ? 997 : kVocab;
  const size_t dim = with_mapping ? 24 : 8;
  std::mt19937 random(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::string table;
  for (size_t i = 0; i < rows * dim; ++i) {
    float value = uniform(random);
    if (half) {
      uint16_t bits = ExactHalf(std::round(value * 1024) / 1024);
      table.append(reinterpret_cast<const char*>(&bits), 2);
    } else {
      table.append(reinterpret_cast<const char*>(&value), 4);
    }
  }
  std::string mapping, weights;
  for (size_t id = 0; id < kVocab; ++id) {
    int64_t row = static_cast<int64_t>((id * 7919) % rows);
    mapping.append(reinterpret_cast<const char*>(&row), 8);
    float weight = 0.1f + static_cast<float>(id % 13) / 5.0f;
    weights.append(reinterpret_cast<const char*>(&weight), 4);
  }
  std::vector<TensorToWrite> tensors;
  tensors.push_back({"embeddings", half ? Dtype::kF16 : Dtype::kF32, {rows, dim}, table});
  if (with_mapping)
    tensors.push_back({"mapping", Dtype::kI64, {kVocab}, mapping});
  if (with_weights)
    tensors.push_back({"weights", Dtype::kF32, {kVocab}, weights});
  std::string dir = temp.File("model");
  std::filesystem::create_directories(dir);
  EXPECT_TRUE(WriteWholeFile(dir + "/model.safetensors", SerializeSafetensors(tensors, {})).ok());
  std::filesystem::copy_file(testing::MiniLmTokenizerPath(), dir + "/tokenizer.json");
  EXPECT_TRUE(WriteWholeFile(dir + "/config.json",
                             normalize ? "{\"normalize\": true}" : "{\"normalize\": false}")
                  .ok());
  return dir;
}

TEST(StaticEmbedderTest, WordPieceF16MappingWeightsMatchPythonReference) {
  if (!Exists(testing::MiniLmTokenizerPath()))
    GTEST_SKIP() << "no MiniLM tokenizer";
  TempDir temp;
  std::string dir = WriteSyntheticModel(temp, true, true, true, false);
  auto embedder = StaticEmbedder::Load(dir);
  ASSERT_TRUE(embedder.ok()) << embedder.status().ToString();
  EXPECT_EQ((*embedder)->dim(), 24u);
  ExpectMatchesReference(**embedder, dir, testing::VariedTexts(300));
}

TEST(StaticEmbedderTest, WordPieceF32NormalizedMatchesPythonReference) {
  if (!Exists(testing::MiniLmTokenizerPath()))
    GTEST_SKIP() << "no MiniLM tokenizer";
  TempDir temp;
  std::string dir = WriteSyntheticModel(temp, false, false, false, true);
  auto embedder = StaticEmbedder::Load(dir);
  ASSERT_TRUE(embedder.ok()) << embedder.status().ToString();
  ExpectMatchesReference(**embedder, dir, testing::VariedTexts(200));
}

TEST(StaticEmbedderTest, ThreadedBatchEqualsSingleThread) {
  if (!Exists(testing::MiniLmTokenizerPath()))
    GTEST_SKIP() << "no MiniLM tokenizer";
  TempDir temp;
  std::string dir = WriteSyntheticModel(temp, false, true, true, true);
  StaticEmbedderOptions threaded;
  threaded.num_threads = 3;
  threaded.min_texts_per_thread = 1;
  StaticEmbedderOptions single;
  single.num_threads = 1;
  auto a = StaticEmbedder::Load(dir, threaded);
  auto b = StaticEmbedder::Load(dir, single);
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<std::string> texts = testing::VariedTexts(257);
  auto out_a = (*a)->Embed(texts);
  auto out_b = (*b)->Embed(texts);
  ASSERT_TRUE(out_a.ok() && out_b.ok());
  EXPECT_EQ(*out_a, *out_b);
  auto none = (*a)->Embed({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// A valid small model directory whose pieces the error tests replace.
std::string WriteTinyModel(const TempDir& temp) {
  std::string dir = temp.File("tiny");
  std::filesystem::create_directories(dir);
  std::string tokenizer =
      R"({"normalizer":{"type":"Lowercase"},"pre_tokenizer":{"type":"BertPreTokenizer"},)"
      R"("model":{"type":"WordLevel","vocab":{"[UNK]":0,"a":1,"b":2},"unk_token":"[UNK]"}})";
  EXPECT_TRUE(WriteWholeFile(dir + "/tokenizer.json", tokenizer).ok());
  EXPECT_TRUE(WriteWholeFile(dir + "/config.json", "{\"normalize\": true}").ok());
  std::vector<float> table = {0, 0, 1, 0, 0, 1};
  std::string bytes(reinterpret_cast<const char*>(table.data()), table.size() * 4);
  TensorToWrite tensor{"embeddings", Dtype::kF32, {3, 2}, bytes};
  EXPECT_TRUE(
      WriteWholeFile(dir + "/model.safetensors", SerializeSafetensors({&tensor, 1}, {})).ok());
  return dir;
}

TEST(StaticEmbedderTest, TinyModelWorks) {
  TempDir temp;
  auto embedder = StaticEmbedder::Load(WriteTinyModel(temp));
  ASSERT_TRUE(embedder.ok()) << embedder.status().ToString();
  auto out = (*embedder)->Embed(std::vector<std::string>{"A a b", "zzz"});
  ASSERT_TRUE(out.ok());
  // mean((1,0),(1,0),(0,1)) = (2/3, 1/3), normalised.
  EXPECT_NEAR((*out)[0], 2 / std::sqrt(5.0), 1e-6);
  EXPECT_NEAR((*out)[1], 1 / std::sqrt(5.0), 1e-6);
  EXPECT_EQ((*out)[2], 0.0f);
  EXPECT_EQ((*out)[3], 0.0f);
}

void ExpectLoadError(const std::string& dir, const std::string& file, const std::string& words) {
  auto embedder = StaticEmbedder::Load(dir);
  ASSERT_FALSE(embedder.ok());
  EXPECT_NE(embedder.status().message().find(file), std::string::npos)
      << embedder.status().ToString();
  EXPECT_NE(embedder.status().message().find(words), std::string::npos)
      << embedder.status().ToString();
}

TEST(StaticEmbedderTest, MissingFilesAreNamed) {
  TempDir temp;
  ExpectLoadError(temp.File("nope"), "config.json", "cannot open");
  std::string dir = WriteTinyModel(temp);
  std::filesystem::remove(dir + "/model.safetensors");
  ExpectLoadError(dir, "model.safetensors", "cannot open");
}

TEST(StaticEmbedderTest, DamagedTensorsAreReported) {
  TempDir temp;
  std::string dir = WriteTinyModel(temp);
  std::string path = dir + "/model.safetensors";
  std::string good = *ReadWholeFile(path);

  ASSERT_TRUE(WriteWholeFile(path, good.substr(0, good.size() - 4)).ok());
  ExpectLoadError(dir, "model.safetensors", "truncated");

  std::string bytes(4 * 6, '\0');
  TensorToWrite other{"vectors", Dtype::kF32, {3, 2}, bytes};
  ASSERT_TRUE(WriteWholeFile(path, SerializeSafetensors({&other, 1}, {})).ok());
  ExpectLoadError(dir, "model.safetensors", "no tensor 'embeddings'");

  TensorToWrite ints{"embeddings", Dtype::kI32, {3, 2}, bytes};
  ASSERT_TRUE(WriteWholeFile(path, SerializeSafetensors({&ints, 1}, {})).ok());
  ExpectLoadError(dir, "model.safetensors", "dtype I32");

  TensorToWrite small{"embeddings", Dtype::kF32, {2, 3}, bytes};
  ASSERT_TRUE(WriteWholeFile(path, SerializeSafetensors({&small, 1}, {})).ok());
  ExpectLoadError(dir, "model.safetensors", "2 rows but the tokenizer has 3 tokens");

  std::string table(4 * 6, '\0');
  int64_t bad_rows[3] = {0, 1, 3};
  std::string mapping(reinterpret_cast<const char*>(bad_rows), sizeof(bad_rows));
  TensorToWrite with_mapping[] = {{"embeddings", Dtype::kF32, {3, 2}, table},
                                  {"mapping", Dtype::kI64, {3}, mapping}};
  ASSERT_TRUE(WriteWholeFile(path, SerializeSafetensors(with_mapping, {})).ok());
  ExpectLoadError(dir, "model.safetensors", "points at row 3");
}

TEST(StaticEmbedderTest, BadConfigAndTokenizerAreReported) {
  TempDir temp;
  std::string dir = WriteTinyModel(temp);
  ASSERT_TRUE(WriteWholeFile(dir + "/config.json", "{\"normalize\": \"yes\"}").ok());
  ExpectLoadError(dir, "config.json", "\"normalize\" must be a boolean");
  ASSERT_TRUE(WriteWholeFile(dir + "/config.json", "{").ok());
  ExpectLoadError(dir, "config.json", "invalid JSON");
  ASSERT_TRUE(WriteWholeFile(dir + "/config.json", "{}").ok());
  ASSERT_TRUE(
      WriteWholeFile(dir + "/tokenizer.json", R"({"model":{"type":"BPE","vocab":{},"merges":[]}})")
          .ok());
  ExpectLoadError(dir, "tokenizer.json", "model BPE");
}

}  // namespace
}  // namespace ksdb::embed
