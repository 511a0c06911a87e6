#include "core/migration.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "engines/engine.h"
#include "util/error.h"
#include "util/files.h"
#include "util/sha256.h"
#include "util/text.h"

// Decisions beyond SPEC.md "Migration files", in one place:
// - A bare `<digits>.sql` is a migration with an empty description.
// - Flyway dotted versions (`V1.1__`, `V1_1__`), repeatable (`R__`) and undo (`U1__`) migrations
//   are refused with an explanation rather than read with a different meaning.
// - Engine and golang-migrate suffixes may come in either order: `.postgres.up.sql` or
//   `.up.postgres.sql`.
// - `up_sql` is the text after the up marker line up to the down marker line; with no up marker,
//   the text from the start of the file. Only comments and blank lines may come before an up
//   marker. A file with a down marker but no up marker is up until the down marker.
// - A down section holding nothing but comments and blank lines counts as no down SQL, so a
//   template's empty section never makes a rollback that undoes nothing. A golang-migrate
//   `.down.sql` file is different: creating it is how that tool's users say "nothing to undo", so
//   an existing file without statements is an empty down (`down_sql` = "", a rollback that runs
//   nothing), while a missing file is no down SQL.
// - Directives are read before the first statement of the header, of the up section and of the
//   down section, and apply to the whole migration (dbmate's `transaction:false` is allowed on
//   either marker; dbmate files usually mark both). A `-- dbinit:` comment anywhere else, or one
//   that is not a known marker or directive, is an error: a misspelt marker would otherwise put
//   the down SQL into the up section.

