#pragma once

// Durations for the reports: how long a migration, a seed or a run took.

#include <chrono>
#include <cstdint>
#include <string>

namespace dbinit {

/// `350 ms`, `1.2 s`, `2 min 5 s`, `1 h 30 min`: the one way messages write a duration (a time
/// taken, a timeout, a wait).
std::string duration_text(std::chrono::milliseconds duration);

/// Whole milliseconds since `since` on the steady clock.
inline std::int64_t elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

}  // namespace dbinit
