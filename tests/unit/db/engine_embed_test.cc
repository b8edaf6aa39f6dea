// Server-side embeddings in the engine: documents without embeddings, query texts,
// and how a collection selects its embedder.
#include <gtest/gtest.h>

#include <atomic>

#include "db/embedding_registry.h"
#include "db/engine.h"
#include "test_util.h"

namespace ksdb::db {
namespace {

using testing::TempDir;

// Deterministic embedder: text -> (length, number of 'a's, 1); counts its calls.
class FakeEmbedder final : public embed::Embedder {
 public:
  FakeEmbedder(std::string name, std::string model)
      : name_(std::move(name)), model_(std::move(model)) {}
  const std::string& name() const override { return name_; }
  const std::string& model() const override { return model_; }
  size_t dim() const override { return 3; }
  Result<std::vector<float>> Embed(std::span<const std::string> texts) const override {
    ++calls;
    std::vector<float> out;
    for (const std::string& text : texts) {
      out.push_back(static_cast<float>(text.size()));
      out.push_back(static_cast<float>(std::count(text.begin(), text.end(), 'a')));
      out.push_back(1.0f);
    }
    return out;
  }
  mutable std::atomic<int> calls = 0;

 private:
  std::string name_;
  std::string model_;
};

class EngineEmbedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto registry = std::make_shared<EmbedderRegistry>();
    auto first = std::make_unique<FakeEmbedder>(kStaticEmbedderName, "fake-a");
    auto second = std::make_unique<FakeEmbedder>(kStaticEmbedderName, "fake-b");
    default_embedder_ = first.get();
    second_embedder_ = second.get();
    registry->Add(std::move(first));
    registry->Add(std::move(second));
    EngineOptions options;
    options.path = dir_.path();
    options.store = testing::TestStoreFor(dir_.path());
    options.embedders = registry;
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
  }

  std::string Create(const std::string& name, const std::string& function_json = "") {
    CreateCollectionRequest request;
    request.name = name;
    request.embedding_function_json = function_json;
    auto info = engine_->CreateCollection(kDefaultTenant, kDefaultDatabase, request);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? info->id : "";
  }

  static WriteBatch Documents(std::vector<std::string> ids,
                              std::vector<std::optional<std::string>> documents) {
    WriteBatch batch;
    batch.ids = std::move(ids);
    batch.documents = std::move(documents);
    return batch;
  }

  std::vector<std::vector<float>> Embeddings(const std::string& collection_id) {
    GetRequest request;
    request.include.embeddings = true;
    auto result = engine_->Get(collection_id, request);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? result->embeddings : std::vector<std::vector<float>>{};
  }

  TempDir dir_;
  std::unique_ptr<Engine> engine_;
  FakeEmbedder* default_embedder_ = nullptr;
  FakeEmbedder* second_embedder_ = nullptr;
};

TEST_F(EngineEmbedTest, AddEmbedsDocumentsInOneCall) {
  std::string id = Create("docs");
  ASSERT_TRUE(engine_->Add(id, Documents({"x", "y", "z"}, {"a", "banana", ""})).ok());
  EXPECT_EQ(default_embedder_->calls.load(), 1);
  EXPECT_EQ(Embeddings(id), (std::vector<std::vector<float>>{{1, 1, 1}, {6, 3, 1}, {0, 0, 1}}));
  auto info = engine_->GetCollectionById(id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->dimension, 3u);
}

TEST_F(EngineEmbedTest, GivenEmbeddingsAreNotReembedded) {
  std::string id = Create("given");
  WriteBatch batch = testing::Batch({"x"}, {{9, 9, 9}});
  batch.documents = std::vector<std::optional<std::string>>{"aaaa"};
  ASSERT_TRUE(engine_->Add(id, batch).ok());
  EXPECT_EQ(default_embedder_->calls.load(), 0);
  EXPECT_EQ(Embeddings(id), (std::vector<std::vector<float>>{{9, 9, 9}}));
}

TEST_F(EngineEmbedTest, UpsertAndUpdateReembedChangedDocuments) {
  std::string id = Create("changes", R"({"type":"known","name":"ksdb-static"})");
  ASSERT_TRUE(engine_->Add(id, Documents({"x", "y"}, {"a", "bb"})).ok());
  // update: y's document changes (re-embedded), x has no new document (kept).
  ASSERT_TRUE(engine_->Update(id, Documents({"x", "y"}, {std::nullopt, "aaaa"})).ok());
  EXPECT_EQ(Embeddings(id), (std::vector<std::vector<float>>{{1, 1, 1}, {4, 4, 1}}));
  ASSERT_TRUE(engine_->Upsert(id, Documents({"x", "w"}, {"aa", "bbb"})).ok());
  EXPECT_EQ(Embeddings(id), (std::vector<std::vector<float>>{{2, 2, 1}, {4, 4, 1}, {3, 0, 1}}));
  EXPECT_EQ(default_embedder_->calls.load(), 3);
  // An update with only metadata does not call the embedder.
  WriteBatch metadata_only;
  metadata_only.ids = {"x"};
  ASSERT_TRUE(engine_->Update(id, metadata_only).ok());
  EXPECT_EQ(default_embedder_->calls.load(), 3);
}

