#include "embed/openai_embedder.h"

#include <httplib.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <thread>

#include "embed/file_util.h"

namespace ksdb::embed {
namespace {

constexpr size_t kMaxQuotedBody = 300;

bool Retryable(int status) {
  return status == 429 || status >= 500;
}

// The server's own message: error.message or error (string) of a JSON body, else the
// start of the body.
std::string ServerMessage(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body).get(root) == simdjson::SUCCESS) {
    std::string_view message;
    if (root["error"]["message"].get_string().get(message) == simdjson::SUCCESS ||
        root["error"].get_string().get(message) == simdjson::SUCCESS ||
        root["message"].get_string().get(message) == simdjson::SUCCESS) {
      return std::string(message.substr(0, kMaxQuotedBody));
    }
  }
  std::string start = body.substr(0, kMaxQuotedBody);
  if (body.size() > kMaxQuotedBody)
    start += "...";
  return start;
}

std::chrono::milliseconds Backoff(const OpenAiEmbedderOptions& options, int attempt,
                                  const std::string& retry_after) {
  auto delay = options.initial_backoff * (int64_t{1} << std::min(attempt, 20));
  // A Retry-After in seconds from the server wins when it is longer, within the cap.
  char* end = nullptr;
  long seconds = retry_after.empty() ? 0 : std::strtol(retry_after.c_str(), &end, 10);
  if (seconds > 0 && end != nullptr && *end == '\0') {
    delay = std::max<std::chrono::milliseconds>(delay, std::chrono::seconds(seconds));
  }
  return std::min(delay, options.max_backoff);
}

Status ParseBaseUrl(const std::string& url, std::string* scheme_host_port, std::string* path) {
  size_t scheme_end = url.find("://");
  std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return Status::InvalidArgument("openai embedder: base URL '" + url +
                                   "' must start with http:// or https://");
  }
  size_t host_start = scheme_end + 3;
  size_t path_start = url.find('/', host_start);
  std::string authority = url.substr(host_start, path_start - host_start);
  if (authority.empty() || authority.find('@') != std::string::npos) {
    return Status::InvalidArgument("openai embedder: base URL '" + url +
                                   "' needs a host (and no user:password@)");
  }
  *scheme_host_port = scheme + "://" + authority;
  std::string prefix = path_start == std::string::npos ? "" : url.substr(path_start);
  while (!prefix.empty() && prefix.back() == '/')
    prefix.pop_back();
  if (prefix.size() >= 3 && prefix.compare(prefix.size() - 3, 3, "/v1") == 0) {
    prefix.resize(prefix.size() - 3);
  }
  *path = prefix + "/v1/embeddings";
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<OpenAiEmbedder>> OpenAiEmbedder::Create(OpenAiEmbedderOptions options) {
  auto embedder = std::make_unique<OpenAiEmbedder>();
  KSDB_RETURN_IF_ERROR(
      ParseBaseUrl(options.base_url, &embedder->scheme_host_port_, &embedder->path_));
  if (options.model.empty())
    return Status::InvalidArgument("openai embedder: no model given");
  if (options.max_batch == 0) {
    return Status::InvalidArgument("openai embedder: max_batch must be at least 1");
  }
  if (options.max_retries < 0)
    options.max_retries = 0;
  if (!options.api_key_env.empty()) {
    const char* key = std::getenv(options.api_key_env.c_str());
    if (key == nullptr || *key == '\0') {
      return Status::InvalidArgument("openai embedder: environment variable " +
                                     options.api_key_env + " (the API key) is not set");
    }
    embedder->api_key_ = key;
  }
  embedder->dim_.store(options.dim);
  embedder->options_ = std::move(options);
  return embedder;
}

std::string OpenAiEmbedder::Describe() const {
  return "openai embedder (POST " + scheme_host_port_ + path_ + ", model " + options_.model + ")";
}

Result<std::vector<float>> OpenAiEmbedder::Embed(std::span<const std::string> texts) const {
  std::vector<float> out;
  for (size_t begin = 0; begin < texts.size(); begin += options_.max_batch) {
    size_t count = std::min(options_.max_batch, texts.size() - begin);
    KSDB_ASSIGN_OR_RETURN(std::vector<float> batch, EmbedBatch(texts.subspan(begin, count)));
    if (out.empty())
      out.reserve(batch.size() / count * texts.size());
    out.insert(out.end(), batch.begin(), batch.end());
  }
  return out;
}

