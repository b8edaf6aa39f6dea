// HttpServer: the HTTP/1.1 transport (cpp-httplib) in front of a Router.
//
// Every method and path reaches our own dispatch, so the Chroma conventions of
// spec §1.1 hold: unknown path -> 404 empty body; known path, wrong method ->
// 405 empty body with `allow`; HEAD works on GET routes; bodies over the limit
// -> 413 "Payload too large" (plain text). A handler that throws (e.g.
// std::bad_alloc) yields 500; the server never crashes on input.
//
// Thread safety: Listen() blocks the calling thread; Stop() may be called from
// any other thread (e.g. a signal-waiting thread) at any time.
#ifndef KSDB_SERVER_HTTP_SERVER_H_
#define KSDB_SERVER_HTTP_SERVER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "common/result.h"
#include "server/http_types.h"
#include "server/router.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace ksdb::server {

class ConnectionServer;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;                              // 0 = any free port
  size_t max_payload_bytes = 40 * 1024 * 1024;  // spec §1.1
  // Most requests handled at once: a worker thread (started on demand) is
  // busy with a connection only while one of its requests is read, handled
  // and answered; idle keep-alive connections wait in one epoll set, not in a
  // worker, and idle workers take the next ready connection from it
  // themselves. Further ready requests wait for a free worker.
  // 0 = kDefaultMaxThreads.
  size_t max_threads = 0;
  // Most open connections (busy or idle). A connection beyond it gets a 503
  // "Too many connections" and is closed. Lowered at startup when the open
  // file limit (RLIMIT_NOFILE, minus 256 for the database) is smaller.
  // 0 = kDefaultMaxConnections.
  size_t max_connections = 0;
  int read_timeout_seconds = 60;
  int write_timeout_seconds = 60;
  // How long an idle keep-alive connection stays open. An idle connection
  // holds no thread and Stop() does not wait for it, so this can be long:
  // clients (e.g. a Node client whose event loop was busy) then never send on
  // a socket we closed.
  int keep_alive_timeout_ms = 300000;
};

// The default of HttpServerOptions::max_threads.
inline constexpr size_t kDefaultMaxThreads = 512;
// The default of HttpServerOptions::max_connections.
inline constexpr size_t kDefaultMaxConnections = 4096;

// Converts an httplib request into our HttpRequest view (body and header
// memory stay owned by `in`).
HttpRequest ToHttpRequest(const httplib::Request& in);

// Runs `router` on `request`, turning any escaped exception into a 500. Takes
// the request by value because it gains the matched path parameters.
HttpResponse Dispatch(const Router& router, HttpRequest request);

class HttpServer {
 public:
  // `router` is not owned and must outlive the server.
  HttpServer(const Router* router, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket; Unavailable with the reason when the address is
  // taken or invalid. Returns the bound port (useful with port 0).
  Result<int> Bind();
  // Serves until Stop(). Precondition: Bind() succeeded. Returns an error if the
  // accept loop failed rather than being stopped.
  Status Listen();
  // Stops accepting, ends idle keep-alive connections at once, lets requests
  // in progress finish, and makes Listen() return. Idempotent.
  void Stop();

 private:
  void Handle(const httplib::Request& in, httplib::Response& out) const;

  const Router* router_;
  HttpServerOptions options_;
  std::unique_ptr<ConnectionServer> server_;
};

}  // namespace ksdb::server

#endif  // KSDB_SERVER_HTTP_SERVER_H_
