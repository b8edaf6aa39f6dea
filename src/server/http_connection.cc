#include "server/http_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <system_error>

#include "common/logging.h"

namespace ksdb::server {
namespace {

constexpr size_t kReadBufferBytes = 16 * 1024;
// Responses up to this size are sent with one send(); bigger writes go out
// directly so a large result is not copied once more.
constexpr size_t kMaxBufferedWrite = 256 * 1024;

// The numeric address and port of `addr`, as httplib reports them.
void DescribeAddress(const sockaddr_storage& addr, std::string* ip, int* port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(addr);
    inet_ntop(AF_INET, &v4.sin_addr, text, sizeof(text));
    *port = ntohs(v4.sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(addr);
    inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof(text));
    *port = ntohs(v6.sin6_port);
  }
  *ip = text;
}

template <typename GetName>
void QueryAddress(int sock, GetName get_name, std::string* ip, int* port) {
  sockaddr_storage addr{};
  socklen_t length = sizeof(addr);
  if (get_name(sock, reinterpret_cast<sockaddr*>(&addr), &length) == 0)
    DescribeAddress(addr, ip, port);
}

}  // namespace

StopEvent::StopEvent() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

StopEvent::~StopEvent() {
  if (fd_ >= 0)
    close(fd_);
}

void StopEvent::Raise() {
  raised_.store(true, std::memory_order_release);
  if (fd_ < 0)
    return;
  // The counter only grows, so the fd stays readable for every later poll.
  const uint64_t one = 1;
  ssize_t written = ::write(fd_, &one, sizeof(one));
  (void)written;  // EAGAIN only when the counter is saturated: still readable
}

BufferedSocketStream::BufferedSocketStream(int sock, const ConnectionTimeouts& timeouts,
                                           const StopEvent* stop)
    : sock_(sock), timeouts_(timeouts), stop_(stop), read_buffer_(kReadBufferBytes) {
  QueryAddress(sock, getpeername, &remote_ip_, &remote_port_);
  QueryAddress(sock, getsockname, &local_ip_, &local_port_);
}

bool BufferedSocketStream::WaitFor(short events, int timeout_ms) const {
  pollfd entries[2] = {{sock_, events, 0}, {stop_->fd(), POLLIN, 0}};
  const nfds_t count = stop_->fd() >= 0 ? 2 : 1;
  while (true) {
    int ready = poll(entries, count, timeout_ms);
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready <= 0 || (count == 2 && entries[1].revents != 0))
      return false;
    // POLLHUP/POLLERR also end the wait: the next read or send reports them.
    return entries[0].revents != 0;
  }
}

bool BufferedSocketStream::is_readable() const {
  return !failed_ && (HasBufferedInput() || WaitFor(POLLIN, timeouts_.read_ms));
}

bool BufferedSocketStream::is_writable() const {
  return !failed_;
}

ssize_t BufferedSocketStream::read(char* ptr, size_t size) {
  if (!HasBufferedInput()) {
    // A reader waits for the peer, which may first need our pending bytes
    // (e.g. "100 Continue").
    if (!Flush() || !WaitFor(POLLIN, timeouts_.read_ms))
      return -1;
    ssize_t received;
    do {
      received = recv(sock_, read_buffer_.data(), read_buffer_.size(), 0);
    } while (received < 0 && errno == EINTR);
    if (received <= 0)
      return received;
    read_pos_ = 0;
    read_end_ = static_cast<size_t>(received);
  }
  const size_t count = std::min(size, read_end_ - read_pos_);
  std::memcpy(ptr, read_buffer_.data() + read_pos_, count);
  read_pos_ += count;
  return static_cast<ssize_t>(count);
}