Result<std::vector<float>> OpenAiEmbedder::EmbedBatch(std::span<const std::string> texts) const {
  std::string body = "{\"model\":";
  AppendJsonString(options_.model, &body);
  body += ",\"input\":[";
  for (size_t i = 0; i < texts.size(); ++i) {
    if (i > 0)
      body += ',';
    AppendJsonString(texts[i], &body);
  }
  body += "]}";
  for (int attempt = 0;; ++attempt) {
    Response response = Post(body);
    bool transport_failed = !response.transport_error.empty();
    if (!transport_failed && response.status >= 200 && response.status < 300) {
      return ParseAnswer(response.body, texts.size());
    }
    std::string problem = transport_failed ? response.transport_error
                                           : "HTTP " + std::to_string(response.status) + ": " +
                                                 ServerMessage(response.body);
    bool retry = transport_failed || Retryable(response.status);
    if (retry && attempt < options_.max_retries) {
      std::this_thread::sleep_for(Backoff(options_, attempt, response.retry_after));
      continue;
    }
    std::string message = Describe() + " failed: " + problem;
    if (retry) {
      return Status::Unavailable(message + " (after " + std::to_string(attempt + 1) + " attempts)");
    }
    if (response.status == 400 || response.status == 413 || response.status == 422) {
      return Status::InvalidArgument(message);
    }
    return Status::Unavailable(message);
  }
}

OpenAiEmbedder::Response OpenAiEmbedder::Post(const std::string& body) const {
  Response response;
  try {
    httplib::Client client(scheme_host_port_);
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options_.timeout);
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(options_.timeout - seconds);
    client.set_connection_timeout(seconds.count(), micros.count());
    client.set_read_timeout(seconds.count(), micros.count());
    client.set_write_timeout(seconds.count(), micros.count());
    httplib::Headers headers;
    if (!api_key_.empty())
      headers.emplace("Authorization", "Bearer " + api_key_);
    httplib::Result result = client.Post(path_, headers, body, "application/json");
    if (!result) {
      response.transport_error = "no answer (" + httplib::to_string(result.error()) + ")";
      return response;
    }
    response.status = result->status;
    response.body = result->body;
    response.retry_after = result->get_header_value("Retry-After");
  } catch (const std::exception& error) {
    response.transport_error = std::string("client error: ") + error.what();
  }
  return response;
}

Result<std::vector<float>> OpenAiEmbedder::ParseAnswer(const std::string& body,
                                                       size_t count) const {
  auto bad = [&](const std::string& what) {
    return Status::Internal(Describe() + " returned a malformed answer: " + what);
  };
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body).get(root) != simdjson::SUCCESS)
    return bad("not JSON");
  simdjson::dom::array data;
  if (root["data"].get_array().get(data) != simdjson::SUCCESS)
    return bad("no \"data\" array");
  if (data.size() != count) {
    return bad(std::to_string(data.size()) + " embeddings for " + std::to_string(count) +
               " inputs");
  }
  size_t dim = dim_.load(std::memory_order_relaxed);
  std::vector<float> out;
  std::vector<bool> seen(count, false);
  size_t position = 0;
  for (simdjson::dom::element item : data) {
    // Items are placed by their "index" (servers may answer out of order).
    uint64_t index = position++;
    simdjson::dom::element index_value;
    if (item["index"].get(index_value) == simdjson::SUCCESS &&
        index_value.get_uint64().get(index) != simdjson::SUCCESS) {
      return bad("\"index\" is not a non-negative integer");
    }
    if (index >= count || seen[index])
      return bad("index " + std::to_string(index) + " invalid or repeated");
    seen[index] = true;
    simdjson::dom::array values;
    if (item["embedding"].get_array().get(values) != simdjson::SUCCESS) {
      return bad("item " + std::to_string(index) + " has no \"embedding\" array");
    }
    if (dim == 0)
      dim = values.size();
    if (values.size() != dim || dim == 0) {
      return bad("embedding " + std::to_string(index) + " has dimension " +
                 std::to_string(values.size()) + ", expected " + std::to_string(dim));
    }
    if (out.empty())
      out.resize(count * dim);
    float* row = out.data() + index * dim;
    for (simdjson::dom::element value : values) {
      double number;
      if (value.get_double().get(number) != simdjson::SUCCESS || !std::isfinite(number)) {
        return bad("embedding " + std::to_string(index) + " holds a non-numeric value");
      }
      *row++ = static_cast<float>(number);
    }
  }
  size_t expected = 0;
  dim_.compare_exchange_strong(expected, dim, std::memory_order_relaxed);
  return out;
}

}  // namespace ksdb::embed
