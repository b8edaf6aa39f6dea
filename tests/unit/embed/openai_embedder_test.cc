#include "embed/openai_embedder.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>

namespace ksdb::embed {
namespace {

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

// An httplib server on 127.0.0.1 and a free port, answering POST /v1/embeddings with
// `handler`, recording every request body.
class FakeEndpoint {
 public:
  explicit FakeEndpoint(Handler handler) : handler_(std::move(handler)) {
    server_.Post("/v1/embeddings",
                 [this](const httplib::Request& request, httplib::Response& response) {
                   {
                     std::lock_guard lock(mutex_);
                     bodies_.push_back(request.body);
                     authorization_ = request.get_header_value("Authorization");
                   }
                   handler_(request, response);
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // bind_to_any_port already listens, so connections queue until the accept loop runs.
  }
  ~FakeEndpoint() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mutex_);
    return bodies_;
  }
  std::string authorization() {
    std::lock_guard lock(mutex_);
    return authorization_;
  }

 private:
  Handler handler_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> bodies_;
  std::string authorization_;
};

// Answers like OpenAI: embedding i of the request is [len(text_i), i, 0.5], items in
// reverse order to check sorting by index.
void GoodAnswer(const httplib::Request& request, httplib::Response& response) {
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(request.body).value();
  simdjson::dom::array input = root["input"].get_array().value();
  std::string body = "{\"object\":\"list\",\"data\":[";
  for (size_t k = 0; k < input.size(); ++k) {
    size_t i = input.size() - 1 - k;
    std::string_view text = input.at(i).get_string().value();
    if (k > 0)
      body += ',';
    body += "{\"object\":\"embedding\",\"index\":" + std::to_string(i) + ",\"embedding\":[" +
            std::to_string(text.size()) + "," + std::to_string(i) + ",0.5]}";
  }
  body += "],\"model\":\"m\"}";
  response.set_content(body, "application/json");
}

OpenAiEmbedderOptions Options(const std::string& url) {
  OpenAiEmbedderOptions options;
  options.base_url = url;
  options.model = "test-model";
  options.timeout = std::chrono::milliseconds(2000);
  options.initial_backoff = std::chrono::milliseconds(1);
  options.max_backoff = std::chrono::milliseconds(5);
  options.max_retries = 3;
  return options;
}

TEST(OpenAiEmbedderTest, BatchesAndSortsByIndex) {
  FakeEndpoint endpoint(GoodAnswer);
  setenv("KSDB_TEST_OPENAI_KEY", "sk-secret", 1);
  OpenAiEmbedderOptions options = Options(endpoint.url());
  options.max_batch = 2;
  options.api_key_env = "KSDB_TEST_OPENAI_KEY";
  auto embedder = OpenAiEmbedder::Create(options);
  ASSERT_TRUE(embedder.ok()) << embedder.status().ToString();
  EXPECT_EQ((*embedder)->dim(), 0u);
  std::vector<std::string> texts = {"a", "bb", "ccc \"quoted\"\n", "dddd", "é"};
  auto out = (*embedder)->Embed(texts);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*embedder)->dim(), 3u);
  EXPECT_EQ(*out, (std::vector<float>{1, 0, 0.5, 2, 1, 0.5, 13, 0, 0.5, 4, 1, 0.5, 2, 0, 0.5}));
  std::vector<std::string> bodies = endpoint.bodies();
  ASSERT_EQ(bodies.size(), 3u);
  EXPECT_EQ(bodies[0], R"({"model":"test-model","input":["a","bb"]})");
  EXPECT_EQ(endpoint.authorization(), "Bearer sk-secret");
}

TEST(OpenAiEmbedderTest, RetriesAfter429ThenSucceeds) {
  std::atomic<int> calls = 0;
  FakeEndpoint endpoint([&](const httplib::Request& request, httplib::Response& response) {
    if (calls++ < 2) {
      response.status = 429;
      response.set_content(R"({"error":{"message":"slow down"}})", "application/json");
      return;
    }
    GoodAnswer(request, response);
  });
  auto embedder = OpenAiEmbedder::Create(Options(endpoint.url()));
  ASSERT_TRUE(embedder.ok());
  auto out = (*embedder)->Embed(std::vector<std::string>{"x"});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(calls.load(), 3);
}

TEST(OpenAiEmbedderTest, ServerErrorsExhaustRetries) {
  std::atomic<int> calls = 0;
  FakeEndpoint endpoint([&](const httplib::Request&, httplib::Response& response) {
    ++calls;
    response.status = 500;
    response.set_content(R"({"error":{"message":"model exploded"}})", "application/json");
  });
  setenv("KSDB_TEST_OPENAI_KEY", "sk-secret", 1);
  OpenAiEmbedderOptions options = Options(endpoint.url());
  options.api_key_env = "KSDB_TEST_OPENAI_KEY";
  auto embedder = OpenAiEmbedder::Create(options);
  ASSERT_TRUE(embedder.ok());
  auto out = (*embedder)->Embed(std::vector<std::string>{"x"});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(calls.load(), 4);  // 1 + max_retries
  std::string message = out.status().message();
  EXPECT_NE(message.find("HTTP 500: model exploded"), std::string::npos) << message;
  EXPECT_NE(message.find("after 4 attempts"), std::string::npos) << message;
  EXPECT_EQ(message.find("sk-secret"), std::string::npos);
}