bool BufferedSocketStream::ReadAvailable() {
  if (read_pos_ > 0) {
    // Keeps the unread bytes at the front so the head can grow behind them.
    std::memmove(read_buffer_.data(), read_buffer_.data() + read_pos_, read_end_ - read_pos_);
    read_end_ -= read_pos_;
    read_pos_ = 0;
  }
  if (read_end_ == read_buffer_.size())
    return true;
  ssize_t received;
  do {
    received =
        recv(sock_, read_buffer_.data() + read_end_, read_buffer_.size() - read_end_, MSG_DONTWAIT);
  } while (received < 0 && errno == EINTR);
  if (received > 0) {
    read_end_ += static_cast<size_t>(received);
    return true;
  }
  return received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

bool BufferedSocketStream::HasRequestHead() const {
  if (read_pos_ == 0 && read_end_ == read_buffer_.size())
    return true;
  // httplib ends lines at '\n' (a '\r' before it is optional).
  const std::string_view buffered(read_buffer_.data() + read_pos_, read_end_ - read_pos_);
  return buffered.find("\n\r\n") != std::string_view::npos ||
         buffered.find("\n\n") != std::string_view::npos;
}

ssize_t BufferedSocketStream::write(const char* ptr, size_t size) {
  if (failed_)
    return -1;
  if (write_buffer_.size() + size <= kMaxBufferedWrite) {
    write_buffer_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  if (!Flush() || !SendAll(ptr, size))
    return -1;
  return static_cast<ssize_t>(size);
}

bool BufferedSocketStream::Flush() {
  if (write_buffer_.empty())
    return !failed_;
  bool sent = SendAll(write_buffer_.data(), write_buffer_.size());
  write_buffer_.clear();
  return sent;
}

bool BufferedSocketStream::SendAll(const char* data, size_t size) {
  while (size > 0 && !failed_) {
    ssize_t sent = send(sock_, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent > 0) {
      data += sent;
      size -= static_cast<size_t>(sent);
    } else if (sent < 0 && errno == EINTR) {
      continue;
    } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The peer's window is full: wait (bounded, abortable) for room.
      failed_ = !WaitFor(POLLOUT, timeouts_.write_ms);
    } else {
      failed_ = true;
    }
  }
  return !failed_;
}

void BufferedSocketStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  ip = remote_ip_;
  port = remote_port_;
}

void BufferedSocketStream::get_local_ip_and_port(std::string& ip, int& port) const {
  ip = local_ip_;
  port = local_port_;
}

namespace {

// Accepts per wake-up, so a burst of new clients cannot delay the requests of
// parked ones for long.
constexpr int kMaxAcceptsPerWake = 64;
constexpr int kMaxEventsPerWait = 64;
// File descriptors left to the database (files, SQLite, PostgreSQL) when the
// connection cap is clamped to the process's fd limit.
constexpr size_t kReservedFds = 256;
// How long accepting pauses when the process is out of fds or memory.
constexpr std::chrono::milliseconds kAcceptPause(100);

constexpr char kBusyResponse[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
    "Content-Length: 20\r\nConnection: close\r\n\r\nToo many connections";

// `wanted` limited so that open connections cannot exhaust the process's file
// descriptors (the database needs some too).
size_t ClampToFdLimit(size_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return std::max<size_t>(wanted, 1);
  const size_t fds = static_cast<size_t>(limit.rlim_cur);
  const size_t usable = fds > 2 * kReservedFds ? fds - kReservedFds : fds / 2;
  return std::max<size_t>(std::min(wanted, usable), 1);
}

// Milliseconds from `now` until `deadline`, rounded up so a wake-up is never
// early (which would only spin).
int MillisUntil(std::chrono::steady_clock::time_point deadline,
                std::chrono::steady_clock::time_point now) {
  if (deadline <= now)
    return 0;
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
  return static_cast<int>(std::min<decltype(wait)>(wait, 24 * 3600 * 1000));
}

// The shorter of two epoll_wait timeouts (-1 = none).
int ShorterTimeout(int a, int b) {
  if (a < 0)
    return b;
  if (b < 0)
    return a;
  return std::min(a, b);
}

bool SetNonBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL, 0);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

// Without Accept-Encoding httplib sends bodies as they are. Compressing costs
// more CPU on both sides than it saves for our JSON (the JS client asks for
// gzip on every query), and the reference server does not.
void DropAcceptEncoding(httplib::Request& request) {
  request.headers.erase("Accept-Encoding");
}

// Best effort: the client learns why, unless its window is full.
void RejectBusy(int sock) {
  ssize_t sent = send(sock, kBusyResponse, sizeof(kBusyResponse) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
  (void)sent;
  // Unread request bytes would turn the close into a reset that can destroy
  // the 503 before the client reads it.
  char discard[4096];
  ssize_t received = recv(sock, discard, sizeof(discard), MSG_DONTWAIT);
  (void)received;
  shutdown(sock, SHUT_WR);
  close(sock);
}

}  // namespace

struct ConnectionServer::Connection {
  Connection(int sock, const ConnectionTimeouts& timeouts, const StopEvent* stop)
      : fd(sock), stream(sock, timeouts, stop) {}

