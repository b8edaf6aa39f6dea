#include "server/http_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <system_error>

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
  if (fd_ < 0)
    return;
  // The counter only grows, so the fd stays readable for every later poll.
  const uint64_t one = 1;
  ssize_t written = ::write(fd_, &one, sizeof(one));
  (void)written;  // EAGAIN only when the counter is saturated: still readable
}

bool StopEvent::raised() const {
  if (fd_ < 0)
    return false;
  pollfd entry{fd_, POLLIN, 0};
  return poll(&entry, 1, 0) > 0;
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

bool BufferedSocketStream::WaitForRequest(int timeout_ms) const {
  return HasBufferedInput() || WaitFor(POLLIN, timeout_ms);
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

void ConnectionServer::StopAll() {
  stop_.Raise();
  stop();
}

void ConnectionServer::WidenBacklog() {
  // listen() on a listening socket only updates its backlog.
  ::listen(svr_sock_, SOMAXCONN);
}

bool ConnectionServer::process_and_close_socket(socket_t sock) {
  ServeConnection(sock);
  shutdown(sock, SHUT_RDWR);
  close(sock);
  return true;
}

void ConnectionServer::ServeConnection(int sock) {
  BufferedSocketStream stream(sock, timeouts_, &stop_);
  // Without Accept-Encoding httplib sends bodies as they are. Compressing
  // costs more CPU on both sides than it saves for our JSON (the JS client
  // asks for gzip on every query), and the reference server does not.
  const std::function<void(httplib::Request&)> no_compression = [](httplib::Request& request) {
    request.headers.erase("Accept-Encoding");
  };
  while (!stop_.raised() && stream.WaitForRequest(timeouts_.idle_ms)) {
    bool connection_closed = false;
    bool served =
        process_request(stream, /*close_connection=*/false, connection_closed, no_compression);
    if (!stream.Flush() || !served || connection_closed)
      return;
  }
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
