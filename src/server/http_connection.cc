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
// File descriptors left to the database (files, SQLite, PostgreSQL) when the
// connection cap is clamped to the process's fd limit.
constexpr size_t kReservedFds = 256;
// How long accepting pauses when the process is out of fds or memory.
constexpr std::chrono::milliseconds kAcceptPause(100);

// epoll keys of the two sockets that are not connections. A connection's key
// is its generation (never 0 or all ones) and fd, so a worker holding the key
// of a connection closed meanwhile cannot mistake a new one on the same fd
// for it.
constexpr uint64_t kStopKey = ~uint64_t{0};
constexpr uint64_t kListenerKey = 0;

constexpr char kBusyResponse[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
    "Content-Length: 20\r\nConnection: close\r\n\r\nToo many connections";

uint64_t ConnectionKey(uint32_t generation, int fd) {
  return (uint64_t{generation} << 32) | static_cast<uint32_t>(fd);
}

int FdOfKey(uint64_t key) {
  return static_cast<int>(static_cast<uint32_t>(key));
}

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

// Whether accept4 failed with `error` because of one client (the listener is
// fine).
bool IsClientAcceptError(int error) {
  switch (error) {
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
      return true;
    default:
      return false;
  }
}

void SignalEventFd(int fd) {
  const uint64_t one = 1;
  ssize_t written = ::write(fd, &one, sizeof(one));
  (void)written;  // EAGAIN only when the counter is saturated: still readable
}

}  // namespace

struct ConnectionServer::Connection {
  Connection(int sock, uint32_t generation, const ConnectionTimeouts& timeouts,
             const StopEvent* stop)
      : fd(sock), key(ConnectionKey(generation, sock)), stream(sock, timeouts, stop) {}

  const int fd;
  const uint64_t key;  // the epoll key (see kStopKey)
  BufferedSocketStream stream;
  bool parked = false;   // armed in the epoll set (else a worker has it)
  bool watched = false;  // added to the epoll set once (later: EPOLL_CTL_MOD)
  Clock::time_point deadline;
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
  // ServeAfterBind() joined the workers, if it ran; none may still use a
  // connection.
  StopAll();
  JoinWorkers();
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

size_t ConnectionServer::workers_started() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return workers_.size();
}

bool ConnectionServer::ServeAfterBind() {
  const int listener = svr_sock_;
  if (epoll_fd_ < 0 || stop_.fd() < 0 || wake_fd_ < 0 || listener < 0 ||
      !SetNonBlocking(listener)) {
    return false;
  }
  // Level-triggered: every worker sees the stop event, not just one.
  epoll_event stop_entry{.events = EPOLLIN, .data = {.u64 = kStopKey}};
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stop_.fd(), &stop_entry) != 0 ||
      !ArmListener(EPOLL_CTL_ADD)) {
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    StartWorkerLocked();
    if (workers_.empty())
      return false;
  }
  KeepTimeouts();
  CloseParkedAndListener();
  // Workers see the stop event; requests in progress finish and their
  // workers then close the connections.
  JoinWorkers();
  return !failed_.load();
}

void ConnectionServer::JoinWorkers() {
  // Joined outside the lock: a finishing worker may still take it.
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    workers.swap(workers_);
  }
  for (std::thread& worker : workers)
    worker.join();
}

void ConnectionServer::StartWorkerLocked() {
  if (workers_.size() >= max_threads_ || closing_)
    return;
  try {
    workers_.emplace_back([this] { Work(); });
  } catch (const std::system_error&) {
    // Out of threads: ready sockets wait for a running worker instead.
  }
}

void ConnectionServer::Work() {
  while (true) {
    epoll_event event;
    waiting_workers_.fetch_add(1, std::memory_order_relaxed);
    const int ready = epoll_wait(epoll_fd_, &event, 1, -1);
    waiting_workers_.fetch_sub(1, std::memory_order_relaxed);
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready < 0) {
      Fail(std::string("HTTP epoll_wait failed: ") + std::strerror(errno));
      return;
    }
    if (ready == 0)
      continue;
    const uint64_t key = event.data.u64;
    if (key == kStopKey)
      return;
    if (key == kListenerKey) {
      if (!AcceptPending())
        return;
      continue;
    }
    Connection* connection = Claim(key);
    if (connection != nullptr)
      ServeOne(connection);
  }
}

