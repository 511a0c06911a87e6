#pragma once

// Migration files and the set loaded from a migrations folder (SPEC.md "Migration files").
//
// Accepted names, in a folder of `*.sql` files (other files, README.md for example, are ignored):
//   <digits><-|_><description>.sql                  0001-create-users.sql, 20240830120000_init.sql
//   <digits><-|_><description>.<engine>.sql         0003-add-index.postgres.sql (engine variant)
//   V<digits>__<description>.sql                    Flyway
//   <digits>_<description>.up.sql / .down.sql       golang-migrate pairs (also with .<engine>.)
// A `.sql` file whose name is none of these is an Error{config} naming it.

#include <compare>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dbinit {

/// A migration version: a run of ASCII digits of any length, compared as a number. Stored without
/// leading zeros ("0" for all zeros), so comparison is by length, then lexicographic: it never
/// overflows, whatever the number of digits.
class Version {
 public:
  Version() = default;
  /// `digits` must be one or more ASCII digits (checked by the caller); leading zeros are dropped.
  explicit Version(std::string_view digits);
  /// True when `text` is a non-empty run of ASCII digits.
  static bool is_valid(std::string_view text);

  const std::string& str() const { return m_digits; }
  friend bool operator==(const Version&, const Version&) = default;
  friend std::strong_ordering operator<=>(const Version& a, const Version& b);

 private:
  std::string m_digits = "0";
};

/// Options a migration sets with comment lines before its first statement.
struct Directives {
  bool no_transaction = false;    // -- dbinit:no-transaction
  bool foreign_keys_off = false;  // -- dbinit:foreign-keys off (SQLite)
};

struct Migration {
  Version version;
  /// The file name of the up script (`0003-add-email.sql`, `0003_add_email.up.sql`).
  std::string name;
  /// The description part of the name (`add-email`).
  std::string description;
  /// Display path used in messages (the path as reached from the configured folder), and that of
  /// the golang-migrate down file when there is one.
  std::string display;
  std::optional<std::string> down_display;

  /// The up section, BOM removed and line ends normalised to LF.
  std::string up_sql;
  /// The line of the file on which `up_sql` begins (1-based).
  int up_line = 1;
  /// The down section (after `-- dbinit:down` / `-- migrate:down`, or the .down.sql file), if any.
  /// Empty (not nullopt) for a golang-migrate `.down.sql` file that exists but holds no statement:
  /// a rollback that runs nothing. A marker section without statements is nullopt (no down SQL).
  std::optional<std::string> down_sql;
  int down_line = 1;
  /// `sha256:<hex>` of `up_sql` (SPEC.md "Checksum").
  std::string checksum;
  Directives directives;
};

/// The migrations of one folder for one engine, in version order.
struct MigrationSet {
  std::filesystem::path dir;
  std::vector<Migration> migrations;
  /// True when the folder does not exist. Loading gives an empty set then; the commands that
  /// read migrations refuse a missing folder before they get here (cli/config.h,
  /// require_migrations_dir()), and `new` creates it.
  bool dir_missing = false;
};

/// Normalises file text as the checksum sees it: drops a leading UTF-8 BOM and turns CRLF and lone
/// CR into LF.
std::string normalize_sql_text(std::string_view raw);

/// `sha256:` + lowercase hex of `text`.
std::string checksum_of(std::string_view text);

/// Parses one migration file's normalised text: splits it at `-- dbinit:up` / `-- dbinit:down`
/// (or dbmate's `-- migrate:up` / `-- migrate:down`) marker lines and reads the directives. A file
/// without markers is all up. Fills up_sql, up_line, down_sql, down_line, checksum and directives.
/// Throws Error{config} (with `where` = `display`) for a marker repeated or down before up.
void parse_migration_text(Migration& migration, std::string_view normalized_text);

/// Loads a migrations folder as load_migrations() does, in a way that several threads can share
/// and that can overlap other work (connecting to the database): call work() from any number of
/// threads (the first lists the folder while the others wait for it, then all read, parse and hash
/// files until none is left), then take() once every work() call has returned. Errors are kept and
/// thrown by take(): the listing's, else the first bad file's in version order, as if the files had
/// been read one after the other.
class MigrationLoader {
 public:
  MigrationLoader(std::filesystem::path dir, std::string_view engine, std::string_view display_dir);
  ~MigrationLoader();
  MigrationLoader(const MigrationLoader&) = delete;
  MigrationLoader& operator=(const MigrationLoader&) = delete;

  void work() noexcept;
  MigrationSet take();

 private:
  struct State;
  std::unique_ptr<State> m_state;
};

/// Loads every migration of `dir` that applies to `engine` (a registry name, engines/engine.h): an
/// engine variant (`.postgres.sql`) replaces the plain file of the same version on its engine and
/// is ignored on the others. `display_dir` is how the folder is named in messages. Throws
/// Error{config} for a bad name, a duplicate version (naming both files) or an unreadable file.
MigrationSet load_migrations(const std::filesystem::path& dir, std::string_view engine,
                             std::string_view display_dir);

}  // namespace dbinit