namespace dbinit {

namespace {

constexpr std::string_view k_bom = "\xEF\xBB\xBF";

constexpr std::string_view k_name_hint =
    "name migrations <digits>-<description>.sql or <digits>_<description>.sql "
    "(0001-create-users.sql), V<digits>__<description>.sql (Flyway) or "
    "<digits>_<description>.up.sql with .down.sql (golang-migrate); add .sqlite, .postgres or "
    ".mysql before .sql for an engine variant";

constexpr std::string_view k_directive_hint =
    "known markers and directives: -- dbinit:up, -- dbinit:down, -- dbinit:no-transaction, "
    "-- dbinit:foreign-keys off";

// The canonical name of the engine that `name` (an engine name or alias, as in
// `0003-x.postgresql.sql`) stands for, or empty. The aliases are the registry's
// (engines/engine.cpp).
std::string_view canonical_engine(std::string_view name) {
  const EngineInfo* engine = find_engine(name);
  return engine == nullptr ? std::string_view{} : engine->name;
}

enum class Direction { up, down };

// What a file name says. `engine` is empty for a file that applies to every engine.
struct FileName {
  std::string file;
  Version version;
  std::string description;
  std::string_view engine;
  Direction direction = Direction::up;
};

std::string display_path(std::string_view display_dir, std::string_view file) {
  if (display_dir.empty()) return std::string(file);
  std::string out(display_dir);
  if (out.back() != '/') out += '/';
  out += file;
  return out;
}

[[noreturn]] void throw_name_error(std::string message, std::string where, std::string hint) {
  Error error(ErrorKind::config, std::move(message));
  error.where = std::move(where);
  error.hint = std::move(hint);
  throw error;
}

std::size_t digit_run(std::string_view text, std::size_t from) {
  std::size_t end = from;
  while (end < text.size() && is_digit(text[end])) ++end;
  return end - from;
}

// Parses a directory entry's name: nullopt for files that are not migrations by design (hidden, not
// `.sql`); an Error{config} for `.sql` files whose name is not a migration. Hand-written: this runs
// once per file on every start.
std::optional<FileName> parse_file_name(std::string_view file, std::string_view display_dir) {
  if (file.empty() || file.front() == '.') return std::nullopt;
  if (!ends_with_ci(file, ".sql")) {
    if (ends_with_ci(file, ".sql.gz") || ends_with_ci(file, ".sql.zst")) {
      throw_name_error(fmt::format("compressed migration file '{}' is not supported", file),
                       display_path(display_dir, file),
                       "store migrations as plain .sql files (init dumps may be compressed)");
    }
    return std::nullopt;
  }

  FileName name;
  name.file = std::string(file);
  std::string_view stem = file.substr(0, file.size() - 4);
  bool have_direction = false;
  for (int pass = 0; pass < 2; ++pass) {
    std::size_t dot = stem.rfind('.');
    if (dot == std::string_view::npos) break;
    std::string_view suffix = stem.substr(dot + 1);
    if (!have_direction && (equals_ci(suffix, "up") || equals_ci(suffix, "down"))) {
      have_direction = true;
      name.direction = equals_ci(suffix, "up") ? Direction::up : Direction::down;
    } else if (name.engine.empty() && !canonical_engine(suffix).empty()) {
      name.engine = canonical_engine(suffix);
    } else {
      break;
    }
    stem = stem.substr(0, dot);
  }

  auto bad_name = [&](std::string message, std::string_view hint) {
    throw_name_error(std::move(message), display_path(display_dir, file), std::string(hint));
  };

  if (stem.size() >= 2 && (stem[0] == 'V' || stem[0] == 'U') && is_digit(stem[1])) {
    std::size_t digits = digit_run(stem, 1);
    std::string_view after = stem.substr(1 + digits);
    bool dotted = !after.starts_with("__") && after.size() >= 2 &&
                  (after[0] == '.' || after[0] == '_') && is_digit(after[1]);
    if (stem[0] == 'U' && (dotted || after.starts_with("__"))) {
      bad_name(fmt::format("'{}' is a Flyway undo migration, which dbinit does not support", file),
               "put the undo SQL in a -- dbinit:down section of the migration it undoes");
    }
    if (dotted) {
      bad_name(fmt::format("'{}' has a dotted Flyway version, which dbinit does not support", file),
               "rename it with a whole-number version, V<digits>__<description>.sql, keeping the "
               "order of the existing files");
    }
    if (stem[0] == 'V' && after.starts_with("__")) {
      name.version = Version(stem.substr(1, digits));
      name.description = std::string(after.substr(2));
      return name;
    }
    bad_name(fmt::format("'{}' is not a migration file name", file), k_name_hint);
  }
  if (stem.starts_with("R__")) {
    bad_name(
        fmt::format("'{}' is a Flyway repeatable migration, which dbinit does not support", file),
        "turn it into a versioned migration, <digits>-<description>.sql");
  }
  std::size_t digits = digit_run(stem, 0);
  if (digits == 0) bad_name(fmt::format("'{}' is not a migration file name", file), k_name_hint);
  std::string_view after = stem.substr(digits);
  if (!after.empty() && after[0] != '-' && after[0] != '_') {
    bad_name(fmt::format(
                 "'{}' is not a migration file name: the version must be followed by - or _", file),
             k_name_hint);
  }
  name.version = Version(stem.substr(0, digits));
  // A bare `<digits>.sql` is accepted, with an empty description.
  name.description = std::string(after.empty() ? after : after.substr(1));
  return name;
}

// Drops a leading BOM and turns CRLF and lone CR into LF, without copying text that has neither.
void normalize_in_place(std::string& text) {
  if (std::string_view(text).starts_with(k_bom)) text.erase(0, k_bom.size());
  std::size_t cr = text.find('\r');
  if (cr == std::string::npos) return;
  std::size_t out = cr;
  for (std::size_t in = cr; in < text.size(); ++in) {
    if (text[in] == '\r') {
      text[out++] = '\n';
      if (in + 1 < text.size() && text[in + 1] == '\n') ++in;
    } else {
      text[out++] = text[in];
    }
  }
  text.resize(out);
}

bool is_word_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || is_digit(c) || c == '_' || u >= 0x80;
}

// Skips a comment or quoted text starting at `i`, returning the offset after it, or `i` when none
// starts there.
std::size_t skip_comment_or_quote(std::string_view sql, std::size_t i) {
  char c = sql[i];
  char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
  if (c == '-' && next == '-') {
    std::size_t end = sql.find('\n', i);
    return end == std::string_view::npos ? sql.size() : end + 1;
  }
  if (c == '/' && next == '*') {
    std::size_t end = sql.find("*/", i + 2);
    return end == std::string_view::npos ? sql.size() : end + 2;
  }
  if (c == '\'' || c == '"' || c == '`') {
    std::size_t end = sql.find(c, i + 1);
    return end == std::string_view::npos ? sql.size() : end + 1;
  }
  return i;
}

// True when `sql` has anything besides whitespace and comments.
bool has_statement(std::string_view sql) {
  std::size_t i = 0;
  while (i < sql.size()) {
    if (is_space(sql[i])) {
      ++i;
      continue;
    }
    std::size_t after = skip_comment_or_quote(sql, i);
    if (after == i || sql[i] == '\'' || sql[i] == '"' || sql[i] == '`') return true;
    i = after;
  }
  return false;
}

// True when `sql` runs `PRAGMA foreign_keys = OFF` (also `=0`, `=false`, `=no`, `(off)`, quoted),
// outside comments and string literals.
bool turns_foreign_keys_off(std::string_view sql) {
  // The common case first: no `foreign_keys` at all (found through its '_', which memchr finds
  // fast).
  bool mentioned = false;
  for (std::size_t u = sql.find('_'); u != std::string_view::npos && !mentioned;
       u = sql.find('_', u + 1)) {
    mentioned = u >= 7 && equals_ci(sql.substr(u - 7, 7), "foreign") &&
                equals_ci(sql.substr(u + 1, 4), "keys");
  }
  if (!mentioned) return false;
  auto skip_spaces = [&](std::size_t i) {
    while (i < sql.size() && is_space(sql[i])) ++i;
    return i;
  };
  auto word_end = [&](std::size_t i) {
    while (i < sql.size() && is_word_char(sql[i])) ++i;
    return i;
  };
  std::size_t i = 0;
  while (i < sql.size()) {
    std::size_t after = skip_comment_or_quote(sql, i);
    if (after != i) {
      i = after;
      continue;
    }
    if (!is_word_char(sql[i])) {
      ++i;
      continue;
    }
    std::size_t end = word_end(i);
    if (equals_ci(sql.substr(i, end - i), "pragma")) {
      std::size_t name = skip_spaces(end);
      std::size_t name_end = word_end(name);
      if (name_end < sql.size() && sql[name_end] == '.') {  // schema-qualified: main.foreign_keys
        name = name_end + 1;
        name_end = word_end(name);
      }
      if (equals_ci(sql.substr(name, name_end - name), "foreign_keys")) {
        std::size_t value = skip_spaces(name_end);
        if (value < sql.size() && (sql[value] == '=' || sql[value] == '(')) {
          value = skip_spaces(value + 1);
          if (value < sql.size() && (sql[value] == '\'' || sql[value] == '"')) ++value;
          std::string_view word = sql.substr(value, word_end(value) - value);
          if (equals_ci(word, "off") || word == "0" || equals_ci(word, "false") ||
              equals_ci(word, "no")) {
            return true;
          }
        }
      }
    }
    i = end;
  }
  return false;
}

// What parse_text found besides the Migration fields.
struct TextLayout {
  bool down_marker = false;
  int down_marker_line = 0;
};

TextLayout parse_text(Migration& migration, std::string_view text) {
  const std::string& where_file = migration.display.empty() ? migration.name : migration.display;
  auto fail = [&](int line, std::string message, std::string_view hint = {}) {
    Error error(ErrorKind::config, std::move(message));
    error.where = fmt::format("{} line {}", where_file, line);
    error.hint = std::string(hint);
    throw error;
  };

  Directives directives;
  bool in_directive_zone = true;
  int first_header_statement = 0;  // line of the first statement before any marker
  bool up_marker = false;
  int up_marker_line = 0;
  std::size_t up_begin = 0;
  TextLayout layout;
  std::size_t down_marker_begin = 0;
  std::size_t down_begin = 0;

  std::size_t pos = 0;
  for (int line = 1;; ++line) {
    std::size_t newline = text.find('\n', pos);
    std::size_t end = newline == std::string_view::npos ? text.size() : newline;
    std::size_t next = newline == std::string_view::npos ? text.size() : newline + 1;
    std::string_view content = trim_left(text.substr(pos, end - pos));

    if (!content.empty()) {
      if (!content.starts_with("--")) {
        in_directive_zone = false;
        if (!up_marker && !layout.down_marker && first_header_statement == 0) {
          first_header_statement = line;
        }
      } else {
        std::string_view body = trim_left(content.substr(2));
        bool ours = starts_with_ci(body, "dbinit:");
        bool dbmate = !ours && starts_with_ci(body, "migrate:");
        if (ours || dbmate) {
          std::string_view prefix = ours ? "dbinit:" : "migrate:";
          body = trim(body.substr(prefix.size()));
          std::size_t space = std::min(body.find(' '), body.find('\t'));
          std::string_view word = body.substr(0, space);
          std::string_view rest =
              space == std::string_view::npos ? std::string_view{} : trim(body.substr(space));
          bool is_up = equals_ci(word, "up");
          if (is_up || equals_ci(word, "down")) {
            auto marker = [&] { return fmt::format("-- {}{}", prefix, is_up ? "up" : "down"); };
            while (!rest.empty()) {
              std::size_t option_end = rest.find_first_of(" \t");
              std::string_view option = rest.substr(0, option_end);
              if (equals_ci(option, "transaction:false")) {
                directives.no_transaction = true;
              } else if (!equals_ci(option, "transaction:true")) {
                fail(line, fmt::format("unknown option '{}' on the {} marker", option, marker()),
                     "the only marker option is transaction:false (run outside a transaction)");
              }
              rest = option_end == std::string_view::npos ? std::string_view{}
                                                          : trim_left(rest.substr(option_end));
            }
            if (is_up) {
              if (up_marker) {
                fail(line,
                     fmt::format("second up marker (the first is on line {})", up_marker_line),
                     "a migration has one up section");
              }
              if (layout.down_marker) {
                fail(line,
                     fmt::format("up marker after the down marker on line {}",
                                 layout.down_marker_line),
                     "put the up section first, then the down section");
              }
              if (first_header_statement != 0) {
                fail(first_header_statement,
                     fmt::format("statement before the {} marker on line {}", marker(), line),
                     "only comments may come before the up marker; move the SQL below it");
              }
              up_marker = true;
              up_marker_line = line;
              up_begin = next;
            } else {
              if (layout.down_marker) {
                fail(line,
                     fmt::format("second down marker (the first is on line {})",
                                 layout.down_marker_line),
                     "a migration has one down section");
              }
              layout.down_marker = true;
              layout.down_marker_line = line;
              down_marker_begin = pos;
              down_begin = next;
            }
            in_directive_zone = true;
          } else if (ours) {
            bool known = true;
            if (equals_ci(word, "no-transaction") && rest.empty()) {
              directives.no_transaction = true;
            } else if (equals_ci(word, "foreign-keys") && equals_ci(rest, "off")) {
              directives.foreign_keys_off = true;
            } else if (!(equals_ci(word, "foreign-keys") && equals_ci(rest, "on"))) {
              known = false;
            }
            if (!known) {
              fail(line, fmt::format("unknown directive '{}'", trim_right(content)),
                   k_directive_hint);
            }
            if (!in_directive_zone) {
              fail(line, fmt::format("directive '{}' comes after a statement", trim_right(content)),
                   "directives must come before the first statement of the file or section");
            }
          }
        }
      }
    }
    if (newline == std::string_view::npos) break;
    pos = next;
  }

  std::size_t up_end = layout.down_marker ? down_marker_begin : text.size();
  migration.up_sql = std::string(text.substr(up_begin, up_end - up_begin));
  migration.up_line = up_marker ? up_marker_line + 1 : 1;
  migration.down_sql.reset();
  migration.down_line = 1;
  if (layout.down_marker) {
    std::string_view down = text.substr(down_begin);
    if (has_statement(down)) migration.down_sql = std::string(down);
    migration.down_line = layout.down_marker_line + 1;
  }
  if (turns_foreign_keys_off(migration.up_sql)) directives.foreign_keys_off = true;
  migration.directives = directives;
  migration.checksum = checksum_of(migration.up_sql);
  return layout;
}

bool slot_less(const FileName& a, const FileName& b) {
  if (a.version != b.version) return a.version < b.version;
  if (a.engine != b.engine) return a.engine < b.engine;
  if (a.direction != b.direction) return a.direction < b.direction;
  return a.file < b.file;
}

bool same_slot(const FileName& a, const FileName& b) {
  return a.version == b.version && a.engine == b.engine && a.direction == b.direction;
}

}  // namespace

