// ksdb._native: the ksdb engine in-process for the Python package.
//
// The module opens a db::Engine and serves Chroma API v2 requests against it
// through the server's own router and handlers, without sockets. Python sends
// (method, path, query, body) and gets (status, body) back: PersistentClient
// and HttpClient therefore share one request encoder, one result decoder and
// one error mapping, and every validation rule and error message is the
// server's. The GIL is released while the engine works.
//
// Errors: pybind11 is the Python boundary, so failures to open the engine are
// raised as NativeError(code_name, message); request errors travel as HTTP
// statuses with Chroma's JSON error body, exactly as over the network.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "db/engine.h"
#include "embed/embedder_spec.h"
#include "server/handler_util.h"
#include "server/handlers.h"
#include "server/http_server.h"
#include "server/router.h"

namespace py = pybind11;

namespace ksdb::python {
namespace {

// Raised when the engine cannot be opened or has been closed; args are
// (status code name, message).
py::handle g_native_error;

[[noreturn]] void ThrowNativeError(const Status& status) {
  py::object args = py::make_tuple(StatusCodeName(status.code()), status.message());
  PyErr_SetObject(g_native_error.ptr(), args.ptr());
  throw py::error_already_set();
}

// The embedders named by `specs`, in order (the first is the default).
Result<std::shared_ptr<db::EmbedderRegistry>> LoadEmbedders(const std::vector<std::string>& specs) {
  auto registry = std::make_shared<db::EmbedderRegistry>();
  for (const std::string& text : specs) {
    KSDB_ASSIGN_OR_RETURN(embed::EmbedderSpec spec, embed::ParseEmbedderSpec(text));
    KSDB_ASSIGN_OR_RETURN(std::unique_ptr<embed::Embedder> embedder, embed::CreateEmbedder(spec));
    registry->Add(std::move(embedder));
  }
  return registry;
}

// An open engine plus the router that serves API requests against it.
class NativeEngine {
 public:
  // Opens the data directory (taking its lock). Raises NativeError on failure.
  // `embedders` are `ksdb run --embedder` values (static:DIR, openai:URL#MODEL);
  // the first is the default.
  NativeEngine(const std::string& path, bool allow_reset, const std::string& synchronous,
               const std::vector<std::string>& embedders) {
    db::EngineOptions options;
    options.path = path;
    options.allow_reset = allow_reset;
    options.sqlite_synchronous = synchronous;
    if (!embedders.empty()) {
      Result<std::shared_ptr<db::EmbedderRegistry>> registry = LoadEmbedders(embedders);
      if (!registry.ok())
        ThrowNativeError(registry.status());
      options.embedders = std::move(registry).value();
    }
    Result<std::unique_ptr<db::Engine>> engine = [&] {
      py::gil_scoped_release release;
      return db::Engine::Open(options);
    }();
    if (!engine.ok())
      ThrowNativeError(engine.status());
    engine_ = std::move(engine).value();
    context_.engine = engine_.get();
    server::RegisterAllRoutes(&router_, &context_);
  }

  // Serves one request; returns (HTTP status, response body). `query` holds
  // decoded query-string pairs. Raises NativeError after Close().
  py::tuple Request(const std::string& method, const std::string& path,
                    const server::StringPairs& query, const py::bytes& body) {
    server::HttpRequest request;
    request.method = method;
    request.path = path;
    request.query_params = query;
    char* data = nullptr;
    Py_ssize_t size = 0;
    PyBytes_AsStringAndSize(body.ptr(), &data, &size);
    request.body = std::string_view(data, static_cast<size_t>(size));
    if (size > 0) {
      request.has_content_type = true;
      request.content_type = "application/json";
    }
    server::HttpResponse response;
    bool served = false;
    {
      // `body` stays referenced by the caller, so its buffer outlives the call.
      py::gil_scoped_release release;
      std::shared_lock lock(mutex_);
      if (engine_ != nullptr) {
        response = server::Dispatch(router_, std::move(request));
        served = true;
      }
    }
    if (!served)
      ThrowNativeError(Status::Unavailable("the ksdb engine is closed"));
    return py::make_tuple(response.status, py::bytes(response.body));
  }

  // Releases the engine and its directory lock; later requests raise.
  void Close() {
    py::gil_scoped_release release;
    std::unique_lock lock(mutex_);
    engine_.reset();
    context_.engine = nullptr;
  }

  bool closed() {
    std::shared_lock lock(mutex_);
    return engine_ == nullptr;
  }

 private:
  // Shared by requests, exclusive for Close(): no request sees a dying engine.
  std::shared_mutex mutex_;
  std::unique_ptr<db::Engine> engine_;
  server::ServerContext context_;
  server::Router router_;
};

}  // namespace
}  // namespace ksdb::python

PYBIND11_MODULE(_native, m) {
  using ksdb::python::NativeEngine;
  m.doc() = "The ksdb engine in-process (Chroma API v2 requests without sockets).";
  static py::exception<std::exception> native_error(m, "NativeError");
  ksdb::python::g_native_error = native_error;
  m.attr("VERSION") = KSDB_VERSION;
  py::class_<NativeEngine>(m, "Engine")
      .def(py::init<const std::string&, bool, const std::string&, const std::vector<std::string>&>(),
           py::arg("path"), py::arg("allow_reset") = false, py::arg("synchronous") = "FULL",
           py::arg("embedders") = std::vector<std::string>{})
      .def("request", &NativeEngine::Request, py::arg("method"), py::arg("path"), py::arg("query"),
           py::arg("body"))
      .def("close", &NativeEngine::Close)
      .def_property_readonly("closed", &NativeEngine::closed);
}
