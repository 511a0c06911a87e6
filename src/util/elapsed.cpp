#include "util/elapsed.h"

#include <fmt/format.h>

namespace dbinit {

std::string duration_text(std::chrono::milliseconds duration) {
  const long long ms = duration.count();
  if (ms < 1000) return fmt::format("{} ms", ms);
  if (ms < 60'000) {
    return ms % 1000 == 0 ? fmt::format("{} s", ms / 1000)
                          : fmt::format("{:.1f} s", static_cast<double>(ms) / 1000.0);
  }
  const long long seconds = (ms + 500) / 1000;
  if (seconds < 3600) {
    return seconds % 60 == 0 ? fmt::format("{} min", seconds / 60)
                             : fmt::format("{} min {} s", seconds / 60, seconds % 60);
  }
  const long long minutes = (seconds + 30) / 60;
  return minutes % 60 == 0 ? fmt::format("{} h", minutes / 60)
                           : fmt::format("{} h {} min", minutes / 60, minutes % 60);
}

}  // namespace dbinit
