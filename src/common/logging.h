// Minimal logging to stderr and the invariant checks KSDB_CHECK / KSDB_DCHECK.
// Thread-safe: each call writes one whole line.
#ifndef KSDB_COMMON_LOGGING_H_
#define KSDB_COMMON_LOGGING_H_

#include <string_view>

namespace ksdb {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// Writes "<UTC time> <LEVEL> <message>\n" to stderr when level >= the threshold.
void Log(LogLevel level, std::string_view message);
// Messages below `level` are dropped. Default: kInfo.
void SetLogThreshold(LogLevel level);

// Prints file, line and the failed condition, then aborts. Never returns.
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition);

}  // namespace ksdb

// For broken invariants only, never for user input (that gets a Status).
#define KSDB_CHECK(cond)                                          \
  do {                                                            \
    if (!(cond)) ::ksdb::CheckFailed(__FILE__, __LINE__, #cond);  \
  } while (0)

#ifdef NDEBUG
#define KSDB_DCHECK(cond) \
  do {                    \
  } while (0)
#else
#define KSDB_DCHECK(cond) KSDB_CHECK(cond)
#endif

#endif  // KSDB_COMMON_LOGGING_H_