  const int fd;
  BufferedSocketStream stream;
  bool parked = false;   // waiting in the epoll set (else a worker has it)
  bool watched = false;  // added to the epoll set once (later: EPOLL_CTL_MOD)
  Clock::time_point idle_deadline;
  // When the first byte of a request whose head is incomplete was seen.
  std::optional<Clock::time_point> request_started;
};

ConnectionServer::ConnectionServer(ConnectionTimeouts timeouts, ConnectionLimits limits)
    : timeouts_(timeouts),
      max_threads_(std::max<size_t>(limits.max_threads, 1)),
      max_connections_(ClampToFdLimit(limits.max_connections)),
      epoll_fd_(epoll_create1(EPOLL_CLOEXEC)),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (max_connections_ < limits.max_connections) {
    Log(LogLevel::kWarning, "HTTP connection limit lowered from " +
                                std::to_string(limits.max_connections) + " to " +
                                std::to_string(max_connections_) + " by the open file limit");
  }
}

ConnectionServer::~ConnectionServer() {
  // Joins the workers first: none may still use a connection.
  workers_.reset();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    while (!connections_.empty())
      CloseLocked(connections_.begin()->second.get());
  }
  const int listener = svr_sock_.exchange(INVALID_SOCKET);
  if (listener >= 0)
    close(listener);
  if (epoll_fd_ >= 0)
    close(epoll_fd_);
  if (wake_fd_ >= 0)
    close(wake_fd_);
}

void ConnectionServer::StopAll() {
  stop_.Raise();
}

void ConnectionServer::WidenBacklog() {
  // listen() on a listening socket only updates its backlog.
  ::listen(svr_sock_, SOMAXCONN);
}

size_t ConnectionServer::open_connections() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return connections_.size();
}

bool ConnectionServer::ServeAfterBind() {
  const int listener = svr_sock_;
  if (epoll_fd_ < 0 || stop_.fd() < 0 || wake_fd_ < 0 || listener < 0 ||
      !SetNonBlocking(listener)) {
    return false;
  }
  epoll_event stop_entry{.events = EPOLLIN, .data = {.fd = stop_.fd()}};
  epoll_event wake_entry{.events = EPOLLIN, .data = {.fd = wake_fd_}};
  epoll_event listen_entry{.events = EPOLLIN, .data = {.fd = listener}};
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stop_.fd(), &stop_entry) != 0 ||
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake_entry) != 0 ||
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listener, &listen_entry) != 0) {
    return false;
  }
  workers_ = std::make_unique<ElasticTaskQueue>(max_threads_);
  const bool ok = Poll();
  CloseParkedAndListener();
  // Requests in progress finish; their workers then close the connections.
  workers_->shutdown();
  return ok;
}

bool ConnectionServer::Poll() {
  epoll_event events[kMaxEventsPerWait];
  const int listener = svr_sock_;
  while (true) {
    ResumeAcceptingIfDue();
    int timeout = ExpireIdle();
    if (accept_paused_until_)
      timeout = ShorterTimeout(timeout, MillisUntil(*accept_paused_until_, Clock::now()));
    const int ready = epoll_wait(epoll_fd_, events, kMaxEventsPerWait, timeout);
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready < 0)
      return false;
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == stop_.fd())
        return true;
      if (fd == wake_fd_) {
        uint64_t count;
        ssize_t drained = ::read(wake_fd_, &count, sizeof(count));
        (void)drained;  // only the wake-up matters; the loop recomputes the timeout
      } else if (fd == listener) {
        if (!AcceptPending())
          return false;
      } else {
        Dispatch(fd);
      }
    }
  }
}