Version::Version(std::string_view digits) {
  std::size_t first = digits.find_first_not_of('0');
  m_digits = first == std::string_view::npos ? "0" : std::string(digits.substr(first));
}

bool Version::is_valid(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_digit);
}

std::strong_ordering operator<=>(const Version& a, const Version& b) {
  if (a.m_digits.size() != b.m_digits.size()) return a.m_digits.size() <=> b.m_digits.size();
  int order = a.m_digits.compare(b.m_digits);
  return order < 0   ? std::strong_ordering::less
         : order > 0 ? std::strong_ordering::greater
                     : std::strong_ordering::equal;
}

std::string normalize_sql_text(std::string_view raw) {
  std::string text(raw);
  normalize_in_place(text);
  return text;
}

std::string checksum_of(std::string_view text) {
  return "sha256:" + sha256_hex(text);
}

void parse_migration_text(Migration& migration, std::string_view normalized_text) {
  parse_text(migration, normalized_text);
}

struct MigrationLoader::State {
  struct Chosen {
    FileName* up = nullptr;
    FileName* down = nullptr;
  };

  std::filesystem::path dir;
  std::string engine;  // as given: an unknown one is the listing's error
  std::string display_dir;

  std::mutex listing;  // held by the thread that lists while the others wait for it
  bool listed = false;
  std::exception_ptr listing_error;

