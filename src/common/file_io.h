// File I/O for derived-data files (index snapshots): an atomic writer and an
// exact-size reader, both reporting errors as Status naming the file.
#ifndef KSDB_COMMON_FILE_IO_H_
#define KSDB_COMMON_FILE_IO_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace ksdb {

// Writes `path` atomically: data goes to `path.tmp`, and Commit flushes it,
// fsyncs it, renames it over `path` and fsyncs the directory, so a crash leaves
// either the old file or the complete new one. Destroying the writer without
// Commit removes the temp file.
class AtomicFileWriter {
 public:
  static Result<AtomicFileWriter> Create(const std::string& path);
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  ~AtomicFileWriter();

  Status Write(const void* data, size_t size);
  // Overwrites `size` bytes at `offset` of what was written (e.g. a header
  // whose checksum is known only at the end).
  Status WriteAt(uint64_t offset, const void* data, size_t size);
  Status Commit();

 private:
  AtomicFileWriter(std::string path, int fd);
  Status Flush();
  Status Error(const std::string& what) const;

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  std::vector<char> buffer_;
};

// Reads a file front to back with exact-size reads.
class FileReader {
 public:
  // NotFound when the file does not exist, IoError otherwise.
  static Result<FileReader> Open(const std::string& path);
  FileReader(FileReader&& other) noexcept;
  FileReader& operator=(FileReader&&) = delete;
  ~FileReader();

  uint64_t size() const { return size_; }
  // Reads exactly `size` bytes; Corruption "truncated" when the file ends first.
  Status Read(void* data, size_t size);

 private:
  FileReader(std::string path, int fd, uint64_t size);

  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// Removes `path` if it exists; IoError on any other failure.
Status RemoveFileIfExists(const std::string& path);

}  // namespace ksdb

#endif  // KSDB_COMMON_FILE_IO_H_
