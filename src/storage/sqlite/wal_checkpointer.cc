#include "storage/sqlite/wal_checkpointer.h"

#include <utility>

#include "common/logging.h"

namespace ksdb::storage::sqlite {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(Connection* writer,
                                                                int start_pages) {
  ConnectionOptions own_options;
  // The connection only checkpoints, which copies pages without its cache.
  own_options.cache_size_kib = 256;
  KSDB_ASSIGN_OR_RETURN(std::unique_ptr<Connection> own,
                        Connection::Open(writer->path(), own_options));
  auto checkpointer = std::make_unique<WalCheckpointer>(writer, std::move(own), start_pages);
  writer->SetWalHook(&WalCheckpointer::OnCommit, checkpointer.get());
  return checkpointer;
}

WalCheckpointer::WalCheckpointer(Connection* writer, std::unique_ptr<Connection> own,
                                 int start_pages)
    : writer_(writer),
      own_(std::move(own)),
      start_pages_(start_pages),
      thread_([this] { Loop(); }) {}

WalCheckpointer::~WalCheckpointer() {
  writer_->SetWalHook(nullptr, nullptr);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void WalCheckpointer::WaitUntilIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return (!requested_ && !running_) || stopping_; });
}

int WalCheckpointer::OnCommit(void* self, sqlite3* /*db*/, const char* /*schema*/, int pages) {
  auto* checkpointer = static_cast<WalCheckpointer*>(self);
  if (pages >= checkpointer->start_pages_) {
    {
      std::lock_guard<std::mutex> lock(checkpointer->mu_);
      checkpointer->requested_ = true;
    }
    checkpointer->wake_.notify_one();
  }
  return SQLITE_OK;
}

void WalCheckpointer::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return requested_ || stopping_; });
    if (stopping_)
      break;
    requested_ = false;
    running_ = true;
    lock.unlock();
    CheckpointOnce();
    lock.lock();
    running_ = false;
    idle_.notify_all();
  }
  idle_.notify_all();
}

void WalCheckpointer::CheckpointOnce() {
  const Status status = own_->Checkpoint("background checkpoint");
  // A failed checkpoint loses nothing (the WAL keeps every commit); the next
  // commit past the limit asks again.
  if (!status.ok())
    Log(LogLevel::kWarning, status.message());
  checkpoints_.fetch_add(1);
}

}  // namespace ksdb::storage::sqlite