TEST(OpenAiEmbedderTest, ClientErrorsAreNotRetried) {
  std::atomic<int> calls = 0;
  FakeEndpoint endpoint([&](const httplib::Request&, httplib::Response& response) {
    ++calls;
    response.status = 401;
    response.set_content("invalid api key", "text/plain");
  });
  auto embedder = OpenAiEmbedder::Create(Options(endpoint.url()));
  ASSERT_TRUE(embedder.ok());
  auto out = (*embedder)->Embed(std::vector<std::string>{"x"});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(calls.load(), 1);
  EXPECT_NE(out.status().message().find("HTTP 401: invalid api key"), std::string::npos)
      << out.status().message();
}

void ExpectMalformed(const std::string& body, const std::string& words) {
  FakeEndpoint endpoint([&](const httplib::Request&, httplib::Response& response) {
    response.set_content(body, "application/json");
  });
  auto embedder = OpenAiEmbedder::Create(Options(endpoint.url()));
  ASSERT_TRUE(embedder.ok());
  auto out = (*embedder)->Embed(std::vector<std::string>{"x", "y"});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInternal);
  EXPECT_NE(out.status().message().find(words), std::string::npos) << out.status().message();
}

TEST(OpenAiEmbedderTest, MalformedAnswers) {
  ExpectMalformed("{not json", "not JSON");
  ExpectMalformed(R"({"result":[]})", "no \"data\" array");
  ExpectMalformed(R"({"data":[{"index":0,"embedding":[1,2]}]})", "1 embeddings for 2 inputs");
  ExpectMalformed(R"({"data":[{"index":0,"embedding":[1,2]},{"index":1,"embedding":[1]}]})",
                  "dimension 1, expected 2");
  ExpectMalformed(R"({"data":[{"index":0,"embedding":[1,2]},{"index":0,"embedding":[1,2]}]})",
                  "repeated");
  ExpectMalformed(R"({"data":[{"index":0,"embedding":[1,"a"]},{"index":1,"embedding":[1,2]}]})",
                  "non-numeric");
}

TEST(OpenAiEmbedderTest, TimeoutIsUnavailable) {
  std::mutex mutex;
  std::condition_variable released_cv;
  bool released = false;
  FakeEndpoint endpoint([&](const httplib::Request& request, httplib::Response& response) {
    // Hold the answer until the client has given up (the test releases it afterwards).
    std::unique_lock lock(mutex);
    released_cv.wait(lock, [&] { return released; });
    GoodAnswer(request, response);
  });
  OpenAiEmbedderOptions options = Options(endpoint.url());
  options.timeout = std::chrono::milliseconds(200);
  options.max_retries = 1;
  auto embedder = OpenAiEmbedder::Create(options);
  ASSERT_TRUE(embedder.ok());
  auto out = (*embedder)->Embed(std::vector<std::string>{"x"});
  {
    std::lock_guard lock(mutex);
    released = true;
  }
  released_cv.notify_all();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(out.status().message().find("no answer"), std::string::npos) << out.status().message();
}

TEST(OpenAiEmbedderTest, UnreachableHostIsUnavailable) {
  int port;
  {
    httplib::Server probe;
    port = probe.bind_to_any_port("127.0.0.1");
  }  // closed again: nothing listens there now
  OpenAiEmbedderOptions options = Options("http://127.0.0.1:" + std::to_string(port));
  options.max_retries = 0;
  auto embedder = OpenAiEmbedder::Create(options);
  ASSERT_TRUE(embedder.ok());
  auto out = (*embedder)->Embed(std::vector<std::string>{"x"});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kUnavailable);
}

TEST(OpenAiEmbedderTest, OptionsAreValidated) {
  EXPECT_FALSE(OpenAiEmbedder::Create(Options("ftp://x")).ok());
  EXPECT_FALSE(OpenAiEmbedder::Create(Options("http://")).ok());
  EXPECT_FALSE(OpenAiEmbedder::Create(Options("http://user:pw@host")).ok());
  OpenAiEmbedderOptions no_model = Options("http://h");
  no_model.model.clear();
  EXPECT_FALSE(OpenAiEmbedder::Create(no_model).ok());
  OpenAiEmbedderOptions missing_key = Options("http://h");
  missing_key.api_key_env = "KSDB_TEST_SURELY_UNSET_VARIABLE";
  auto created = OpenAiEmbedder::Create(missing_key);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().message().find("KSDB_TEST_SURELY_UNSET_VARIABLE"), std::string::npos);
  auto prefixed = OpenAiEmbedder::Create(Options("https://api.example.com/v1/"));
  ASSERT_TRUE(prefixed.ok());
  EXPECT_EQ((*prefixed)->scheme_host_port(), "https://api.example.com");
  EXPECT_EQ((*prefixed)->endpoint_path(), "/v1/embeddings");
  auto proxied = OpenAiEmbedder::Create(Options("http://h:8080/proxy"));
  ASSERT_TRUE(proxied.ok());
  EXPECT_EQ((*proxied)->endpoint_path(), "/proxy/v1/embeddings");
}

}  // namespace
}  // namespace ksdb::embed
