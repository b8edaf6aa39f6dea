// Engine catalog: tenants, databases, collections, persistence and the lock.
#include <gtest/gtest.h>

#include "test_util.h"

namespace ksdb::db {
namespace {

using testing::OpenEngine;
using testing::TempDir;

TEST(EngineCatalogTest, DefaultsExistOnFirstStart) {
  TempDir dir;
  auto engine = OpenEngine(dir.path());
  ASSERT_TRUE(engine);
  EXPECT_TRUE(engine->GetTenant(kDefaultTenant).ok());
  auto db = engine->GetDatabase(kDefaultTenant, kDefaultDatabase);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(db->id, kDefaultDatabaseId);
}

TEST(EngineCatalogTest, SecondEngineOnSameDirectoryIsRefused) {
  TempDir dir;
  auto first = OpenEngine(dir.path());
  ASSERT_TRUE(first);
  EngineOptions options;
  options.path = dir.path();
  options.store = testing::TestStoreFor(dir.path());
  auto second = Engine::Open(options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("in use by another ksdb process"), std::string::npos);
  first.reset();
  EXPECT_TRUE(Engine::Open(options).ok());  // released with the first engine
}

TEST(EngineCatalogTest, TenantsAndDatabases) {
  TempDir dir;
  auto engine = OpenEngine(dir.path());
  EXPECT_EQ(engine->CreateTenant("ab").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(engine->CreateTenant("ten1").ok());
  EXPECT_EQ(engine->CreateTenant("ten1").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(engine->GetTenant("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine->UpdateTenant("nope", "r").code(), StatusCode::kNotFound);
  ASSERT_TRUE(engine->UpdateTenant("ten1", "res").ok());
  EXPECT_EQ(engine->GetTenant("ten1")->resource_name, "res");

  EXPECT_EQ(engine->CreateDatabase("nope", "db1").code(), StatusCode::kNotFound);
  ASSERT_TRUE(engine->CreateDatabase("ten1", "zzz").ok());
  ASSERT_TRUE(engine->CreateDatabase("ten1", "aaa").ok());
  EXPECT_EQ(engine->CreateDatabase("ten1", "aaa").code(), StatusCode::kAlreadyExists);
  auto list = engine->ListDatabases("ten1", std::nullopt, 0);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "aaa");  // ordered by name
  EXPECT_EQ(engine->ListDatabases("ten1", 1, 1)->at(0).name, "zzz");
  EXPECT_TRUE(engine->ListDatabases("ten1", 0, 0)->empty());
  EXPECT_TRUE(engine->ListDatabases("nobody", std::nullopt, 0)->empty());
  ASSERT_TRUE(engine->DeleteDatabase("ten1", "aaa").ok());
  EXPECT_EQ(engine->DeleteDatabase("ten1", "aaa").code(), StatusCode::kNotFound);
}

TEST(EngineCatalogTest, CollectionNameRules) {
  for (std::string ok : std::vector<std::string>{"abc", "a.b", "a__b", "A-B_c.9", "1abc", "1.2.3", std::string(512, 'x')}) {
    EXPECT_TRUE(ValidateCollectionName(ok).ok()) << ok;
  }
  for (std::string bad : std::vector<std::string>{"ab", "-abc", "abc-", "_abc", "ab c", "ab\xc3\xa9", "abc/def",
                          std::string(513, 'x'), "a..b", "192.168.1.1", "::1"}) {
    EXPECT_EQ(ValidateCollectionName(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(EngineCatalogTest, CreateGetListRenameDelete) {
  TempDir dir;
  auto engine = OpenEngine(dir.path());
  CreateCollectionRequest req;
  req.name = "col1";
  req.metadata.Set("a", int64_t{1});
  auto created = engine->CreateCollection(kDefaultTenant, kDefaultDatabase, req);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(engine->CreateCollection(kDefaultTenant, kDefaultDatabase, req).status().code(),
            StatusCode::kAlreadyExists);
  req.get_or_create = true;
  req.metadata.Set("a", int64_t{2});
  auto again = engine->CreateCollection(kDefaultTenant, kDefaultDatabase, req);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, created->id);
  EXPECT_EQ(std::get<int64_t>(*again->metadata.Find("a")), 1);  // existing one unchanged

  EXPECT_EQ(engine->CreateCollection(kDefaultTenant, "nodb", req).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(engine->CountCollections(kDefaultTenant, kDefaultDatabase).value(), 1u);

  req = CreateCollectionRequest{};
  req.name = "col2";
  ASSERT_TRUE(engine->CreateCollection(kDefaultTenant, kDefaultDatabase, req).ok());
  ModifyCollectionRequest rename;
  rename.new_name = "col2";
  EXPECT_EQ(engine->ModifyCollection(created->id, rename).code(), StatusCode::kAlreadyExists);
  rename.new_name = "col1";  // its own name is fine
  EXPECT_TRUE(engine->ModifyCollection(created->id, rename).ok());
  rename.new_name = "renamed";
  ASSERT_TRUE(engine->ModifyCollection(created->id, rename).ok());
  EXPECT_EQ(engine->GetCollectionByName(kDefaultTenant, kDefaultDatabase, "col1").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(engine->GetCollectionByName(kDefaultTenant, kDefaultDatabase, "renamed")->id,
            created->id);

  auto list = engine->ListCollections(kDefaultTenant, kDefaultDatabase, std::nullopt, 0);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_LT((*list)[0].id, (*list)[1].id);  // ordered by id

  ASSERT_TRUE(engine->DeleteCollection(kDefaultTenant, kDefaultDatabase, "renamed").ok());
  EXPECT_EQ(engine->GetCollectionById(created->id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine->Count(created->id).status().code(), StatusCode::kNotFound);
}

TEST(EngineCatalogTest, ConfigurationAndLegacyMetadata) {
  TempDir dir;
  auto engine = OpenEngine(dir.path());
  CreateCollectionRequest req;
  req.name = "legacy";
  req.metadata.Set("hnsw:space", std::string("cosine"));
  req.metadata.Set("hnsw:M", int64_t{32});
  auto legacy = engine->CreateCollection(kDefaultTenant, kDefaultDatabase, req);
  ASSERT_TRUE(legacy.ok());
  EXPECT_EQ(legacy->config.hnsw.space, DistanceSpace::kCosine);
  EXPECT_EQ(legacy->config.hnsw.max_neighbors, 32u);
  EXPECT_TRUE(legacy->metadata.Find("hnsw:M"));  // keys stay in metadata

  req.name = "explicit";
  HnswConfig hnsw;
  hnsw.space = DistanceSpace::kIp;
  req.hnsw = hnsw;  // configuration wins over metadata
  EXPECT_EQ(engine->CreateCollection(kDefaultTenant, kDefaultDatabase, req)->config.hnsw.space,
            DistanceSpace::kIp);

  req.name = "badcfg";
  req.hnsw->max_neighbors = 0;
  EXPECT_EQ(engine->CreateCollection(kDefaultTenant, kDefaultDatabase, req).status().code(),
            StatusCode::kInvalidArgument);

  req = CreateCollectionRequest{};
  req.name = "reserved";
  req.metadata.Set("chroma:document", std::string("x"));
  EXPECT_EQ(engine->CreateCollection(kDefaultTenant, kDefaultDatabase, req).status().code(),
            StatusCode::kInvalidArgument);

  ModifyCollectionRequest modify;
  CollectionConfigPatch patch;
  patch.hnsw.ef_search = 7;
  modify.new_configuration = patch;
  ASSERT_TRUE(engine->ModifyCollection(legacy->id, modify).ok());
  EXPECT_EQ(engine->GetCollectionById(legacy->id)->config.hnsw.ef_search, 7u);
  patch.hnsw.max_neighbors = 1;
  modify.new_configuration = patch;
  EXPECT_EQ(engine->ModifyCollection(legacy->id, modify).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(engine->GetCollectionById(legacy->id)->config.hnsw.max_neighbors, 32u);
}

TEST(EngineCatalogTest, CatalogSurvivesReopen) {
  TempDir dir;
  std::string id;
  {
    auto engine = OpenEngine(dir.path());
    ASSERT_TRUE(engine->CreateTenant("ten1").ok());
    ASSERT_TRUE(engine->CreateDatabase("ten1", "db1").ok());
    CreateCollectionRequest req;
    req.name = "keep";
    req.metadata.Set("k", 2.5);
    req.embedding_function_json = R"({"type":"legacy"})";
    id = engine->CreateCollection("ten1", "db1", req)->id;
  }
  auto engine = OpenEngine(dir.path());
  auto info = engine->GetCollectionById(id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->name, "keep");
  EXPECT_EQ(info->tenant, "ten1");
  EXPECT_EQ(std::get<double>(*info->metadata.Find("k")), 2.5);
  EXPECT_EQ(info->config.embedding_function_json, R"({"type":"legacy"})");
}

TEST(EngineCatalogTest, DeleteDatabaseDropsItsCollections) {
  TempDir dir;
  auto engine = OpenEngine(dir.path());
  ASSERT_TRUE(engine->CreateDatabase(kDefaultTenant, "db2").ok());
  CreateCollectionRequest req;
  req.name = "inner";
  auto info = engine->CreateCollection(kDefaultTenant, "db2", req);
  ASSERT_TRUE(engine->Add(info->id, testing::Batch({"a"}, {{1, 2}})).ok());
  ASSERT_TRUE(engine->DeleteDatabase(kDefaultTenant, "db2").ok());
  EXPECT_EQ(engine->GetCollectionById(info->id).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(engine->CreateDatabase(kDefaultTenant, "db2").ok());
  EXPECT_EQ(engine->GetCollectionByName(kDefaultTenant, "db2", "inner").status().code(),
            StatusCode::kNotFound);
}

TEST(EngineCatalogTest, ResetIsForbiddenByDefaultAndWipesWhenAllowed) {
  TempDir dir;
  {
    auto engine = OpenEngine(dir.path());
    EXPECT_EQ(engine->Reset().code(), StatusCode::kForbidden);
  }
  auto engine = OpenEngine(dir.path(), /*allow_reset=*/true);
  ASSERT_TRUE(engine->CreateTenant("ten1").ok());
  std::string id = testing::CreateCollection(engine.get(), "gone");
  ASSERT_TRUE(engine->Reset().ok());
  EXPECT_EQ(engine->GetTenant("ten1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine->GetCollectionById(id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(engine->GetDatabase(kDefaultTenant, kDefaultDatabase).ok());
}

}  // namespace
}  // namespace ksdb::db