  std::unique_ptr<DIR, int (*)(DIR*)> folder{nullptr, ::closedir};
  std::vector<FileName> names;  // sorted by version, then engine, then direction
  std::vector<Chosen> chosen;   // parallel to set.migrations
  MigrationSet set;
  std::vector<std::exception_ptr> errors;  // parallel to set.migrations
  std::atomic<std::size_t> next{0};

  void list();
  void read(std::size_t index);
};

void MigrationLoader::State::list() {
  set.dir = dir;
  std::string_view target = canonical_engine(engine);
  if (target.empty()) {
    throw Error(ErrorKind::config, fmt::format("unknown engine '{}'", engine));
  }

  // POSIX rather than std::filesystem here: readdir's d_type avoids a stat per entry, and reading
  // with openat on the open folder avoids building and walking a full path per file. This runs on
  // every start, over every migration ever written.
  folder.reset(::opendir(dir.c_str()));
  auto folder_error = [&](int error_number) {
    Error error(ErrorKind::config, fmt::format("cannot read the migrations folder {}: {}",
                                               display_dir, std::strerror(error_number)));
    error.hint = "check --dir (or `dir` in dbinit.toml) and the folder's permissions";
    throw error;
  };
  if (!folder) {
    if (errno == ENOENT) {
      set.dir_missing = true;
      return;
    }
    folder_error(errno);
  }
  const int folder_fd = ::dirfd(folder.get());

  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(folder.get());
    if (entry == nullptr) {
      if (errno != 0) folder_error(errno);
      break;
    }
    std::optional<FileName> name = parse_file_name(entry->d_name, display_dir);
    if (!name) continue;
    // Subfolders (and anything else that is not a file) are ignored, whatever their name. A link
    // that leads nowhere is kept, for the read to report.
    if (entry->d_type != DT_REG) {
      if (entry->d_type != DT_UNKNOWN && entry->d_type != DT_LNK) continue;
      struct stat info {};
      if (::fstatat(folder_fd, entry->d_name, &info, 0) == 0 && !S_ISREG(info.st_mode)) continue;
    }
    names.push_back(std::move(*name));
  }
  // Sorting pointers and then moving each name once is cheaper than swapping the names (three
  // strings each) all through the sort, on a folder of thousands of files.
  std::vector<FileName*> order(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) order[i] = &names[i];
  std::sort(order.begin(), order.end(),
            [](const FileName* a, const FileName* b) { return slot_less(*a, *b); });
  std::vector<FileName> sorted;
  sorted.reserve(names.size());
  for (FileName* name : order) sorted.push_back(std::move(*name));
  names = std::move(sorted);

  for (std::size_t i = 1; i < names.size(); ++i) {
    if (!same_slot(names[i - 1], names[i])) continue;
    Error error(ErrorKind::config,
                fmt::format("two migrations have version {}{}: {} and {}", names[i].version.str(),
                            names[i].engine.empty() ? "" : fmt::format(" for {}", names[i].engine),
                            display_path(display_dir, names[i - 1].file),
                            display_path(display_dir, names[i].file)));
    error.where = display_dir;
    error.hint = "give each migration its own version (leading zeros do not make a new version)";
    throw error;
  }

  // Sorted by version, then engine ("" = every engine first), then direction (up before down).
  chosen.reserve(names.size());
  for (std::size_t group = 0; group < names.size();) {
    std::size_t group_end = group;
    while (group_end < names.size() && names[group_end].version == names[group].version) {
      ++group_end;
    }
    Chosen plain;
    Chosen variant;
    for (std::size_t i = group; i < group_end; ++i) {
      FileName& name = names[i];
      if (name.direction == Direction::down) {
        bool has_up = i > group && names[i - 1].engine == name.engine &&
                      names[i - 1].direction == Direction::up;
        if (!has_up) {
          throw_name_error(fmt::format("down migration '{}' has no up migration", name.file),
                           display_path(display_dir, name.file),
                           fmt::format("add {}_<description>{}.up.sql next to it, or remove it",
                                       name.version.str(),
                                       name.engine.empty() ? "" : "." + std::string(name.engine)));
        }
      }
      Chosen* slot = name.engine.empty() ? &plain : name.engine == target ? &variant : nullptr;
      if (slot == nullptr) continue;
      (name.direction == Direction::up ? slot->up : slot->down) = &name;
    }
    if (variant.up != nullptr) {
      chosen.push_back(variant);
    } else if (plain.up != nullptr) {
      chosen.push_back(plain);
    }
    group = group_end;
  }
  set.migrations.resize(chosen.size());
  errors.resize(chosen.size());
}

