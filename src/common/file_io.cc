#include "common/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace ksdb {
namespace {

constexpr size_t kWriteBufferSize = 1 << 20;

std::string ErrnoText() { return std::strerror(errno); }

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Writes all of `size` bytes at `offset` (or at the current position when
// offset < 0), retrying short writes and EINTR.
bool WriteAll(int fd, const char* data, size_t size, off_t offset) {
  while (size > 0) {
    const ssize_t n = offset < 0 ? ::write(fd, data, size) : ::pwrite(fd, data, size, offset);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
    if (offset >= 0)
      offset += n;
  }
  return true;
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string path, int fd)
    : path_(std::move(path)), temp_path_(path_ + ".tmp"), fd_(fd) {
  buffer_.reserve(kWriteBufferSize);
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : path_(std::move(other.path_)),
      temp_path_(std::move(other.temp_path_)),
      fd_(std::exchange(other.fd_, -1)),
      buffer_(std::move(other.buffer_)) {}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_path_.c_str());
  }
}

Result<AtomicFileWriter> AtomicFileWriter::Create(const std::string& path) {
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return Status::IoError("cannot create " + temp + ": " + ErrnoText());
  return AtomicFileWriter(path, fd);
}

Status AtomicFileWriter::Error(const std::string& what) const {
  return Status::IoError(what + " " + temp_path_ + ": " + ErrnoText());
}

Status AtomicFileWriter::Flush() {
  if (!buffer_.empty() && !WriteAll(fd_, buffer_.data(), buffer_.size(), -1))
    return Error("cannot write");
  buffer_.clear();
  return Status::Ok();
}

Status AtomicFileWriter::Write(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  if (buffer_.size() + size > kWriteBufferSize) {
    KSDB_RETURN_IF_ERROR(Flush());
    if (size >= kWriteBufferSize)
      return WriteAll(fd_, p, size, -1) ? Status::Ok() : Error("cannot write");
  }
  buffer_.insert(buffer_.end(), p, p + size);
  return Status::Ok();
}

Status AtomicFileWriter::WriteAt(uint64_t offset, const void* data, size_t size) {
  KSDB_RETURN_IF_ERROR(Flush());
  if (!WriteAll(fd_, static_cast<const char*>(data), size, static_cast<off_t>(offset)))
    return Error("cannot write");
  return Status::Ok();
}

Status AtomicFileWriter::Commit() {
  KSDB_RETURN_IF_ERROR(Flush());
  if (::fsync(fd_) != 0)
    return Error("cannot fsync");
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) {
    ::unlink(temp_path_.c_str());
    return Error("cannot close");
  }
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    Status error = Error("cannot rename");
    ::unlink(temp_path_.c_str());
    return error;
  }
  // The rename is durable only once the directory entry is.
  const std::string dir = DirectoryOf(path_);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    return Status::IoError("cannot open directory " + dir + ": " + ErrnoText());
  const bool synced = ::fsync(dir_fd) == 0;
  ::close(dir_fd);
  if (!synced)
    return Status::IoError("cannot fsync directory " + dir + ": " + ErrnoText());
  return Status::Ok();
}

FileReader::FileReader(std::string path, int fd, uint64_t size)
    : path_(std::move(path)), fd_(fd), size_(size) {}

FileReader::FileReader(FileReader&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), size_(other.size_) {}

FileReader::~FileReader() {
  if (fd_ >= 0)
    ::close(fd_);
}

Result<FileReader> FileReader::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return Status::NotFound(path + " does not exist");
    return Status::IoError("cannot open " + path + ": " + ErrnoText());
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status error = Status::IoError("cannot stat " + path + ": " + ErrnoText());
    ::close(fd);
    return error;
  }
  return FileReader(path, fd, static_cast<uint64_t>(st.st_size));
}

Status FileReader::Read(void* data, size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::read(fd_, p, size);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return Status::IoError("cannot read " + path_ + ": " + ErrnoText());
    }
    if (n == 0)
      return Status::Corruption(path_ + " is truncated");
    p += n;
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status RemoveFileIfExists(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return Status::IoError("cannot remove " + path + ": " + ErrnoText());
  return Status::Ok();
}

}  // namespace ksdb
