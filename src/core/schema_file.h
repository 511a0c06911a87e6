#pragma once

// The schema file (`db/schema.sql`): the schema a database holds, as engine-native DDL
// (SchemaSupport::render), followed by the statements that create the ledger and record the
// migrations that schema contains. `dbinit schema` writes it; `up` loads it into an empty database
// instead of replaying a long history when every migration it records still has the checksum it
// was recorded with; `schema --check` and `verify` compare it with what the migrations build.
//
// The text depends on nothing but the schema and the migrations: no date, server version, owner
// or dbinit version, and the ledger rows carry only what the migration files say (version, file
// name, checksum, down section). A row's applied_at is the time the file is loaded.

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/migration.h"
#include "core/project.h"
#include "core/reporter.h"
#include "engines/engine.h"

namespace dbinit {

/// What `applied_by` says in the rows a schema file records.
inline constexpr std::string_view k_schema_file_applied_by = "dbinit schema file";

/// The ledger rows a schema file records for `ledger`: `applied` and `baseline` rows, each as
/// `applied` with its version, name, checksum and down section. Throws Error{failed_migration}
/// for a `failed` row: the schema of a half-applied migration is not one to build databases from.
std::vector<LedgerEntry> schema_file_rows(std::span<const LedgerEntry> ledger);
/// The rows a database built from `migrations` (every one applied) holds, as schema_file_rows().
std::vector<LedgerEntry> schema_file_rows(std::span<const Migration> migrations);

/// The whole text of a schema file for `model` and `rows` (schema_file_rows()).
std::string render_schema_file(const SchemaSupport& support, const SchemaModel& model,
                               std::span<const LedgerEntry> rows);

/// The engine a schema file was written for (its `-- engine: NAME` header line), or nullopt when
/// the text has no such line.
std::optional<std::string> schema_file_engine(std::string_view text);

/// The ledger rows that the schema file text `text` records, read back from the INSERT statements
/// render_schema_file() writes (version, name, checksum and state; down_sql when present).
/// Throws Error{config} naming `display` and the line when such a statement cannot be read.
std::vector<LedgerEntry> read_schema_file_rows(std::string_view text, const SchemaSupport& support,
                                               const std::string& display);

/// Why the schema file's rows cannot stand for `migrations`, or nullopt when they can: every
/// row's migration file exists with the recorded checksum. Names the first mismatch in version
/// order (`0003-add-email.sql changed since the schema file was written`).
std::optional<std::string> schema_file_staleness(std::span<const LedgerEntry> rows,
                                                 std::span<const Migration> migrations);

/// The first difference between the file's text and the expected text, as one sentence naming
/// the line (`line 12: the file has "..." where the migrations build "..."`); nullopt when equal.
std::optional<std::string> first_difference(std::string_view file, std::string_view expected);

/// `dbinit schema`: the schema file of the project's database (its live schema and ledger).
struct SchemaResult {
  std::string engine;
  std::string url;  // redacted
  std::string text;
  int migrations = 0;  // ledger rows recorded
  int tables = 0;
  int views = 0;
};
SchemaResult read_schema_file_of_database(const Project& project, std::chrono::milliseconds wait,
                                          Reporter& reporter);

/// What the migrations build: applies every migration of `project` to a scratch database (on the
/// server of the project's URL; a temporary file for a file engine) and renders the schema file
/// of the result. The scratch database is dropped afterwards.
SchemaResult build_schema_file_from_migrations(const Project& project, Reporter& reporter);

}  // namespace dbinit