void MigrationLoader::State::read(std::size_t index) {
  // Each name is read once, so its strings move into the migration.
  FileName* up = chosen[index].up;
  FileName* down = chosen[index].down;
  Migration& migration = set.migrations[index];
  const int folder_fd = ::dirfd(folder.get());
  migration.version = up->version;
  migration.display = display_path(display_dir, up->file);
  std::string text = read_file_at(folder_fd, up->file.c_str(), migration.display);
  migration.name = std::move(up->file);
  migration.description = std::move(up->description);
  normalize_in_place(text);
  TextLayout layout = parse_text(migration, text);
  if (down != nullptr) {
    std::string down_display = display_path(display_dir, down->file);
    if (layout.down_marker) {
      Error error(ErrorKind::config,
                  fmt::format("two down sections: a down marker on line {} and the file {}",
                              layout.down_marker_line, down_display));
      error.where = migration.display;
      error.hint = "keep the down SQL in one place";
      throw error;
    }
    std::string down_text = read_file_at(folder_fd, down->file.c_str(), down_display);
    migration.down_display = std::move(down_display);
    normalize_in_place(down_text);
    migration.down_sql = has_statement(down_text) ? std::move(down_text) : std::string();
    migration.down_line = 1;
  }
}

MigrationLoader::MigrationLoader(std::filesystem::path dir, std::string_view engine,
                                 std::string_view display_dir)
    : m_state(std::make_unique<State>()) {
  m_state->dir = std::move(dir);
  m_state->engine = std::string(engine);
  m_state->display_dir = std::string(display_dir);
}

