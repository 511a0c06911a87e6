// `dbinit new`.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "cli/command.h"
#include "util/error.h"
#include "util/files.h"

namespace dbinit::cli {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

/// The longest slug a new file gets: file systems limit a name to 255 bytes, and a name that long
/// helps nobody.
constexpr std::size_t k_max_slug = 60;

/// How the project names and writes its migrations, read from the newest one.
struct Style {
  /// Digits of the newest version as written (0 when there is no migration).
  std::size_t width = 0;
  /// Between the version and the description: `-`, `_`, or `__` (Flyway, with prefix `V`).
  std::string separator = "_";
  std::string prefix;
  /// Between the words of the description.
  char word_separator = '_';
  /// golang-migrate: `<v>_<slug>.up.sql` with `<v>_<slug>.down.sql`.
  bool pairs = false;
  /// dbmate's `-- migrate:up` / `-- migrate:down` markers instead of dbinit's.
  bool dbmate = false;
};

Style project_style(const MigrationSet& set) {
  Style style;
  if (set.migrations.empty()) return style;
  const Migration& newest = set.migrations.back();
  std::string_view name = newest.name;
  if (name.size() > 1 && name[0] == 'V' && std::isdigit(static_cast<unsigned char>(name[1]))) {
    style.prefix = "V";
    style.separator = "__";
    name.remove_prefix(1);
  }
  style.width = std::min(name.find_first_not_of("0123456789"), name.size());
  if (style.prefix.empty() && style.width < name.size() && name[style.width] == '-') {
    style.separator = "-";
  }
  style.pairs = newest.down_display.has_value() || name.ends_with(".up.sql");
  // Words: the separator the newest description that has several words uses.
  for (auto it = set.migrations.rbegin(); it != set.migrations.rend(); ++it) {
    const bool hyphen = it->description.find('-') != std::string::npos;
    const bool underscore = it->description.find('_') != std::string::npos;
    if (hyphen != underscore) {
      style.word_separator = hyphen ? '-' : '_';
      break;
    }
  }
  try {
    const std::string text = read_file(newest.display);
    style.dbmate = text.find("-- migrate:up") != std::string::npos;
  } catch (const Error&) {
    // Unreadable now: the markers are dbinit's.
  }
  return style;
}

/// `description` as the words of a file name: lowercase letters and digits joined by
/// `separator`, at most k_max_slug characters, cut at a word boundary.
std::string slug_of(const std::string& description, char separator) {
  std::string slug;
  for (unsigned char c : description) {
    if (std::isalnum(c)) {
      slug += static_cast<char>(std::tolower(c));
    } else if (!slug.empty() && slug.back() != separator) {
      slug += separator;
    }
  }
  while (!slug.empty() && slug.back() == separator) slug.pop_back();
  if (slug.size() > k_max_slug) {
    const std::size_t cut = slug.rfind(separator, k_max_slug);
    slug.resize(cut == std::string::npos || cut == 0 ? k_max_slug : cut);
  }
  return slug;
}

/// The UTC time as a version of `width` digits: `YYYYMMDDHHMMSS`, then fractions of the second
/// for wider versions (golang-migrate's 20-digit names, for example), then zeros.
std::string timestamp_version(std::size_t width) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%d%H%M%S", &tm);
  std::string version = buffer;
  const auto nanoseconds =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() %
      1'000'000'000;
  version += fmt::format("{:09d}", nanoseconds);
  version.resize(std::max<std::size_t>(width, 14), '0');
  return version;
}

int command_new(const Common& common, const std::string& description, bool timestamp,
                bool sequence) {
  const Settings settings = resolve_settings(common.flags, process_environment(), milliseconds(0));
  const fs::path& dir = settings.project.migrations_dir;
  const MigrationSet set = load_migrations(dir, settings.project.url.engine, dir.string());
  const Style style = project_style(set);

  const std::string slug = slug_of(description, style.word_separator);
  if (slug.empty()) {
    throw Error(ErrorKind::usage,
                fmt::format("'{}' has no letters or digits to name a migration", description));
  }

  const bool use_timestamp =
      timestamp || (!sequence && (set.migrations.empty() || style.width >= 14));
  std::string version;
  if (use_timestamp) {
    version = timestamp_version(style.width);
    if (!set.migrations.empty() && !(set.migrations.back().version < Version(version))) {
      Error error(ErrorKind::usage,
                  fmt::format("the newest migration {} is not older than now (UTC {})",
                              set.migrations.back().name, version));
      error.hint = "use --sequence, or check the versions in " + dir.string();
      throw error;
    }
  } else {
    // Next number above the highest, as a decimal string of any length.
    std::string next = set.migrations.empty() ? "0" : set.migrations.back().version.str();
    int i = static_cast<int>(next.size()) - 1;
    while (i >= 0 && next[i] == '9') next[i--] = '0';
    if (i < 0) {
      next.insert(next.begin(), '1');
    } else {
      ++next[i];
    }
    if (set.migrations.empty()) next = "1";
    const std::size_t width = std::max<std::size_t>(style.width ? style.width : 4, next.size());
    version = std::string(width - next.size(), '0') + next;
  }
  const std::string stem = fmt::format("{}{}{}{}", style.prefix, version, style.separator, slug);
  std::vector<std::pair<fs::path, std::string>> files;
  if (style.pairs) {
    // golang-migrate's own `create` writes both files empty; an empty down file is a rollback
    // that runs nothing.
    files.emplace_back(dir / (stem + ".up.sql"), "");
    files.emplace_back(dir / (stem + ".down.sql"), "");
  } else if (style.dbmate) {
    files.emplace_back(dir / (stem + ".sql"), "-- migrate:up\n\n\n-- migrate:down\n\n");
  } else {
    files.emplace_back(dir / (stem + ".sql"), "-- dbinit:up\n\n\n-- dbinit:down\n\n");
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  for (const auto& [file, text] : files) {
    if (fs::exists(file, ec)) {
      throw Error(ErrorKind::usage, fmt::format("{} exists already", file.string()));
    }
  }
  for (const auto& [file, text] : files) write_file_atomic(file, text);
  if (common.json) {
    json paths = json::array();
    for (const auto& [file, text] : files) paths.push_back(file.string());
    print_json({{"path", files.front().first.string()},
                {"paths", paths},
                {"version", Version(version).str()}});
  } else {
    std::string out;
    for (const auto& [file, text] : files) out += file.string() + "\n";
    print_out(out);
  }
  return 0;
}

}  // namespace

void add_new_command(Commands& commands) {
  if (!commands.wants("new")) return;
  Common& common = commands.common();
  struct NewFlags {
    std::string description;
    bool timestamp = false;
    bool sequence = false;
  };
  auto flags = std::make_shared<NewFlags>();
  CLI::App* create = commands.add("new", "create the next migration file", [&common, flags] {
    return command_new(common, flags->description, flags->timestamp, flags->sequence);
  });
  create->add_option("description", flags->description, "what the migration does")->required();
  auto* timestamp = create->add_flag("--timestamp", flags->timestamp, "name it with the UTC time");
  create->add_flag("--sequence", flags->sequence, "name it with the next number")
      ->excludes(timestamp);
}

}  // namespace dbinit::cli