bool ConnectionServer::AcceptPending() {
  for (int i = 0; i < kMaxAcceptsPerWake; ++i) {
    const int sock = accept4(svr_sock_, nullptr, nullptr, SOCK_CLOEXEC);
    if (sock >= 0) {
      Admit(sock);
      continue;
    }
    switch (errno) {
      case EAGAIN:
        return true;  // all accepted (level-triggered: more wake us again)
      case EMFILE:
      case ENFILE:
      case ENOBUFS:
      case ENOMEM:
        // Retrying at once would spin on the still-readable listener.
        PauseAccepting(errno);
        return true;
      case EINTR:
      case ECONNABORTED:
      case EPROTO:
      case EPERM:
      case ENETDOWN:
      case ENOPROTOOPT:
      case EHOSTDOWN:
      case ENONET:
      case EHOSTUNREACH:
      case EOPNOTSUPP:
      case ENETUNREACH:
        continue;  // this client's problem, not the listener's
      default:
        Log(LogLevel::kError, std::string("HTTP accept failed: ") + std::strerror(errno));
        return false;
    }
  }
  return true;
}

void ConnectionServer::Admit(int sock) {
  if (open_connections() >= max_connections_) {
    if (!at_capacity_logged_) {
      Log(LogLevel::kWarning, "HTTP connection limit (" + std::to_string(max_connections_) +
                                  ") reached: new connections get 503");
      at_capacity_logged_ = true;
    }
    RejectBusy(sock);
    return;
  }
  at_capacity_logged_ = false;
  // Each response goes out in one send(); Nagle's algorithm would only hold
  // it back waiting for an ACK.
  int yes = 1;
  setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  auto connection = std::make_unique<Connection>(sock, timeouts_, &stop_);
  Connection* admitted = connection.get();
  std::lock_guard<std::mutex> lock(mutex_);
  connections_.emplace(sock, std::move(connection));
  // Parked even though the request is probably on its way: waiting for it
  // must not hold a worker (a client may connect and send nothing).
  ParkLocked(admitted);
}

void ConnectionServer::Dispatch(int sock) {
  Connection* connection = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = connections_.find(sock);
    if (it == connections_.end() || !it->second->parked)
      return;
    connection = it->second.get();
    connection->parked = false;
    idle_deadlines_.erase({connection->idle_deadline, sock});
  }
  workers_->enqueue([this, connection] { ServeOne(connection); });
}

int ConnectionServer::ExpireIdle() {
  std::lock_guard<std::mutex> lock(mutex_);
  const Clock::time_point now = Clock::now();
  while (!idle_deadlines_.empty() && idle_deadlines_.begin()->first <= now)
    CloseLocked(connections_.at(idle_deadlines_.begin()->second).get());
  int timeout = -1;
  if (!idle_deadlines_.empty()) {
    timeout = MillisUntil(idle_deadlines_.begin()->first, now);
  } else if (timeouts_.idle_ms >= 0) {
    // An idle connection parked while we wait gets a deadline at least
    // idle_ms from now, so waking then is never late for it and needs no
    // wake-up. At least 1 ms: an idle timeout of 0 must not spin.
    timeout = std::max(timeouts_.idle_ms, 1);
  }
  poller_wakes_at_ =
      timeout < 0 ? Clock::time_point::max() : now + std::chrono::milliseconds(timeout);
  return timeout;
}

void ConnectionServer::ServeOne(Connection* connection) {
  BufferedSocketStream& stream = connection->stream;
  if (stopping() || (!stream.HasRequestHead() && !stream.ReadAvailable())) {
    Close(connection);
    return;
  }
  if (!stream.HasRequestHead()) {
    // Waiting for the rest of the head must not hold this worker (a
    // slow-loris client), but its time is bounded.
    if (!connection->request_started)
      connection->request_started = Clock::now();
    Park(connection);
    return;
  }
  connection->request_started.reset();
  if (!ServeRequest(stream)) {
    Close(connection);
    return;
  }
  if (stream.HasBufferedInput()) {
    // The next pipelined request was received with this one: the socket may
    // never become readable for it. Queued, not served here, so one client's
    // pipeline cannot keep this worker from the other ready connections.
    workers_->enqueue([this, connection] { ServeOne(connection); });
    return;
  }
  Park(connection);
}

bool ConnectionServer::ServeRequest(BufferedSocketStream& stream) {
  bool connection_closed = false;
  const bool served =
      process_request(stream, /*close_connection=*/false, connection_closed, DropAcceptEncoding);
  return stream.Flush() && served && !connection_closed;
}

void ConnectionServer::Park(Connection* connection) {
  std::lock_guard<std::mutex> lock(mutex_);
  ParkLocked(connection);
}

