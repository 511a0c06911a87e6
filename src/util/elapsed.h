#pragma once

// Durations for the reports: how long a migration, a seed or a run took.

#include <chrono>
#include <cstdint>

namespace dbinit {

/// Whole milliseconds since `since` on the steady clock.
inline std::int64_t elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

}  // namespace dbinit
