// `dbinit new`.

#include <cctype>
#include <ctime>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "cli/command.h"
#include "util/error.h"
#include "util/files.h"

namespace dbinit::cli {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

int command_new(const Common& common, const std::string& description, bool timestamp,
                bool sequence) {
  const Settings settings = resolve_settings(common.flags, process_environment(), milliseconds(0));
  const fs::path& dir = settings.project.migrations_dir;
  const MigrationSet set = load_migrations(dir, settings.project.url.engine, dir.string());

  std::string slug;
  for (unsigned char c : description) {
    if (std::isalnum(c)) {
      slug += static_cast<char>(std::tolower(c));
    } else if (!slug.empty() && slug.back() != '_') {
      slug += '_';
    }
  }
  while (!slug.empty() && slug.back() == '_') slug.pop_back();
  if (slug.empty()) {
    throw Error(ErrorKind::usage,
                fmt::format("'{}' has no letters or digits to name a migration", description));
  }

  std::size_t widest = 0;
  char separator = '_';
  for (const Migration& m : set.migrations) {
    const std::string digits = m.name.substr(0, m.name.find_first_not_of("0123456789"));
    widest = std::max(widest, digits.size());
    if (digits.size() < m.name.size() && (m.name[digits.size()] == '-')) separator = '-';
  }
  const bool use_timestamp = timestamp || (!sequence && (set.migrations.empty() || widest >= 14));
  std::string version;
  if (use_timestamp) {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y%m%d%H%M%S", &tm);
    version = buffer;
    if (!set.migrations.empty() && !(set.migrations.back().version < Version(version))) {
      Error error(ErrorKind::usage, fmt::format("the newest migration {} is not older than now",
                                                set.migrations.back().name));
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
    const std::size_t width = std::max<std::size_t>(widest ? widest : 4, next.size());
    version = std::string(width - next.size(), '0') + next;
  }
  const fs::path file = dir / fmt::format("{}{}{}.sql", version, separator, slug);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (fs::exists(file, ec)) {
    throw Error(ErrorKind::usage, fmt::format("{} exists already", file.string()));
  }
  write_file_atomic(file, "-- dbinit:up\n\n\n-- dbinit:down\n\n");
  if (common.json) {
    std::cout << json{{"path", file.string()}, {"version", Version(version).str()}}.dump(2)
              << std::endl;
  } else {
    std::cout << file.string() << std::endl;
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
