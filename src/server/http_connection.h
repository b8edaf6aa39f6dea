// The connection layer under HttpServer (internal to src/server/): how
// cpp-httplib 0.11.4 sockets are read, written, kept alive and scheduled.
//
// httplib's own keep-alive loop polls every idle socket every ~11 ms and only
// notices stop() between requests, so a long keep-alive timeout made shutdown
// wait for it. ConnectionServer replaces that loop: an idle connection blocks
// in poll() on its socket and on a stop event, for as long as the configured
// idle timeout, and Stop() wakes every connection at once. Its stream also
// sends each response (status line, headers and body) in one send() and
// resolves the peer address once per connection instead of once per request,
// and it never compresses responses.
//
// Each open connection occupies one worker for its whole life (httplib's
// model), so ElasticTaskQueue starts workers on demand up to a maximum instead
// of serialising clients behind a small fixed pool.
#ifndef KSDB_SERVER_HTTP_CONNECTION_H_
#define KSDB_SERVER_HTTP_CONNECTION_H_

#include <httplib.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ksdb::server {

// A level-triggered "stop" signal that poll() can wait on: once Raise()d, its
// fd stays readable forever. Thread-safe.
class StopEvent {
 public:
  StopEvent();
  ~StopEvent();
  StopEvent(const StopEvent&) = delete;
  StopEvent& operator=(const StopEvent&) = delete;

  // Wakes every current and future waiter. Idempotent.
  void Raise();
  bool raised() const;
  // The fd to poll for POLLIN; -1 if it could not be created (then waits
  // only end by their timeouts and `raised()` is checked between requests).
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Timeouts of one connection, in milliseconds (negative = wait forever).
struct ConnectionTimeouts {
  int idle_ms = 120000;  // between requests
  int read_ms = 60000;   // waiting for more of a started request
  int write_ms = 60000;  // waiting for the peer to accept response bytes
};

// An httplib::Stream over a connected socket with a read buffer and a write
// buffer. Writes are collected and sent by Flush() (and before any read, so a
// "100 Continue" goes out before the body is awaited); writes too big to
// buffer go out directly. Not thread-safe: one connection, one thread.
class BufferedSocketStream : public httplib::Stream {
 public:
  // Does not own `sock`. `stop` (not owned) aborts waits when raised.
  BufferedSocketStream(int sock, const ConnectionTimeouts& timeouts, const StopEvent* stop);

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  int socket() const override { return sock_; }

  // Sends the buffered response bytes; false if the peer is gone or too slow.
  bool Flush();
  // Whether received bytes are waiting (a pipelined next request).
  bool HasBufferedInput() const { return read_pos_ < read_end_; }
  // Waits up to `timeout_ms` for the next request's first bytes; false on
  // timeout, stop or a socket error.
  bool WaitForRequest(int timeout_ms) const;

 private:
  // Waits for `events` on the socket (or the stop event); true when ready.
  bool WaitFor(short events, int timeout_ms) const;
  bool SendAll(const char* data, size_t size);

  int sock_;
  ConnectionTimeouts timeouts_;
  const StopEvent* stop_;
  bool failed_ = false;
  std::vector<char> read_buffer_;
  size_t read_pos_ = 0;
  size_t read_end_ = 0;
  std::string write_buffer_;
  std::string remote_ip_;
  int remote_port_ = 0;
  std::string local_ip_;
  int local_port_ = 0;
};

// httplib::Server with our connection loop (see the file comment).
class ConnectionServer : public httplib::Server {
 public:
  explicit ConnectionServer(ConnectionTimeouts timeouts) : timeouts_(timeouts) {}

  // Raises the stop event (idle and waiting connections end at once), then
  // stops the accept loop. Idempotent, callable from any thread.
  void StopAll();
  // Raises the listen backlog of the bound socket from httplib's 5 (which
  // drops the SYNs of clients that connect at once, delaying them by 1 s or
  // more) to SOMAXCONN. Call after binding.
  void WidenBacklog();
  // Whether StopAll() was called.
  bool stopping() const { return stop_.raised(); }

 private:
  bool process_and_close_socket(socket_t sock) override;
  void ServeConnection(int sock);

  ConnectionTimeouts timeouts_;
  StopEvent stop_;
};

// An httplib::TaskQueue that starts a worker thread whenever a task would
// otherwise wait, up to `max_threads`; beyond that tasks queue. Workers stay
// for reuse until shutdown(). Thread-safe.
class ElasticTaskQueue : public httplib::TaskQueue {
 public:
  explicit ElasticTaskQueue(size_t max_threads) : max_threads_(max_threads) {}
  ~ElasticTaskQueue() override;

  void enqueue(std::function<void()> fn) override;
  // Runs the queued tasks, then joins every worker.
  void shutdown() override;

  // Worker threads started so far (including ones already joined).
  size_t threads_started() const;

 private:
  // Starts one more worker. Precondition: mutex_ held.
  void StartWorker();
  void Work();

  const size_t max_threads_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  size_t started_ = 0;
  bool shutdown_ = false;
};

}  // namespace ksdb::server

#endif  // KSDB_SERVER_HTTP_CONNECTION_H_