void ConnectionServer::Fail(const std::string& what) {
  Log(LogLevel::kError, what);
  failed_.store(true);
  StopAll();
}

bool ConnectionServer::ArmListener(int operation) {
  // One-shot, so one worker accepts while the others keep serving.
  epoll_event entry{.events = EPOLLIN | EPOLLONESHOT, .data = {.u64 = kListenerKey}};
  return epoll_ctl(epoll_fd_, operation, svr_sock_, &entry) == 0;
}

bool ConnectionServer::AcceptPending() {
  std::lock_guard<std::mutex> accept_lock(accept_mutex_);
  if (svr_sock_ < 0)
    return true;  // closed by the stop
  for (int i = 0; i < kMaxAcceptsPerWake; ++i) {
    const int sock = accept4(svr_sock_, nullptr, nullptr, SOCK_CLOEXEC);
    if (sock >= 0) {
      Admit(sock);
      continue;
    }
    if (errno == EAGAIN)
      break;  // all accepted
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      PauseAccepting(errno);
      return true;
    }
    if (!IsClientAcceptError(errno)) {
      Fail(std::string("HTTP accept failed: ") + std::strerror(errno));
      return false;
    }
  }
  // Level-triggered underneath: clients still pending make it ready again.
  if (!ArmListener(EPOLL_CTL_MOD)) {
    Fail(std::string("HTTP listener epoll_ctl failed: ") + std::strerror(errno));
    return false;
  }
  return true;
}

void ConnectionServer::PauseAccepting(int error) {
  Log(LogLevel::kWarning, std::string("HTTP accept paused: ") + std::strerror(error));
  // Re-arming at once would spin on the still-readable listener; the
  // timeout thread re-arms it after the pause.
  std::lock_guard<std::mutex> lock(mutex_);
  accept_paused_until_ = Clock::now() + kAcceptPause;
  WakeTimeoutsIfEarlierLocked(*accept_paused_until_);
}

void ConnectionServer::Admit(int sock) {
  // Each response goes out in one send(); Nagle's algorithm would only hold
  // it back waiting for an ACK.
  int yes = 1;
  setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  std::lock_guard<std::mutex> lock(mutex_);
  if (connections_.size() >= max_connections_) {
    if (!at_capacity_logged_) {
      Log(LogLevel::kWarning, "HTTP connection limit (" + std::to_string(max_connections_) +
                                  ") reached: new connections get 503");
      at_capacity_logged_ = true;
    }
    RejectBusy(sock);
    return;
  }
  at_capacity_logged_ = false;
  const uint32_t generation = next_generation_;
  // Generation 0 would make the key of fd 0 collide with kListenerKey.
  next_generation_ = next_generation_ == UINT32_MAX ? 1 : next_generation_ + 1;
  auto connection = std::make_unique<Connection>(sock, generation, timeouts_, &stop_);
  Connection* admitted = connection.get();
  connections_.emplace(sock, std::move(connection));
  // Parked even though the request is probably on its way: waiting for it
  // must not hold a worker (a client may connect and send nothing).
  ParkLocked(admitted);
}

