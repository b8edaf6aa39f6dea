// HttpServer over real sockets: keep-alive idle timeout, prompt Stop() with
// idle connections open (also while every worker is busy), idle connections
// that hold no worker, the worker and connection caps, many concurrent
// connections and requests, pipelining, 100-continue, large responses and no
// fd leaks.
#include "server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/router.h"

namespace ksdb::server {
namespace {

constexpr int kWaitMs = 5000;  // bound for anything that should happen at once

// Polls `condition` until it holds or kWaitMs pass; whether it held.
bool WaitUntil(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Open file descriptors of this process (the test and the server).
size_t CountOpenFds() {
  size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    ++count;
  return count;
}

// Holds requests to /block until Open(); counts the ones waiting.
class Gate {
 public:
  void Pass() {
    std::unique_lock<std::mutex> lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
    --waiting_;
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  // Waits (bounded) until `count` requests wait at the gate.
  bool WaitForWaiting(int count) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::milliseconds(kWaitMs),
                             [&] { return waiting_ == count; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

HttpResponse TextResponse(std::string body) {
  HttpResponse response;
  response.body = std::move(body);
  response.content_type = "text/plain";
  return response;
}

// A server on a free port with /ping, /echo (POST), /big and /block (waits
// for gate()) routes, serving on its own thread until Stop().
class RunningServer {
 public:
  explicit RunningServer(HttpServerOptions options) {
    router_.Add("GET", "/ping", [](const HttpRequest&) { return TextResponse("pong"); });
    router_.Add("GET", "/block", [this](const HttpRequest&) {
      gate_.Pass();
      return TextResponse("passed");
    });
    router_.Add("POST", "/echo",
                [](const HttpRequest& request) { return TextResponse(std::string(request.body)); });
    router_.Add("GET", "/big", [](const HttpRequest&) { return TextResponse(BigBody()); });
    options.port = 0;
    server_ = std::make_unique<HttpServer>(&router_, options);
    Result<int> port = server_->Bind();
    EXPECT_TRUE(port.ok());
    port_ = port.ok() ? *port : 0;
    listener_ = std::thread([this] { listen_status_ = server_->Listen(); });
  }
  ~RunningServer() { Stop(); }

  // Stops the server and waits for Listen() to return.
  void Stop() {
    RequestStop();
    if (listener_.joinable())
      listener_.join();
  }
  // Stop() without waiting for Listen() to return.
  void RequestStop() { server_->Stop(); }

  static std::string BigBody() {
    std::string body(1 << 20, 'x');
    for (size_t i = 0; i < body.size(); i += 997)
      body[i] = static_cast<char>('a' + i % 26);
    return body;
  }

  int port() const { return port_; }
  const Status& listen_status() const { return listen_status_; }
  Gate& gate() { return gate_; }

 private:
  Gate gate_;
  Router router_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  Status listen_status_;
  std::thread listener_;
};

// A client socket, closed on destruction.
class Client {
 public:
  explicit Client(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Client() { close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool Send(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t sent = send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (sent <= 0)
        return false;
      done += static_cast<size_t>(sent);
    }
    return true;
  }

  // Reads one whole response (headers and Content-Length body); returns the
  // body, or "<error>" on EOF, error or kWaitMs without data.
  std::string ReadBody() {
    size_t header_end;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!Receive())
        return "<error>";
    }
    const std::string headers = pending_.substr(0, header_end);
    size_t length = 0;
    size_t at = headers.find("Content-Length: ");
    if (at != std::string::npos)
      length = std::stoul(headers.substr(at + 16));
    const size_t total = header_end + 4 + length;
    while (pending_.size() < total) {
      if (!Receive())
        return "<error>";
    }
    std::string body = pending_.substr(header_end + 4, length);
    last_headers_ = headers;
    pending_.erase(0, total);
    return body;
  }

  // Reads the interim "HTTP/1.1 100 Continue" response.
  bool ReadContinue() {
    while (pending_.find("\r\n\r\n") == std::string::npos) {
      if (!Receive())
        return false;
    }
    bool is_continue = pending_.starts_with("HTTP/1.1 100");
    pending_.erase(0, pending_.find("\r\n\r\n") + 4);
    return is_continue;
  }

  // Whether the server closes the connection within `timeout_ms`.
  bool ClosedWithin(int timeout_ms) {
    pollfd entry{fd_, POLLIN, 0};
    if (poll(&entry, 1, timeout_ms) <= 0)
      return false;
    char byte;
    return recv(fd_, &byte, 1, 0) <= 0;
  }

  // Whether anything (data or EOF) arrives within `timeout_ms`.
  bool HasDataWithin(int timeout_ms) {
    if (!pending_.empty())
      return true;
    pollfd entry{fd_, POLLIN, 0};
    return poll(&entry, 1, timeout_ms) > 0;
  }

  const std::string& last_headers() const { return last_headers_; }

 private:
  bool Receive() {
    pollfd entry{fd_, POLLIN, 0};
    if (poll(&entry, 1, kWaitMs) <= 0)
      return false;
    char buffer[65536];
    ssize_t received = recv(fd_, buffer, sizeof(buffer), 0);
    if (received <= 0)
      return false;
    pending_.append(buffer, static_cast<size_t>(received));
    return true;
  }

  int fd_;
  bool connected_ = false;
  std::string pending_;
  std::string last_headers_;
};

const std::string kPing = "GET /ping HTTP/1.1\r\nHost: test\r\n\r\n";

TEST(HttpServerTest, ClosesIdleConnectionAfterConfiguredTimeout) {
  RunningServer server(HttpServerOptions{.keep_alive_timeout_ms = 200});
  Client client(server.port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send(kPing));
  EXPECT_EQ(client.ReadBody(), "pong");
  EXPECT_TRUE(client.ClosedWithin(kWaitMs));
}

TEST(HttpServerTest, IdleConnectionOutlivesAShortTimeoutWhenConfiguredLong) {
  RunningServer server(HttpServerOptions{.keep_alive_timeout_ms = 60000});
  Client client(server.port());
  ASSERT_TRUE(client.Send(kPing));
  EXPECT_EQ(client.ReadBody(), "pong");
  // Idle for 5x the timeout that closed the connection in the test above.
  EXPECT_FALSE(client.ClosedWithin(1000));
  ASSERT_TRUE(client.Send(kPing));
  EXPECT_EQ(client.ReadBody(), "pong");
  EXPECT_NE(client.last_headers().find("Keep-Alive: timeout=60"), std::string::npos)
      << client.last_headers();
}

TEST(HttpServerTest, StopDoesNotWaitForIdleConnections) {
  auto server = std::make_unique<RunningServer>(
      HttpServerOptions{.read_timeout_seconds = 120, .keep_alive_timeout_ms = 120000});
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<Client>(server->port()));
    ASSERT_TRUE(clients.back()->connected());
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(clients[i]->Send(kPing));
    EXPECT_EQ(clients[i]->ReadBody(), "pong");
  }
  // The last client is stuck halfway through its request line.
  ASSERT_TRUE(clients[3]->Send("GET /pi"));
  const auto start = std::chrono::steady_clock::now();
  server->Stop();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  EXPECT_TRUE(server->listen_status().ok());
  for (auto& client : clients)
    EXPECT_TRUE(client->ClosedWithin(kWaitMs));
}

TEST(HttpServerTest, ServesManyKeepAliveConnectionsAtOnce) {
  RunningServer server(HttpServerOptions{.max_threads = 64});
  // More open connections than the old fixed pool of 8 workers.
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 24; ++i) {
    clients.push_back(std::make_unique<Client>(server.port()));
    ASSERT_TRUE(clients.back()->Send(kPing));
  }
  for (auto& client : clients)
    EXPECT_EQ(client->ReadBody(), "pong");
  // All of them still open and served, newest first.
  for (auto it = clients.rbegin(); it != clients.rend(); ++it) {
    ASSERT_TRUE((*it)->Send(kPing));
    EXPECT_EQ((*it)->ReadBody(), "pong");
  }
}

TEST(HttpServerTest, IdleConnectionsBeyondMaxThreadsDoNotBlockANewRequest) {
  RunningServer server(HttpServerOptions{.max_threads = 4, .keep_alive_timeout_ms = 60000});
  // Idle keep-alive connections after a request, and connections that never
  // send anything (a slow-loris start): 3x the workers each.
  std::vector<std::unique_ptr<Client>> served;
  std::vector<std::unique_ptr<Client>> silent;
  for (int i = 0; i < 12; ++i) {
    served.push_back(std::make_unique<Client>(server.port()));
    ASSERT_TRUE(served.back()->Send(kPing));
    ASSERT_EQ(served.back()->ReadBody(), "pong");
    silent.push_back(std::make_unique<Client>(server.port()));
    ASSERT_TRUE(silent.back()->connected());
  }
  Client fresh(server.port());
  ASSERT_TRUE(fresh.Send(kPing));
  EXPECT_EQ(fresh.ReadBody(), "pong");
  // The idle ones are still open and served.
  for (auto& client : served) {
    ASSERT_TRUE(client->Send(kPing));
    EXPECT_EQ(client->ReadBody(), "pong");
  }
  for (auto& client : silent) {
    ASSERT_TRUE(client->Send(kPing));
    EXPECT_EQ(client->ReadBody(), "pong");
  }
}

TEST(HttpServerTest, StalledRequestHeadsDoNotHoldWorkers) {
  RunningServer server(HttpServerOptions{.max_threads = 2});
  // Slow-loris clients: three times the workers, each stalled in its headers.
  std::vector<std::unique_ptr<Client>> stalled;
  for (int i = 0; i < 6; ++i) {
    stalled.push_back(std::make_unique<Client>(server.port()));
    ASSERT_TRUE(stalled.back()->Send("GET /ping HTTP/1.1\r\nHost: t\r\n"));
  }
  Client fresh(server.port());
  ASSERT_TRUE(fresh.Send(kPing));
  EXPECT_EQ(fresh.ReadBody(), "pong");
  for (auto& client : stalled) {
    EXPECT_FALSE(client->HasDataWithin(0));
    ASSERT_TRUE(client->Send("\r\n"));
    EXPECT_EQ(client->ReadBody(), "pong");
  }
}

TEST(HttpServerTest, ServesAHeadThatArrivesInPieces) {
  RunningServer server(HttpServerOptions{.max_threads = 1});
  Client client(server.port());
  ASSERT_TRUE(client.Send("GET /pi"));
  EXPECT_FALSE(client.HasDataWithin(50));
  ASSERT_TRUE(client.Send("ng HTTP/1.1\r\nHo"));
  EXPECT_FALSE(client.HasDataWithin(50));
  ASSERT_TRUE(client.Send("st: t\r\n\r\n" + kPing));
  EXPECT_EQ(client.ReadBody(), "pong");
  EXPECT_EQ(client.ReadBody(), "pong");
}

TEST(HttpServerTest, ClosesAnIncompleteHeadAfterTheReadTimeout) {
  RunningServer server(
      HttpServerOptions{.read_timeout_seconds = 1, .keep_alive_timeout_ms = 60000});
  Client client(server.port());
  ASSERT_TRUE(client.Send("GET /ping HTTP/1.1\r\n"));
  EXPECT_TRUE(client.ClosedWithin(kWaitMs));
  // An idle connection (no request started) is subject to the idle timeout
  // instead, here a minute.
  Client idle(server.port());
  ASSERT_TRUE(idle.Send(kPing));
  ASSERT_EQ(idle.ReadBody(), "pong");
  EXPECT_FALSE(idle.ClosedWithin(1500));
}

TEST(HttpServerTest, ClosesAPipelinedIncompleteHeadAfterTheReadTimeout) {
  RunningServer server(
      HttpServerOptions{.read_timeout_seconds = 1, .keep_alive_timeout_ms = 60000});
  Client client(server.port());
  // One segment: a whole request, then the start of the next one, which stays
  // in the server's read buffer after the first answer.
  ASSERT_TRUE(client.Send(kPing + "GET /ping HTTP/1.1\r\n"));
  ASSERT_EQ(client.ReadBody(), "pong");
  // The started request is subject to the read timeout (1 s), not the idle
  // timeout (a minute).
  EXPECT_TRUE(client.ClosedWithin(kWaitMs));
}

TEST(HttpServerTest, RequestsBeyondMaxThreadsWaitForAFreeWorker) {
  RunningServer server(HttpServerOptions{.max_threads = 2});
  Client first(server.port());
  Client second(server.port());
  Client third(server.port());
  const std::string block = "GET /block HTTP/1.1\r\nHost: t\r\n\r\n";
  ASSERT_TRUE(first.Send(block));
  ASSERT_TRUE(second.Send(block));
  ASSERT_TRUE(server.gate().WaitForWaiting(2));
  ASSERT_TRUE(third.Send(kPing));
  // Both workers are busy handling requests: the third request waits.
  EXPECT_FALSE(third.HasDataWithin(300));
  server.gate().Open();
  EXPECT_EQ(first.ReadBody(), "passed");
  EXPECT_EQ(second.ReadBody(), "passed");
  EXPECT_EQ(third.ReadBody(), "pong");
}

TEST(HttpServerTest, ServesBufferedPipelinedRequestsWithOneWorker) {
  RunningServer server(HttpServerOptions{.max_threads = 1});
  Client client(server.port());
  Client other(server.port());
  // All requests arrive in one segment: after the first, the socket does not
  // become readable again, the rest wait in the server's read buffer.
  std::string requests;
  for (int i = 0; i < 40; ++i)
    requests += kPing;
  ASSERT_TRUE(client.Send(requests));
  ASSERT_TRUE(other.Send(kPing));
  for (int i = 0; i < 40; ++i)
    ASSERT_EQ(client.ReadBody(), "pong") << i;
  EXPECT_EQ(other.ReadBody(), "pong");
  EXPECT_FALSE(client.HasDataWithin(100));
}

TEST(HttpServerTest, ClosesAConnectionThatNeverSendsAfterTheIdleTimeout) {
  RunningServer server(HttpServerOptions{.keep_alive_timeout_ms = 200});
  Client client(server.port());
  ASSERT_TRUE(client.connected());
  EXPECT_TRUE(client.ClosedWithin(kWaitMs));
}

TEST(HttpServerTest, StopClosesManyParkedConnectionsPromptly) {
  auto server = std::make_unique<RunningServer>(
      HttpServerOptions{.max_threads = 2, .keep_alive_timeout_ms = 120000});
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(std::make_unique<Client>(server->port()));
    ASSERT_TRUE(clients.back()->Send(kPing));
    ASSERT_EQ(clients.back()->ReadBody(), "pong");
  }
  const auto start = std::chrono::steady_clock::now();
  server->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(server->listen_status().ok());
  for (auto& client : clients)
    EXPECT_TRUE(client->ClosedWithin(kWaitMs));
}

// An idle connection and one whose request waits at the gate when the stop
// is requested: the idle one is closed at once, the waiting request still
// gets its answer, then its connection is closed too.
void ExpectStopClosesIdleAndFinishesBusy(RunningServer& server) {
  Client idle(server.port());
  Client busy(server.port());
  ASSERT_TRUE(idle.Send(kPing));
  ASSERT_EQ(idle.ReadBody(), "pong");
  ASSERT_TRUE(busy.Send("GET /block HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(server.gate().WaitForWaiting(1));
  server.RequestStop();
  EXPECT_TRUE(idle.ClosedWithin(kWaitMs));
  server.gate().Open();
  EXPECT_EQ(busy.ReadBody(), "passed");
  EXPECT_TRUE(busy.ClosedWithin(kWaitMs));
}

TEST(HttpServerTest, StopLetsARequestInProgressFinish) {
  RunningServer server(HttpServerOptions{});
  ExpectStopClosesIdleAndFinishesBusy(server);
  server.Stop();
  EXPECT_TRUE(server.listen_status().ok());
}

TEST(HttpServerTest, StopClosesParkedConnectionsWhileEveryWorkerIsBusy) {
  // The only worker waits at the gate: no worker can close the idle one.
  RunningServer server(HttpServerOptions{.max_threads = 1, .keep_alive_timeout_ms = 120000});
  ExpectStopClosesIdleAndFinishesBusy(server);
}

TEST(HttpServerTest, IdleTimeoutHoldsWhileEveryWorkerIsBusy) {
  RunningServer server(HttpServerOptions{.max_threads = 1, .keep_alive_timeout_ms = 200});
  Client idle(server.port());
  Client busy(server.port());
  ASSERT_TRUE(idle.Send(kPing));
  ASSERT_EQ(idle.ReadBody(), "pong");
  ASSERT_TRUE(busy.Send("GET /block HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(server.gate().WaitForWaiting(1));
  EXPECT_TRUE(idle.ClosedWithin(kWaitMs));
  server.gate().Open();
  EXPECT_EQ(busy.ReadBody(), "passed");
}

TEST(HttpServerTest, ServesManyRequestsFromConcurrentKeepAliveClients) {
  RunningServer server(HttpServerOptions{.max_threads = 3});
  constexpr int kClients = 8;
  constexpr int kRequests = 200;
  std::vector<std::thread> threads;
  std::vector<int> served(kClients, 0);
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      Client client(server.port());
      const std::string echo = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                               std::to_string(std::to_string(c).size()) + "\r\n\r\n" +
                               std::to_string(c);
      for (int i = 0; i < kRequests; ++i) {
        if (!client.Send(echo) || client.ReadBody() != std::to_string(c))
          return;
        ++served[c];
      }
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  for (int c = 0; c < kClients; ++c)
    EXPECT_EQ(served[c], kRequests) << c;
}

TEST(HttpServerTest, ConnectionsClosedByThePeerWhileParkedLeaveNoFds) {
  RunningServer server(HttpServerOptions{.max_threads = 2, .keep_alive_timeout_ms = 60000});
  const size_t before = CountOpenFds();
  {
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 10; ++i) {
      clients.push_back(std::make_unique<Client>(server.port()));
      ASSERT_TRUE(clients.back()->Send(kPing));
      ASSERT_EQ(clients.back()->ReadBody(), "pong");
    }
    for (int i = 0; i < 4; ++i)
      clients.push_back(std::make_unique<Client>(server.port()));
    // Each client's socket and the server's end of it.
    const size_t open = before + 2 * clients.size();
    ASSERT_TRUE(WaitUntil([&] { return CountOpenFds() == open; })) << CountOpenFds();
  }
  EXPECT_TRUE(WaitUntil([&] { return CountOpenFds() == before; })) << CountOpenFds();
  // Still serving.
  Client client(server.port());
  ASSERT_TRUE(client.Send(kPing));
  EXPECT_EQ(client.ReadBody(), "pong");
}

TEST(HttpServerTest, ConnectionsBeyondMaxConnectionsGet503) {
  RunningServer server(HttpServerOptions{.max_connections = 3});
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<Client>(server.port()));
    ASSERT_TRUE(clients.back()->Send(kPing));
    ASSERT_EQ(clients.back()->ReadBody(), "pong");
  }
  Client refused(server.port());
  EXPECT_EQ(refused.ReadBody(), "Too many connections");
  EXPECT_TRUE(refused.last_headers().starts_with("HTTP/1.1 503")) << refused.last_headers();
  EXPECT_TRUE(refused.ClosedWithin(kWaitMs));
  // A closed connection frees its place (once the server has noticed).
  clients.pop_back();
  EXPECT_TRUE(WaitUntil([&] {
    Client next(server.port());
    return next.Send(kPing) && next.ReadBody() == "pong";
  }));
}

TEST(HttpServerTest, AnswersPipelinedRequestsInOrder) {
  RunningServer server(HttpServerOptions{});
  Client client(server.port());
  const std::string echo = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello";
  ASSERT_TRUE(client.Send(kPing + echo + kPing));
  EXPECT_EQ(client.ReadBody(), "pong");
  EXPECT_EQ(client.ReadBody(), "hello");
  EXPECT_EQ(client.ReadBody(), "pong");
}

TEST(HttpServerTest, SendsContinueBeforeWaitingForTheBody) {
  RunningServer server(HttpServerOptions{});
  Client client(server.port());
  ASSERT_TRUE(client.Send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"));
  ASSERT_TRUE(client.ReadContinue());
  ASSERT_TRUE(client.Send("abc"));
  EXPECT_EQ(client.ReadBody(), "abc");
}

TEST(HttpServerTest, SendsLargeResponsesWhole) {
  RunningServer server(HttpServerOptions{});
  Client client(server.port());
  ASSERT_TRUE(client.Send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(client.ReadBody(), RunningServer::BigBody());
  ASSERT_TRUE(client.Send(kPing));
  EXPECT_EQ(client.ReadBody(), "pong");
}

TEST(HttpServerTest, DoesNotCompressResponses) {
  RunningServer server(HttpServerOptions{});
  Client client(server.port());
  ASSERT_TRUE(
      client.Send("GET /big HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n"));
  EXPECT_EQ(client.ReadBody(), RunningServer::BigBody());
  EXPECT_EQ(client.last_headers().find("Content-Encoding"), std::string::npos)
      << client.last_headers();
}

TEST(HttpServerTest, StopBeforeListenMakesListenReturn) {
  Router router;
  HttpServer server(&router, HttpServerOptions{.port = 0});
  ASSERT_TRUE(server.Bind().ok());
  server.Stop();
  EXPECT_TRUE(server.Listen().ok());
}

}  // namespace
}  // namespace ksdb::server
