// The `openai` provider: a client for any OpenAI-compatible embeddings endpoint
// (OpenAI, Ollama, vLLM, llama.cpp, TEI): POST {base}/v1/embeddings with
// {"model": M, "input": [texts]} -> {"data": [{"index": i, "embedding": [...]}]}.
#ifndef KSDB_EMBED_OPENAI_EMBEDDER_H_
#define KSDB_EMBED_OPENAI_EMBEDDER_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "embed/embedder.h"

namespace ksdb::embed {

struct OpenAiEmbedderOptions {
  std::string name = "ksdb-openai";
  // http(s)://host[:port][/prefix]; requests go to {prefix}/v1/embeddings (a prefix that
  // already ends in /v1 is not doubled).
  std::string base_url;
  std::string model;
  // Name of the environment variable holding the API key (sent as a Bearer token);
  // empty = no Authorization header. Read once, at Create.
  std::string api_key_env;
  size_t max_batch = 256;                    // inputs per request
  std::chrono::milliseconds timeout{30000};  // connect, read and write, per request
  int max_retries = 4;  // extra attempts after a 429, a 5xx or a transport error
  std::chrono::milliseconds initial_backoff{250};  // doubled per retry
  std::chrono::milliseconds max_backoff{8000};
  size_t dim = 0;  // expected dimension; 0 = learned from the first answer
};

class OpenAiEmbedder final : public Embedder {
 public:
  // Validates the options (scheme http/https, host, model, max_batch > 0; the key
  // variable must be set when named). Does not contact the server.
  static Result<std::unique_ptr<OpenAiEmbedder>> Create(OpenAiEmbedderOptions options);

  const std::string& name() const override { return options_.name; }
  const std::string& model() const override { return options_.model; }
  size_t dim() const override { return dim_.load(std::memory_order_relaxed); }
  // One request per max_batch texts, in order. Errors: Unavailable when the server
  // cannot be reached, times out, or keeps answering 429/5xx; InvalidArgument when it
  // rejects the input (400/413/422); Internal for malformed answers (wrong count,
  // missing or non-numeric embeddings, dimension changes). Messages carry the HTTP
  // status and the server's message, never the API key.
  Result<std::vector<float>> Embed(std::span<const std::string> texts) const override;

  // Parsed pieces of base_url (exposed for tests).
  const std::string& scheme_host_port() const { return scheme_host_port_; }
  const std::string& endpoint_path() const { return path_; }

 private:
  struct Response {
    int status = 0;
    std::string body;
    std::string retry_after;
    std::string transport_error;  // non-empty when no HTTP answer arrived
  };

  Result<std::vector<float>> EmbedBatch(std::span<const std::string> texts) const;
  Response Post(const std::string& body) const;
  Result<std::vector<float>> ParseAnswer(const std::string& body, size_t count) const;
  std::string Describe() const;

  OpenAiEmbedderOptions options_;
  std::string api_key_;
  std::string scheme_host_port_;
  std::string path_;
  mutable std::atomic<size_t> dim_{0};
};

}  // namespace ksdb::embed

#endif  // KSDB_EMBED_OPENAI_EMBEDDER_H_