ConnectionServer::Connection* ConnectionServer::Claim(uint64_t key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = connections_.find(FdOfKey(key));
  if (it == connections_.end() || it->second->key != key || !it->second->parked)
    return nullptr;
  Connection* connection = it->second.get();
  connection->parked = false;
  deadlines_.erase({connection->deadline, connection->fd});
  // The caller is busy until its request is answered: someone must keep
  // waiting for the other sockets.
  if (waiting_workers_.load(std::memory_order_relaxed) == 0)
    StartWorkerLocked();
  return connection;
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
  // A pipelined request whose head arrived only in part has started: the
  // rest of it is due within the read timeout, not the idle one.
  if (stream.HasBufferedInput() && !stream.HasRequestHead())
    connection->request_started = Clock::now();
  // Parked also when the next pipelined request is already buffered (armed
  // for "writable", see ParkLocked), so one client's pipeline cannot keep
  // this worker from the other ready connections.
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
  // A buffered head would never make the socket readable again; "writable"
  // holds at once (the response just went out), so the connection is
  // reported again behind the sockets that are already ready.
  const uint32_t wanted = connection->stream.HasRequestHead() ? EPOLLOUT : EPOLLIN;
  // One-shot: once reported the socket stays quiet until parked again, so
  // exactly one worker has it.
  epoll_event entry{.events = wanted | EPOLLRDHUP | EPOLLONESHOT, .data = {.u64 = connection->key}};
  const int operation = connection->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(epoll_fd_, operation, connection->fd, &entry) != 0) {
    CloseLocked(connection);
    return;
  }
  connection->watched = true;
  connection->parked = true;
  connection->deadline = ParkDeadline(connection, Clock::now());
  if (connection->deadline == Clock::time_point::max())
    return;
  deadlines_.emplace(connection->deadline, connection->fd);
  WakeTimeoutsIfEarlierLocked(connection->deadline);
}

void ConnectionServer::WakeTimeoutsIfEarlierLocked(Clock::time_point deadline) {
  if (deadline >= timeouts_wake_at_)
    return;
  timeouts_wake_at_ = deadline;
  SignalEventFd(wake_fd_);
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
    deadlines_.erase({connection->deadline, sock});
  if (connection->watched)
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, sock, nullptr);
  shutdown(sock, SHUT_RDWR);
  close(sock);
  // Erased while mutex_ is still held, so a new connection that reuses the
  // fd number cannot be registered in between.
  connections_.erase(sock);
}

void ConnectionServer::KeepTimeouts() {
  pollfd entries[2] = {{stop_.fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (true) {
    const int timeout = ExpireAndResume();
    const int ready = poll(entries, 2, timeout);
    if (ready < 0 && errno != EINTR) {
      Fail(std::string("HTTP timeout poll failed: ") + std::strerror(errno));
      return;
    }
    if (ready > 0 && entries[0].revents != 0)
      return;
    if (ready > 0 && entries[1].revents != 0) {
      uint64_t count;
      ssize_t drained = ::read(wake_fd_, &count, sizeof(count));
      (void)drained;  // only the wake-up matters; the loop recomputes the timeout
    }
  }
}

int ConnectionServer::ExpireAndResume() {
  std::lock_guard<std::mutex> lock(mutex_);
  const Clock::time_point now = Clock::now();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now)
    CloseLocked(connections_.at(deadlines_.begin()->second).get());
  if (accept_paused_until_ && *accept_paused_until_ <= now) {
    accept_paused_until_.reset();
    if (!ArmListener(EPOLL_CTL_MOD))
      Log(LogLevel::kError, std::string("HTTP listener epoll_ctl failed: ") + std::strerror(errno));
  }
  Clock::time_point wake_at = Clock::time_point::max();
  if (!deadlines_.empty())
    wake_at = deadlines_.begin()->first;
  if (accept_paused_until_)
    wake_at = std::min(wake_at, *accept_paused_until_);
  int timeout = -1;
  if (wake_at != Clock::time_point::max()) {
    timeout = MillisUntil(wake_at, now);
  } else if (timeouts_.idle_ms >= 0) {
    // A connection parked idle while we wait gets a deadline at least
    // idle_ms from now, so waking then is never late for it and needs no
    // wake-up. At least 1 ms: an idle timeout of 0 must not spin.
    timeout = std::max(timeouts_.idle_ms, 1);
  }
  timeouts_wake_at_ =
      timeout < 0 ? Clock::time_point::max() : now + std::chrono::milliseconds(timeout);
  return timeout;
}

void ConnectionServer::CloseParkedAndListener() {
  {
    std::lock_guard<std::mutex> accept_lock(accept_mutex_);
    const int listener = svr_sock_.exchange(INVALID_SOCKET);
    if (listener >= 0) {
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listener, nullptr);
      close(listener);
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  closing_ = true;
  std::vector<Connection*> parked;
  for (const auto& [sock, connection] : connections_) {
    if (connection->parked)
      parked.push_back(connection.get());
  }
  for (Connection* connection : parked)
    CloseLocked(connection);
}

}  // namespace ksdb::server
