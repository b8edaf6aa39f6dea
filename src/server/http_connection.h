// The connection layer under HttpServer (internal to src/server/): how
// cpp-httplib 0.11.4 sockets are accepted, read, written, kept alive and
// scheduled onto worker threads.
//
// ConnectionServer replaces httplib's accept loop and its keep-alive loop.
// The thread that calls ServeAfterBind() becomes the poller: one epoll set
// (level-triggered, connections EPOLLONESHOT) watches the listening socket,
// the stop event and every idle ("parked") connection. A worker thread is
// busy with a connection only while one request is read, handled and its
// response written; then the connection is parked again (or, when the next
// pipelined request is already buffered, queued at once), and the worker
// takes the next ready connection. So idle keep-alive sockets and clients
// that connect and send nothing cost a file descriptor, not a thread, and
// cannot starve new clients. A request's head (request line and headers) is
// gathered without a worker too: a connection whose head is incomplete is
// parked again with what arrived, and must complete it within the read
// timeout of its first byte. A worker starts once the head is complete (or
// fills the 16 KiB read buffer); a client that then stalls in its body still
// holds that worker, for at most the read timeout per wait.
//
// Parked connections end at their idle timeout or at once on StopAll();
// requests in progress finish. Open connections are capped (a new one beyond
// the cap gets a best-effort 503 and is closed), and so are worker threads.
//
// The stream sends each response (status line, headers and body) in one
// send(), resolves the peer address once per connection instead of once per
// request, and never compresses responses.
#ifndef KSDB_SERVER_HTTP_CONNECTION_H_
#define KSDB_SERVER_HTTP_CONNECTION_H_

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
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
  bool raised() const { return raised_.load(std::memory_order_acquire); }
  // The fd to poll for POLLIN; -1 if it could not be created (then waits
  // only end by their timeouts and `raised()` is checked between requests).
  int fd() const { return fd_; }

 private:
  int fd_;
  std::atomic<bool> raised_{false};
};

// Timeouts of one connection, in milliseconds (negative = wait forever).
struct ConnectionTimeouts {
  int idle_ms = 120000;  // between requests (and before the first one)
  int read_ms = 60000;   // waiting for more of a started request
  int write_ms = 60000;  // waiting for the peer to accept response bytes
};

// How much a ConnectionServer serves at once.
struct ConnectionLimits {
  size_t max_threads = 512;       // worker threads (requests in progress)
  size_t max_connections = 4096;  // open sockets, busy or parked
};

// An httplib::Stream over a connected socket with a read buffer and a write
// buffer. Writes are collected and sent by Flush() (and before any read, so a
// "100 Continue" goes out before the body is awaited); writes too big to
// buffer go out directly. Not thread-safe: one request at a time.
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
  // Receives what the socket holds now, without waiting; false on EOF or a
  // socket error.
  bool ReadAvailable();
  // Whether the buffered bytes hold a whole request head (up to the empty
  // line), or fill the buffer so that no more of it can be gathered.
  bool HasRequestHead() const;

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

// httplib::Server with our accept loop, poller and workers (see the file
// comment). Its handlers and settings are httplib's; only bind_to_port /
// bind_to_any_port of its own serving functions may be used.
class ConnectionServer : public httplib::Server {
 public:
  ConnectionServer(ConnectionTimeouts timeouts, ConnectionLimits limits);
  ~ConnectionServer() override;

  // Serves the bound socket on the calling thread (the poller) until
  // StopAll(), then closes every connection once its request in progress is
  // answered, and returns. False if the poller could not be set up or
  // accepting failed for good. Precondition: bound; called at most once.
  bool ServeAfterBind();
  // Raises the stop event: the poller closes the listening socket and every
  // parked connection at once; requests in progress finish (waits for more
  // of a request end at once). Idempotent, callable from any thread, also
  // before ServeAfterBind() (which then returns at once).
  void StopAll();
  // Raises the listen backlog of the bound socket from httplib's 5 (which
  // drops the SYNs of clients that connect at once, delaying them by 1 s or
  // more) to SOMAXCONN. Call after binding.
  void WidenBacklog();
  // Whether StopAll() was called.
  bool stopping() const { return stop_.raised(); }
  // Open connections (being served or parked). Thread-safe.
  size_t open_connections() const;
  // The cap on open connections after clamping to the fd limit.
  size_t max_connections() const { return max_connections_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Connection;

  // The poller loop; false on a fatal accept or epoll error.
  bool Poll();
  // Accepts every pending connection; false on a fatal error.
  bool AcceptPending();
  void Admit(int sock);
  // Hands the parked connection on `sock` to a worker.
  void Dispatch(int sock);
  // Closes parked connections whose idle deadline passed; returns the
  // epoll_wait timeout until the next deadline (-1 = none).
  int ExpireIdle();
  // Worker task: gathers the head of the next request of `connection`
  // without waiting, then serves the request and parks, requeues or closes
  // the connection (or parks it to wait for the rest of the head).
  void ServeOne(Connection* connection);
  // Reads, handles and answers one request; false if the connection must
  // close (peer gone, error, "Connection: close").
  bool ServeRequest(BufferedSocketStream& stream);
  // Watches `connection` for its next request (or the rest of a started
  // one). Precondition: mutex_ held.
  void ParkLocked(Connection* connection);
  // When `connection` parked now must be closed: the idle timeout, or the
  // read timeout from the first byte of a partly received request.
  Clock::time_point ParkDeadline(Connection* connection, Clock::time_point now) const;
  void Park(Connection* connection);
  // Precondition: mutex_ held.
  void CloseLocked(Connection* connection);
  void Close(Connection* connection);
  // After the poller stopped: closes the listening socket and the parked
  // connections; later Park() calls close instead.
  void CloseParkedAndListener();
  // Stops watching the listening socket for a moment (accept() failed with
  // `error`: out of fds or memory).
  void PauseAccepting(int error);
  void ResumeAcceptingIfDue();

  ConnectionTimeouts timeouts_;
  size_t max_threads_;
  size_t max_connections_;
  StopEvent stop_;
  int epoll_fd_ = -1;
  // Makes the poller recompute its timeout (a deadline earlier than it
  // planned for was parked).
  int wake_fd_ = -1;
  std::unique_ptr<ElasticTaskQueue> workers_;
  std::optional<Clock::time_point> accept_paused_until_;  // poller thread only
  bool at_capacity_logged_ = false;                       // poller thread only

  mutable std::mutex mutex_;
  std::unordered_map<int, std::unique_ptr<Connection>> connections_;
  std::set<std::pair<Clock::time_point, int>> idle_deadlines_;  // parked ones
  Clock::time_point poller_wakes_at_ = Clock::time_point::max();
  bool closing_ = false;
};

}  // namespace ksdb::server

#endif  // KSDB_SERVER_HTTP_CONNECTION_H_
