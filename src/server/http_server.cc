#include "server/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>

#include "common/logging.h"
#include "server/errors.h"
#include "server/http_connection.h"

namespace ksdb::server {
namespace {

ConnectionTimeouts TimeoutsOf(const HttpServerOptions& options) {
  return ConnectionTimeouts{.idle_ms = options.keep_alive_timeout_ms,
                            .read_ms = options.read_timeout_seconds * 1000,
                            .write_ms = options.write_timeout_seconds * 1000};
}

ConnectionLimits LimitsOf(const HttpServerOptions& options) {
  return ConnectionLimits{
      .max_threads = options.max_threads != 0 ? options.max_threads : kDefaultMaxThreads,
      .max_connections =
          options.max_connections != 0 ? options.max_connections : kDefaultMaxConnections};
}

// Takes `response` by value so that its body (a whole get/query result) is
// moved into httplib's response rather than copied.
void WriteResponse(HttpResponse response, httplib::Response& out) {
  out.status = response.status;
  for (const auto& [name, value] : response.headers)
    out.set_header(name, value);
  if (!response.content_type.empty()) {
    // What set_content does, minus its copy of the body.
    out.headers.erase("Content-Type");
    out.set_header("Content-Type", response.content_type);
  }
  out.body = std::move(response.body);
}

HttpResponse InternalErrorResponse(const char* what) {
  Log(LogLevel::kError, std::string("request handler threw: ") + what);
  return ErrorResponse(Status::Internal(what));
}

}  // namespace

HttpRequest ToHttpRequest(const httplib::Request& in) {
  HttpRequest request;
  request.method = in.method;
  // Route on the raw target: httplib's decoded path would turn %2F into '/'.
  std::string_view target = in.target.empty() ? std::string_view(in.path) : in.target;
  request.path = std::string(target.substr(0, target.find('?')));
  for (const auto& [key, value] : in.params)
    request.query_params.emplace_back(key, value);
  auto content_type = in.headers.find("Content-Type");
  if (content_type != in.headers.end()) {
    request.has_content_type = true;
    request.content_type = content_type->second;
  }
  request.body = in.body;
  return request;
}

HttpResponse Dispatch(const Router& router, HttpRequest request) {
  try {
    Router::Match match = router.Find(request.method, request.path);
    if (match.kind == Router::MatchKind::kNotFound) {
      HttpResponse response;
      response.status = 404;
      return response;
    }
    if (match.kind == Router::MatchKind::kMethodNotAllowed) {
      HttpResponse response;
      response.status = 405;
      response.headers.emplace_back("allow", match.allow);
      return response;
    }
    request.path_params = std::move(match.params);
    return (*match.handler)(request);
  } catch (const std::exception& e) {
    return InternalErrorResponse(e.what());
  } catch (...) {
    return InternalErrorResponse("unknown exception");
  }
}

HttpServer::HttpServer(const Router* router, HttpServerOptions options)
    : router_(router),
      options_(std::move(options)),
      server_(std::make_unique<ConnectionServer>(TimeoutsOf(options_), LimitsOf(options_))) {
  server_->set_payload_max_length(options_.max_payload_bytes);
  // Our connection loop enforces the idle timeout; httplib only advertises it in the
  // Keep-Alive response header (clients close their side before it).
  server_->set_keep_alive_timeout(std::max(1, options_.keep_alive_timeout_ms / 1000));
  server_->set_keep_alive_max_count(100000);
  server_->set_tcp_nodelay(true);
  // httplib's default also sets SO_REUSEPORT, which would let a second server
  // silently share our port; SO_REUSEADDR alone still allows quick restarts.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  auto handler = [this](const httplib::Request& in, httplib::Response& out) { Handle(in, out); };
  // Catch-all patterns: routing, 404 and 405 are ours, not httplib's.
  const std::string any = "[\\s\\S]*";
  server_->Get(any, handler);
  server_->Post(any, handler);
  server_->Put(any, handler);
  server_->Patch(any, handler);
  server_->Delete(any, handler);
  server_->Options(any, handler);
  httplib::Server::HandlerWithResponse error_handler = [](const httplib::Request&,
                                                          httplib::Response& out) {
    // Only the transport's own 413 needs a body; everything else we produced.
    if (out.status != 413)
      return httplib::Server::HandlerResponse::Unhandled;
    WriteResponse(PayloadTooLargeResponse(), out);
    return httplib::Server::HandlerResponse::Handled;
  };
  server_->set_error_handler(std::move(error_handler));
  server_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& out, std::exception_ptr) {
        WriteResponse(InternalErrorResponse("exception in transport"), out);
      });
}

HttpServer::~HttpServer() {
  Stop();
}

void HttpServer::Handle(const httplib::Request& in, httplib::Response& out) const {
  try {
    // httplib enforces the limit on Content-Length bodies only; chunked bodies
    // are checked here.
    if (in.body.size() > options_.max_payload_bytes) {
      WriteResponse(PayloadTooLargeResponse(), out);
      return;
    }
    WriteResponse(Dispatch(*router_, ToHttpRequest(in)), out);
  } catch (...) {
    // Even building the error response can fail under memory pressure.
    out.status = 500;
    out.body.clear();
  }
}

Result<int> HttpServer::Bind() {
  int port = options_.port;
  if (port == 0) {
    port = server_->bind_to_any_port(options_.host);
    if (port < 0)
      port = 0;
  } else if (!server_->bind_to_port(options_.host, port)) {
    port = 0;
  }
  if (port == 0) {
    return Status::Unavailable("cannot bind " + options_.host + ":" +
                               std::to_string(options_.port) + ": " + std::strerror(errno));
  }
  server_->WidenBacklog();
  return port;
}

Status HttpServer::Listen() {
  if (!server_->ServeAfterBind())
    return Status::Unavailable("HTTP accept loop failed");
  return Status::Ok();
}

void HttpServer::Stop() {
  server_->StopAll();
}

}  // namespace ksdb::server