TEST_F(EngineEmbedTest, DefaultEmbedderFillsAddsButUpdateKeepsEmbeddings) {
  // No embedding function chosen: the server's default embeds what add needs,
  // and an update of documents keeps the stored embeddings (Chroma semantics).
  std::string id = Create("implicit");
  ASSERT_TRUE(engine_->Add(id, Documents({"x"}, {"a"})).ok());
  ASSERT_TRUE(engine_->Update(id, Documents({"x"}, {"bbbb"})).ok());
  EXPECT_EQ(Embeddings(id), (std::vector<std::vector<float>>{{1, 1, 1}}));
  EXPECT_EQ(default_embedder_->calls.load(), 1);
}

TEST_F(EngineEmbedTest, QueryTexts) {
  std::string id = Create("query");
  ASSERT_TRUE(engine_->Add(id, Documents({"short", "long"}, {"a", "aaaaaaaaaa"})).ok());
  QueryRequest query;
  query.texts = std::vector<std::string>{"aaaaaaaaa", "b"};
  query.n_results = 1;
  auto hits = engine_->Query(id, query);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[0].records.ids, std::vector<std::string>{"long"});
  EXPECT_EQ((*hits)[1].records.ids, std::vector<std::string>{"short"});
  query.texts = std::vector<std::string>{};
  hits = engine_->Query(id, query);
  ASSERT_TRUE(hits.ok());
  EXPECT_TRUE(hits->empty());
}

TEST_F(EngineEmbedTest, CollectionSelectsEmbedderByNameAndModel) {
  std::string id =
      Create("second", R"({"type":"known","name":"ksdb-static","config":{"model":"fake-b"}})");
  ASSERT_TRUE(engine_->Add(id, Documents({"x"}, {"a"})).ok());
  EXPECT_EQ(second_embedder_->calls.load(), 1);
  EXPECT_EQ(default_embedder_->calls.load(), 0);
  // A client-side function (JS default) falls back to the server's default embedder.
  std::string js = Create("jscoll", R"({"type":"known","name":"default","config":{}})");
  ASSERT_TRUE(engine_->Add(js, Documents({"x"}, {"a"})).ok());
  EXPECT_EQ(default_embedder_->calls.load(), 1);
}

TEST_F(EngineEmbedTest, UnconfiguredEmbedderIsA400) {
  CreateCollectionRequest request;
  request.name = "remote";
  request.embedding_function_json = R"({"type":"known","name":"ksdb-openai","config":{}})";
  auto created = engine_->CreateCollection(kDefaultTenant, kDefaultDatabase, request);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(created.status().message().find("ksdb-openai is not configured"), std::string::npos)
      << created.status().message();
  request.embedding_function_json =
      R"({"type":"known","name":"ksdb-static","config":{"model":"x"}})";
  EXPECT_EQ(engine_->CreateCollection(kDefaultTenant, kDefaultDatabase, request).status().code(),
            StatusCode::kInvalidArgument);
  request.embedding_function_json = R"({"type":"known","name":"ksdb-magic"})";
  EXPECT_EQ(engine_->CreateCollection(kDefaultTenant, kDefaultDatabase, request).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(EngineEmbedTest, RowsWithoutDocumentOrEmbeddingAreRejected) {
  std::string id = Create("partial");
  Status status = engine_->Add(id, Documents({"x", "y"}, {"a", std::nullopt}));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("Record y has neither an embedding nor a document"),
            std::string::npos);
  EXPECT_EQ(*engine_->Count(id), 0u);
  EXPECT_EQ(default_embedder_->calls.load(), 0);
}

TEST(EngineEmbedNoEmbedderTest, DocumentsWithoutEmbedderAreA400) {
  TempDir dir;
  auto engine = testing::OpenEngine(dir.path());
  ASSERT_NE(engine, nullptr);
  CreateCollectionRequest request;
  request.name = "plain";
  auto info = engine->CreateCollection(kDefaultTenant, kDefaultDatabase, request);
  ASSERT_TRUE(info.ok());
  WriteBatch batch;
  batch.ids = {"x"};
  batch.documents = std::vector<std::optional<std::string>>{"hello"};
  Status status = engine->Add(info->id, batch);
  ASSERT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("has no embedding function on this server"), std::string::npos)
      << status.message();
  QueryRequest query;
  query.texts = std::vector<std::string>{"hello"};
  EXPECT_EQ(engine->Query(info->id, query).status().code(), StatusCode::kInvalidArgument);
}

TEST(EngineEmbedNoEmbedderTest, UpdateOfDocumentsWithoutEmbedderKeepsEmbeddings) {
  TempDir dir;
  auto engine = testing::OpenEngine(dir.path());
  ASSERT_NE(engine, nullptr);
  CreateCollectionRequest request;
  request.name = "plain";
  auto info = engine->CreateCollection(kDefaultTenant, kDefaultDatabase, request);
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(engine->Add(info->id, testing::Batch({"x"}, {{1.0f, 2.0f}})).ok());
  // Chroma: an update carrying documents only changes the documents.
  WriteBatch update;
  update.ids = {"x"};
  update.documents = std::vector<std::optional<std::string>>{"new text"};
  ASSERT_TRUE(engine->Update(info->id, update).ok());
  GetRequest get;
  get.include.embeddings = true;
  auto got = engine->Get(info->id, get);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->ids.size(), 1u);
  EXPECT_EQ(got->documents[0], std::optional<std::string>("new text"));
  EXPECT_EQ(got->embeddings[0], (std::vector<float>{1.0f, 2.0f}));
}

}  // namespace
}  // namespace ksdb::db
