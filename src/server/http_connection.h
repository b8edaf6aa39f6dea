// The connection layer under HttpServer (internal to src/server/): how
// cpp-httplib 0.11.4 sockets are accepted, read, written, kept alive and
// scheduled onto worker threads.
//
// ConnectionServer replaces httplib's accept loop and its keep-alive loop
// with a leader/follower design around one epoll set. The set watches the
// listening socket and every idle ("parked") connection one-shot
// (EPOLLONESHOT), and the stop event level-triggered. Idle worker threads
// themselves wait in epoll_wait on that set, one socket each: the worker
// that gets a ready connection reads its request, handles it, writes the
// response and re-arms the connection with one epoll_ctl (EPOLL_CTL_MOD),
// then waits again. So no thread hands a request to another one. One-shot
// means exactly one worker has a connection at a time; when the next
// pipelined request is already buffered, the connection is re-armed for
// "writable", which epoll reports at once, so it queues behind the sockets
// already ready instead of holding the worker. Workers start on demand (when
// a worker takes a socket and none is left waiting) up to max_threads; beyond
// that ready sockets wait in the epoll set for a free worker.
//
// Idle keep-alive sockets and clients that connect and send nothing cost a
// file descriptor, not a thread, and cannot starve new clients. A request's
// head (request line and headers) is gathered without a worker too: a
// connection whose head is incomplete is parked again with what arrived, and
// must complete it within the read timeout of its first byte. A worker holds
// a connection once its head is complete (or fills the 16 KiB read buffer); a
// client that then stalls in its body still holds that worker, for at most
// the read timeout per wait.
//
// Timeouts are kept off the request path by the thread that called
// ServeAfterBind(): it sleeps until the earliest deadline of a parked
// connection (woken early only when a partly received head parks with an
// earlier one) and closes the expired ones; on StopAll() it closes the
// listener and every parked connection at once, even while all workers are
// busy. Requests in progress finish. Open connections are capped (a new one
// beyond the cap gets a best-effort 503 and is closed).
//
// The stream sends each response (status line, headers and body) in one
// send(), resolves the peer address once per connection instead of once per
// request, and never compresses responses.
#ifndef KSDB_SERVER_HTTP_CONNECTION_H_
#define KSDB_SERVER_HTTP_CONNECTION_H_

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
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

// httplib::Server with our accept loop and workers (see the file comment).
// Its handlers and settings are httplib's; only bind_to_port /
// bind_to_any_port of its own serving functions may be used.
class ConnectionServer : public httplib::Server {
 public:
  ConnectionServer(ConnectionTimeouts timeouts, ConnectionLimits limits);
  ~ConnectionServer() override;

  // Serves the bound socket until StopAll(): starts the first worker and
  // keeps the timeouts on the calling thread. Then closes every connection
  // once its request in progress is answered, joins the workers and returns.
  // False if the epoll set could not be set up or accepting or epoll_wait
  // failed for good. Precondition: bound; called at most once.
  bool ServeAfterBind();
  // Raises the stop event: idle and partly received connections are closed
  // at once; requests in progress finish (waits for more of a request end at
  // once). Idempotent, callable from any thread, also before ServeAfterBind()
  // (which then returns at once).
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
  // Worker threads started so far. Thread-safe.
  size_t workers_started() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Connection;

  // A worker: waits in epoll_wait for one ready socket (a connection, the
  // listener or the stop event) and handles it, until the stop event.
  void Work();
  // Closes expired parked connections and resumes a paused accept on the
  // calling thread until the stop event; no request passes through it.
  void KeepTimeouts();
  // Accepts pending connections, then watches the listener again (unless
  // accepting pauses); false on a fatal error.
  bool AcceptPending();
  // Stops watching the listener for a moment (accept4 failed with `error`:
  // out of fds or memory).
  void PauseAccepting(int error);
  // Admits or (beyond max_connections) rejects the accepted `sock`.
  void Admit(int sock);
  // The parked connection that epoll reported as `key`, now owned by the
  // calling worker; null if it was closed meanwhile. Starts another worker
  // when no other one is left waiting for sockets.
  Connection* Claim(uint64_t key);
  // Starts one more worker unless max_threads run. Precondition: mutex_ held.
  void StartWorkerLocked();
  // Joins every worker started so far (they must be on their way out).
  void JoinWorkers();
  // Gathers the head of the next request of `connection` without waiting,
  // then serves the request and parks or closes the connection (or parks it
  // to wait for the rest of the head).
  void ServeOne(Connection* connection);
  // Reads, handles and answers one request; false if the connection must
  // close (peer gone, error, "Connection: close").
  bool ServeRequest(BufferedSocketStream& stream);
  // Watches `connection` for its next request (or the rest of a started
  // one) with one epoll_ctl. Precondition: mutex_ held.
  void ParkLocked(Connection* connection);
  // When `connection` parked now must be closed: the idle timeout, or the
  // read timeout from the first byte of a partly received request.
  Clock::time_point ParkDeadline(Connection* connection, Clock::time_point now) const;
  void Park(Connection* connection);
  // Makes KeepTimeouts() plan again if `deadline` precedes its next wake-up.
  // Precondition: mutex_ held.
  void WakeTimeoutsIfEarlierLocked(Clock::time_point deadline);
  // Precondition: mutex_ held.
  void CloseLocked(Connection* connection);
  void Close(Connection* connection);
  // Closes parked connections whose deadline passed and re-arms the listener
  // when its pause is over; returns the poll timeout until the next of them
  // (-1 = none).
  int ExpireAndResume();
  // After the stop event: closes the listening socket and the parked
  // connections; later Park() calls close instead.
  void CloseParkedAndListener();
  // Watches the listening socket again (one-shot, like connections).
  bool ArmListener(int operation);
  // Records a fatal error and stops the server.
  void Fail(const std::string& what);

  ConnectionTimeouts timeouts_;
  size_t max_threads_;
  size_t max_connections_;
  StopEvent stop_;
  int epoll_fd_ = -1;
  // Makes KeepTimeouts() recompute its timeout (a deadline earlier than it
  // planned for was parked, or accepting paused).
  int wake_fd_ = -1;
  std::atomic<bool> failed_{false};
  // Workers blocked in epoll_wait (or about to be): when none is left, the
  // next claimed connection starts another worker.
  std::atomic<size_t> waiting_workers_{0};

  // Held while accepting, so that the listener is not closed under accept4.
  std::mutex accept_mutex_;

  mutable std::mutex mutex_;
  std::vector<std::thread> workers_;
  std::unordered_map<int, std::unique_ptr<Connection>> connections_;
  std::set<std::pair<Clock::time_point, int>> deadlines_;  // parked connections
  uint32_t next_generation_ = 1;
  Clock::time_point timeouts_wake_at_ = Clock::time_point::max();
  std::optional<Clock::time_point> accept_paused_until_;
  bool at_capacity_logged_ = false;
  bool closing_ = false;
};

}  // namespace ksdb::server

#endif  // KSDB_SERVER_HTTP_CONNECTION_H_
