// ksdb: the command-line entry point.
//   ksdb run [--path DIR] [--host H] [--port P] [--allow-reset]
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

#include "common/logging.h"
#include "db/engine.h"
#include "server/handlers.h"
#include "server/http_server.h"

namespace {

struct RunOptions {
  std::string path = "./ksdb_data";
  std::string host = "127.0.0.1";
  int port = 8000;
  bool allow_reset = false;
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

int Run(const RunOptions& options) {
  // Block before any thread exists so that every thread inherits the mask.
  sigset_t signals = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ksdb::db::EngineOptions engine_options;
  engine_options.path = options.path;
  engine_options.allow_reset = options.allow_reset;
  ksdb::Result<std::unique_ptr<ksdb::db::Engine>> engine = ksdb::db::Engine::Open(engine_options);
  if (!engine.ok()) {
    std::fprintf(stderr, "ksdb: cannot open data path %s: %s\n", options.path.c_str(),
                 engine.status().message().c_str());
    return 1;
  }

  ksdb::server::ServerContext context{.engine = engine->get()};
  ksdb::server::Router router;
  ksdb::server::RegisterAllRoutes(&router, &context);
  ksdb::server::HttpServerOptions http_options;
  http_options.host = options.host;
  http_options.port = options.port;
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
                                       AbsolutePath(options.path));
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
  run->add_option("--host", options.host, "Address to listen on")->capture_default_str();
  run->add_option("--port", options.port, "Port to listen on (0 = any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  run->add_flag("--allow-reset", options.allow_reset, "Enable POST /api/v2/reset");
  CLI11_PARSE(app, argc, argv);
  return Run(options);
}