MigrationLoader::~MigrationLoader() = default;

void MigrationLoader::work() noexcept {
  State& state = *m_state;
  {
    std::lock_guard<std::mutex> lock(state.listing);
    if (!state.listed) {
      state.listed = true;
      try {
        state.list();
      } catch (...) {
        state.listing_error = std::current_exception();
      }
    }
  }
  if (state.listing_error) return;
  // Small chunks, so that a thread that joins late still finds work and none waits long for the
  // last chunk of another.
  constexpr std::size_t k_chunk = 16;
  const std::size_t count = state.chosen.size();
  for (std::size_t first = state.next.fetch_add(k_chunk); first < count;
       first = state.next.fetch_add(k_chunk)) {
    const std::size_t last = std::min(first + k_chunk, count);
    for (std::size_t i = first; i < last; ++i) {
      try {
        state.read(i);
      } catch (...) {
        state.errors[i] = std::current_exception();
      }
    }
  }
}

MigrationSet MigrationLoader::take() {
  State& state = *m_state;
  if (state.listing_error) std::rethrow_exception(state.listing_error);
  for (const std::exception_ptr& error : state.errors) {
    if (error) std::rethrow_exception(error);
  }
  return std::move(state.set);
}

MigrationSet load_migrations(const std::filesystem::path& dir, std::string_view engine,
                             std::string_view display_dir) {
  MigrationLoader loader(dir, engine, display_dir);
  loader.work();
  return loader.take();
}

}  // namespace dbinit
