#include "index/float_rows.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <utility>

namespace ksdb::index {

FloatRows::FloatRows(size_t row_floats, int fd)
    : row_floats_(row_floats), mapped_(fd >= 0), fd_(fd) {}

FloatRows::FloatRows(FloatRows&& other) noexcept { *this = std::move(other); }

FloatRows& FloatRows::operator=(FloatRows&& other) noexcept {
  if (this == &other) return *this;
  Unmap();
  row_floats_ = other.row_floats_;
  rows_ = std::exchange(other.rows_, 0);
  capacity_rows_ = std::exchange(other.capacity_rows_, 0);
  mapped_ = std::exchange(other.mapped_, false);
  fd_ = std::exchange(other.fd_, -1);
  heap_ = std::move(other.heap_);
  data_ = mapped_ ? std::exchange(other.data_, nullptr) : heap_.data();
  other.data_ = nullptr;
  return *this;
}

FloatRows::~FloatRows() { Unmap(); }

void FloatRows::Unmap() {
  if (mapped_ && data_ != nullptr) ::munmap(data_, capacity_rows_ * row_floats_ * sizeof(float));
  if (fd_ >= 0) ::close(fd_);
  data_ = nullptr;
  fd_ = -1;
}

Result<FloatRows> FloatRows::Create(size_t row_floats, const std::string& path) {
  if (path.empty()) return FloatRows(row_floats, -1);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::IoError("cannot create vector file " + path + ": " + std::strerror(errno));
  }
  // Scratch space: gone from the directory at once, freed when unmapped.
  ::unlink(path.c_str());
  return FloatRows(row_floats, fd);
}

Status FloatRows::GrowMapping(size_t capacity_rows) {
  const size_t old_bytes = capacity_rows_ * row_floats_ * sizeof(float);
  const size_t new_bytes = capacity_rows * row_floats_ * sizeof(float);
  if (::ftruncate(fd_, static_cast<off_t>(new_bytes)) != 0) {
    return Status::IoError(std::string("cannot grow vector file: ") + std::strerror(errno));
  }
  void* p = data_ == nullptr
                ? ::mmap(nullptr, new_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0)
                : ::mremap(data_, old_bytes, new_bytes, MREMAP_MAYMOVE);
  if (p == MAP_FAILED) {
    return Status::IoError(std::string("cannot map vector file: ") + std::strerror(errno));
  }
  data_ = static_cast<float*>(p);
  capacity_rows_ = capacity_rows;
  return Status::Ok();
}

Status FloatRows::Resize(size_t rows) {
  if (rows <= rows_) return Status::Ok();
  if (mapped_) {
    if (rows > capacity_rows_) {
      // The file grows zero-filled, so new rows read as zero.
      KSDB_RETURN_IF_ERROR(GrowMapping(std::max(rows, capacity_rows_ + capacity_rows_ / 2)));
    }
  } else {
    try {
      heap_.resize(rows * row_floats_, 0.0f);
    } catch (const std::exception&) {
      return Status::Internal("out of memory growing the vector rows");
    }
    data_ = heap_.data();
  }
  rows_ = rows;
  return Status::Ok();
}

}  // namespace ksdb::index
