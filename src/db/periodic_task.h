// PeriodicTask: runs a function every interval on its own thread until
// destroyed (the engine's index checkpoints).
#ifndef KSDB_DB_PERIODIC_TASK_H_
#define KSDB_DB_PERIODIC_TASK_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace ksdb::db {

class PeriodicTask {
 public:
  // Starts the thread; the first run is one interval from now.
  PeriodicTask(std::chrono::milliseconds interval, std::function<void()> task);
  // Stops the thread, waiting for a run in progress to finish.
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

 private:
  void Loop();

  const std::chrono::milliseconds interval_;
  const std::function<void()> task_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace ksdb::db

#endif  // KSDB_DB_PERIODIC_TASK_H_