void ConnectionServer::ParkLocked(Connection* connection) {
  if (closing_) {
    CloseLocked(connection);
    return;
  }
  // One-shot: once reported readable the socket stays quiet until parked
  // again, so exactly one worker has it.
  epoll_event entry{.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, .data = {.fd = connection->fd}};
  const int operation = connection->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(epoll_fd_, operation, connection->fd, &entry) != 0) {
    CloseLocked(connection);
    return;
  }
  connection->watched = true;
  connection->parked = true;
  connection->idle_deadline = ParkDeadline(connection, Clock::now());
  if (connection->idle_deadline == Clock::time_point::max())
    return;
  idle_deadlines_.emplace(connection->idle_deadline, connection->fd);
  if (connection->idle_deadline < poller_wakes_at_) {
    poller_wakes_at_ = connection->idle_deadline;
    const uint64_t one = 1;
    ssize_t written = ::write(wake_fd_, &one, sizeof(one));
    (void)written;  // EAGAIN only when the counter is saturated: still readable
  }
}

ConnectionServer::Clock::time_point ConnectionServer::ParkDeadline(Connection* connection,
                                                                   Clock::time_point now) const {
  if (connection->request_started) {
    if (timeouts_.read_ms < 0)
      return Clock::time_point::max();
    return *connection->request_started + std::chrono::milliseconds(timeouts_.read_ms);
  }
  if (timeouts_.idle_ms < 0)
    return Clock::time_point::max();
  return now + std::chrono::milliseconds(timeouts_.idle_ms);
}

void ConnectionServer::Close(Connection* connection) {
  std::lock_guard<std::mutex> lock(mutex_);
  CloseLocked(connection);
}

void ConnectionServer::CloseLocked(Connection* connection) {
  const int sock = connection->fd;
  if (connection->parked)
    idle_deadlines_.erase({connection->idle_deadline, sock});
  if (connection->watched)
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, sock, nullptr);
  shutdown(sock, SHUT_RDWR);
  close(sock);
  // Erased while mutex_ is still held, so a new connection that reuses the
  // fd number cannot be registered in between.
  connections_.erase(sock);
}

void ConnectionServer::CloseParkedAndListener() {
  const int listener = svr_sock_.exchange(INVALID_SOCKET);
  std::lock_guard<std::mutex> lock(mutex_);
  closing_ = true;
  if (listener >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listener, nullptr);
    close(listener);
  }
  std::vector<Connection*> parked;
  for (const auto& [sock, connection] : connections_) {
    if (connection->parked)
      parked.push_back(connection.get());
  }
  for (Connection* connection : parked)
    CloseLocked(connection);
}

void ConnectionServer::PauseAccepting(int error) {
  if (accept_paused_until_)
    return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, svr_sock_, nullptr);
  accept_paused_until_ = Clock::now() + kAcceptPause;
  Log(LogLevel::kWarning, std::string("HTTP accept paused: ") + std::strerror(error));
}

void ConnectionServer::ResumeAcceptingIfDue() {
  if (!accept_paused_until_ || Clock::now() < *accept_paused_until_)
    return;
  accept_paused_until_.reset();
  epoll_event entry{.events = EPOLLIN, .data = {.fd = svr_sock_}};
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, svr_sock_, &entry);
}

ElasticTaskQueue::~ElasticTaskQueue() {
  shutdown();
}

void ElasticTaskQueue::enqueue(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mutex_);
  tasks_.push_back(std::move(fn));
  // Idle workers each take one task; start another only if they are too few.
  if (tasks_.size() > idle_ && threads_.size() < max_threads_ && !shutdown_)
    StartWorker();
  wake_.notify_one();
}

void ElasticTaskQueue::StartWorker() {
  try {
    threads_.emplace_back([this] { Work(); });
    ++started_;
  } catch (const std::system_error&) {
    // Out of threads: the task waits for a running worker instead.
  }
}

void ElasticTaskQueue::shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shutdown_ = true;
    threads.swap(threads_);
  }
  wake_.notify_all();
  for (std::thread& thread : threads)
    thread.join();
}

size_t ElasticTaskQueue::threads_started() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return started_;
}

void ElasticTaskQueue::Work() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    ++idle_;
    wake_.wait(lock, [this] { return !tasks_.empty() || shutdown_; });
    --idle_;
    if (tasks_.empty())
      return;  // shut down and drained
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace ksdb::server
