#include "cli/config.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/harness.h"
#include "util/error.h"

namespace dbinit::test {
namespace {

namespace fs = std::filesystem;
using cli::Flags;
using cli::Settings;
using std::chrono::milliseconds;

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

Error error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "no error";
  return Error(ErrorKind::failure, "no error");
}

// parse_duration ------------------------------------------------------------------------------

milliseconds duration(const std::string& text) {
  return cli::parse_duration(text, "--wait");
}

TEST(ParseDuration, UnitsAndCombinations) {
  EXPECT_EQ(duration("500ms"), milliseconds(500));
  EXPECT_EQ(duration("30s"), milliseconds(30'000));
  EXPECT_EQ(duration("2m"), milliseconds(120'000));
  EXPECT_EQ(duration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(duration("1m30s"), milliseconds(90'000));
  EXPECT_EQ(duration("1h2m3s4ms"), milliseconds(3'723'004));
  EXPECT_EQ(duration("1.5s"), milliseconds(1'500));
  EXPECT_EQ(duration("0.5m"), milliseconds(30'000));
  EXPECT_EQ(duration("0s"), milliseconds(0));
  EXPECT_EQ(duration("0"), milliseconds(0));
}

TEST(ParseDuration, ABareNumberIsSeconds) {
  EXPECT_EQ(duration("30"), milliseconds(30'000));
  EXPECT_EQ(duration("2.5"), milliseconds(2'500));
  EXPECT_EQ(duration("007"), milliseconds(7'000));
}

TEST(ParseDuration, BadDurationsNameTheFlagTheTextAndTheForm) {
  for (const char* text : {"",     "abc",  "s",    "ms",  "30x",  "30sec",        "1m30",  "30 s",
                           " 30s", "30s ", "-5s",  "+5s", "1e3s", "1.2.3s",       "1..5s", ".",
                           ".s",   "5s.",  "1,5s", "30S", "1d",   "99999999999h", "１s"}) {
    Error error = error_of([&] { duration(text); });
    EXPECT_EQ(error.kind(), ErrorKind::usage) << "'" << text << "'";
    EXPECT_EQ(error.message(), "--wait: '" + std::string(text) + "' is not a duration")
        << "'" << text << "'";
    EXPECT_TRUE(contains(error.hint, "1m30s")) << error.hint;
    EXPECT_EQ(exit_code(error.kind()), 2);
  }
}

// parse_switch_value ---------------------------------------------------------------------------

TEST(ParseSwitchValue, OnAndOffWordsInAnyCase) {
  for (const char* text : {"1", "true", "TRUE", "yes", "Yes", "on", "ON"}) {
    EXPECT_TRUE(cli::parse_switch_value(text, "DBINIT_YES")) << text;
  }
  for (const char* text : {"", "0", "false", "False", "no", "NO", "off", "Off"}) {
    EXPECT_FALSE(cli::parse_switch_value(text, "DBINIT_YES")) << text;
  }
  Error error = error_of([] { cli::parse_switch_value("maybe", "DBINIT_YES"); });
  EXPECT_EQ(error.kind(), ErrorKind::usage);
  EXPECT_EQ(error.message(), "DBINIT_YES: 'maybe' is not a switch value");
  EXPECT_TRUE(contains(error.hint, "1, true, yes or on")) << error.hint;
}

// resolve_settings -----------------------------------------------------------------------------

// Runs in an empty temporary folder (dbinit.toml is read from the current one) with a fake
// environment.
class ResolveSettings : public ::testing::Test {
 protected:
  void SetUp() override {
    m_old_cwd = fs::current_path();
    fs::current_path(m_temp.path());
  }
  void TearDown() override { fs::current_path(m_old_cwd); }

  void write_toml(std::string_view text, const std::string& name = "dbinit.toml") {
    m_temp.write(name, text);
  }

  cli::EnvLookup env() const {
    return [vars = m_env](const std::string& name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }

  Settings resolve(milliseconds wait_default = milliseconds(0)) {
    return cli::resolve_settings(m_flags, env(), wait_default);
  }

  Error resolve_error() {
    return error_of([&] { resolve(); });
  }

  TempDir m_temp;
  fs::path m_old_cwd;
  Flags m_flags;
  std::map<std::string, std::string> m_env;
};

TEST_F(ResolveSettings, DefaultsWithNothingSet) {
  Settings settings = resolve();
  EXPECT_EQ(settings.project.url.engine, "sqlite");
  EXPECT_EQ(settings.project.url.redacted(), "sqlite:db/dev.sqlite3");
  EXPECT_EQ(settings.project.migrations_dir, fs::path("db/migrations"));
  EXPECT_EQ(settings.project.init_path, fs::path("db/init"));
  EXPECT_EQ(settings.project.seeds_dir, fs::path("db/seeds"));
  EXPECT_EQ(settings.project.backups_dir, fs::path("db/backups"));
  EXPECT_EQ(settings.project.schema_file, fs::path("db/schema.sql"));
  EXPECT_EQ(settings.project.environment, "");
  EXPECT_EQ(settings.wait, milliseconds(0));
  EXPECT_EQ(settings.lock_timeout, milliseconds(60'000));
  EXPECT_EQ(settings.transaction, TransactionMode::all);
  EXPECT_EQ(settings.config_file, "");
  EXPECT_FALSE(settings.confirmed);
  EXPECT_FALSE(settings.skip_seed);
  EXPECT_FALSE(settings.skip_hooks);
  EXPECT_FALSE(settings.clean);
  EXPECT_TRUE(settings.project.after_up_hooks.empty());
  EXPECT_TRUE(contains(settings.project.applied_by, " dbinit ")) << settings.project.applied_by;
  EXPECT_TRUE(contains(settings.project.applied_by, "@")) << settings.project.applied_by;
  // The command's own --wait default (`run`: 30s).
  EXPECT_EQ(resolve(milliseconds(30'000)).wait, milliseconds(30'000));
}

// One key at every level: flag > environment variable > dbinit.toml > default.
struct Key {
  std::string toml_key;
  std::string var;
  std::optional<std::string> Flags::*flag;
  // The value as resolved, as text.
  std::function<std::string(const Settings&)> get;
  // Values for the flag, the variable and the toml, and the default as `get` shows it.
  std::string flag_value, var_value, toml_value, default_value;
  // The values as `get` shows them, when they differ from the input.
  std::string flag_shown, var_shown, toml_shown;
};

std::string path_text(const fs::path& path) {
  return path.string();
}
std::string ms_text(milliseconds ms) {
  return std::to_string(ms.count());
}

std::vector<Key> keys() {
  return {
      {"url", "DBINIT_URL", &Flags::url, [](const Settings& s) { return s.project.url.redacted(); },
       "sqlite:flag.db", "sqlite:env.db", "sqlite:toml.db", "sqlite:db/dev.sqlite3", "", "", ""},
      {"dir", "DBINIT_DIR", &Flags::dir,
       [](const Settings& s) { return path_text(s.project.migrations_dir); }, "flag/m", "env/m",
       "toml/m", "db/migrations", "", "", ""},
      {"init", "DBINIT_INIT", &Flags::init,
       [](const Settings& s) { return path_text(s.project.init_path); }, "flag/i", "env/i",
       "toml/i", "db/init", "", "", ""},
      {"seeds", "DBINIT_SEEDS", &Flags::seeds,
       [](const Settings& s) { return path_text(s.project.seeds_dir); }, "flag/s", "env/s",
       "toml/s", "db/seeds", "", "", ""},
      {"backups", "DBINIT_BACKUPS", &Flags::backups,
       [](const Settings& s) { return path_text(s.project.backups_dir); }, "flag/b", "env/b",
       "toml/b", "db/backups", "", "", ""},
      {"schema_file", "DBINIT_SCHEMA_FILE", &Flags::schema_file,
       [](const Settings& s) { return path_text(s.project.schema_file); }, "flag.sql", "env.sql",
       "toml.sql", "db/schema.sql", "", "", ""},
      {"env", "DBINIT_ENV", &Flags::env, [](const Settings& s) { return s.project.environment; },
       "development", "staging", "production", "", "", "", ""},
      {"wait", "DBINIT_WAIT", &Flags::wait, [](const Settings& s) { return ms_text(s.wait); },
       "1m30s", "500ms", "2m", "0", "90000", "500", "120000"},
      {"lock_timeout", "DBINIT_LOCK_TIMEOUT", &Flags::lock_timeout,
       [](const Settings& s) { return ms_text(s.lock_timeout); }, "5s", "1h", "90", "60000", "5000",
       "3600000", "90000"},
      {"transaction", "DBINIT_TRANSACTION", &Flags::transaction,
       [](const Settings& s) { return s.transaction == TransactionMode::each ? "each" : "all"; },
       "each", "all", "each", "all", "", "", ""},
  };
}

TEST_F(ResolveSettings, PrecedenceForEveryKey) {
  for (const Key& key : keys()) {
    SCOPED_TRACE(key.toml_key);
    const std::string flag_shown = key.flag_shown.empty() ? key.flag_value : key.flag_shown;
    const std::string var_shown = key.var_shown.empty() ? key.var_value : key.var_shown;
    const std::string toml_shown = key.toml_shown.empty() ? key.toml_value : key.toml_shown;
    // Every level differs from the others, so a wrong pick cannot pass.
    ASSERT_NE(flag_shown, var_shown);
    ASSERT_NE(var_shown, toml_shown);
    ASSERT_NE(toml_shown, key.default_value);

    fs::remove("dbinit.toml");
    m_flags = Flags{};
    m_env.clear();
    EXPECT_EQ(key.get(resolve()), key.default_value);

    write_toml(key.toml_key + " = \"" + key.toml_value + "\"\n");
    EXPECT_EQ(key.get(resolve()), toml_shown);

    m_env[key.var] = key.var_value;
    EXPECT_EQ(key.get(resolve()), var_shown);

    m_flags.*key.flag = key.flag_value;
    EXPECT_EQ(key.get(resolve()), flag_shown);

    // The flag wins without the variable too; the variable without the toml.
    m_env.clear();
    EXPECT_EQ(key.get(resolve()), flag_shown);
    m_flags = Flags{};
    m_env[key.var] = key.var_value;
    fs::remove("dbinit.toml");
    EXPECT_EQ(key.get(resolve()), var_shown);
  }
}

TEST_F(ResolveSettings, UrlVariablesInOrder) {
  m_temp.write("secrets/a", "  sqlite:from-dbinit-file.db\n\n");
  m_temp.write("secrets/b", "sqlite:from-database-file.db\n");
  write_toml("url = \"sqlite:toml.db\"\n");
  auto url = [&] { return resolve().project.url.redacted(); };
  EXPECT_EQ(url(), "sqlite:toml.db");
  m_env["DATABASE_URL_FILE"] = (m_temp.path() / "secrets/b").string();
  EXPECT_EQ(url(), "sqlite:from-database-file.db");
  m_env["DATABASE_URL"] = "sqlite:database-url.db";
  EXPECT_EQ(url(), "sqlite:database-url.db");
  m_env["DBINIT_URL_FILE"] = (m_temp.path() / "secrets/a").string();
  EXPECT_EQ(url(), "sqlite:from-dbinit-file.db");  // whitespace around it trimmed
  m_env["DBINIT_URL"] = "sqlite:dbinit-url.db";
  EXPECT_EQ(url(), "sqlite:dbinit-url.db");
  m_flags.url = "sqlite:flag.db";
  EXPECT_EQ(url(), "sqlite:flag.db");
}

TEST_F(ResolveSettings, AnEmptyUrlFileIsAConfigErrorNamingIt) {
  const fs::path secret = m_temp.write("secret", " \n");
  m_env["DATABASE_URL_FILE"] = secret.string();
  Error error = resolve_error();
  EXPECT_EQ(error.kind(), ErrorKind::config);
  EXPECT_EQ(error.message(), "DATABASE_URL_FILE names an empty file");
  EXPECT_EQ(error.where, secret.string());
}

TEST_F(ResolveSettings, ABadUrlSaysWhereItCameFrom) {
  m_env["DATABASE_URL"] = "nosuchscheme://x";
  EXPECT_EQ(resolve_error().where, "DATABASE_URL");
  m_env.clear();
  write_toml("url = \"nosuchscheme://x\"\n");
  EXPECT_EQ(resolve_error().where, "dbinit.toml:1");
}

TEST_F(ResolveSettings, TomlIntegersAreSecondsForDurations) {
  write_toml("wait = 30\nlock_timeout = 0\n");
  Settings settings = resolve();
  EXPECT_EQ(settings.wait, milliseconds(30'000));
  EXPECT_EQ(settings.lock_timeout, milliseconds(0));
}

TEST_F(ResolveSettings, ABadDurationNamesWhereItCameFrom) {
  m_flags.wait = "soon";
  Error error = resolve_error();
  EXPECT_EQ(error.kind(), ErrorKind::usage);
  EXPECT_EQ(error.message(), "--wait: 'soon' is not a duration");
  m_flags = Flags{};
  m_flags.lock_timeout = "1x";
  EXPECT_EQ(resolve_error().message(), "--lock-timeout: '1x' is not a duration");

  m_flags = Flags{};
  m_env["DBINIT_WAIT"] = "10 s";
  error = resolve_error();
  EXPECT_EQ(error.message(), "DBINIT_WAIT: '10 s' is not a duration");
  m_env.clear();
  m_env["DBINIT_LOCK_TIMEOUT"] = "forever";
  EXPECT_EQ(resolve_error().message(), "DBINIT_LOCK_TIMEOUT: 'forever' is not a duration");

  m_env.clear();
  write_toml("env = \"development\"\n\nlock_timeout = \"1 minute\"\n");
  error = resolve_error();
  EXPECT_EQ(error.kind(), ErrorKind::usage);
  EXPECT_EQ(error.message(), "lock_timeout: '1 minute' is not a duration");
  EXPECT_EQ(error.where, "dbinit.toml:3");
}

TEST_F(ResolveSettings, ABadTransactionModeNamesWhereItCameFrom) {
  m_flags.transaction = "some";
  Error error = resolve_error();
  EXPECT_EQ(error.kind(), ErrorKind::usage);
  EXPECT_EQ(error.message(), "--transaction: 'some' is not all or each");
  m_flags = Flags{};
  m_env["DBINIT_TRANSACTION"] = "Each";
  EXPECT_EQ(resolve_error().message(), "DBINIT_TRANSACTION: 'Each' is not all or each");
  m_env.clear();
  write_toml("transaction = \"none\"\n");
  error = resolve_error();
  EXPECT_EQ(error.message(), "transaction: 'none' is not all or each");
  EXPECT_EQ(error.where, "dbinit.toml:1");
}

TEST_F(ResolveSettings, VariablesAreSubstitutedInTheToml) {
  m_env["DB_USER"] = "app";
  m_env["DB_HOST"] = "db.internal";
  m_env["MIGRATIONS"] = "sql/migrations";
  m_env["EMPTY"] = "";
  write_toml(
      "url = \"sqlite:${DB_USER}-${DB_HOST}.db\"\n"
      "dir = \"${MIGRATIONS}\"\n"
      "seeds = \"pre${EMPTY}post\"\n"
      "init = \"no ${closing\"\n"
      "backups = \"$DB_USER/{x}/$${DB_USER}\"\n");
  Settings settings = resolve();
  EXPECT_EQ(settings.project.url.redacted(), "sqlite:app-db.internal.db");
  EXPECT_EQ(settings.project.migrations_dir, fs::path("sql/migrations"));
  EXPECT_EQ(settings.project.seeds_dir, fs::path("prepost"));
  EXPECT_EQ(settings.project.init_path, fs::path("no ${closing"));
  EXPECT_EQ(settings.project.backups_dir, fs::path("$DB_USER/{x}/$app"));
}

TEST_F(ResolveSettings, ASubstitutedValueIsNotSubstitutedAgain) {
  m_env["A"] = "${B}";
  m_env["B"] = "no";
  write_toml("dir = \"${A}\"\n");
  EXPECT_EQ(resolve().project.migrations_dir, fs::path("${B}"));
}

TEST_F(ResolveSettings, AnUnsetVariableInTheTomlIsAnErrorNamingItAndTheLine) {
  write_toml("env = \"development\"\ndir = \"${NOT_SET_ANYWHERE}/m\"\n");
  Error error = resolve_error();
  EXPECT_EQ(error.kind(), ErrorKind::config);
  EXPECT_EQ(error.message(), "${NOT_SET_ANYWHERE} is not set in the environment");
  EXPECT_EQ(error.where, "dbinit.toml:2");
  EXPECT_TRUE(contains(error.hint, "NOT_SET_ANYWHERE")) << error.hint;
}

TEST_F(ResolveSettings, AnUnsetVariableInAnOverriddenKeyIsNotAnError) {
  // The flag wins, so the toml's value is never read.
  write_toml("dir = \"${NOT_SET_ANYWHERE}\"\n");
  m_flags.dir = "m";
  EXPECT_EQ(resolve().project.migrations_dir, fs::path("m"));
}

TEST_F(ResolveSettings, VariablesAreSubstitutedInHooks) {
  m_env["BIN"] = "/opt/app/bin";
  write_toml("[hooks]\nafter_up = [[\"${BIN}/reindex\", \"--all\"], [\"true\"]]\n");
  Settings settings = resolve();
  ASSERT_EQ(settings.project.after_up_hooks.size(), 2u);
  EXPECT_EQ(settings.project.after_up_hooks[0],
            (std::vector<std::string>{"/opt/app/bin/reindex", "--all"}));
  EXPECT_EQ(settings.project.after_up_hooks[1], (std::vector<std::string>{"true"}));
}

TEST_F(ResolveSettings, ConfigFileFromFlagOrVariable) {
  write_toml("dir = \"from-default\"\n");
  write_toml("dir = \"from-var\"\n", "var.toml");
  write_toml("dir = \"from-flag\"\n", "flag.toml");
  EXPECT_EQ(resolve().project.migrations_dir, fs::path("from-default"));
  EXPECT_EQ(resolve().config_file, "dbinit.toml");
  m_env["DBINIT_CONFIG"] = "var.toml";
  EXPECT_EQ(resolve().project.migrations_dir, fs::path("from-var"));
  EXPECT_EQ(resolve().config_file, "var.toml");
  m_flags.config = "flag.toml";
  EXPECT_EQ(resolve().project.migrations_dir, fs::path("from-flag"));
  EXPECT_EQ(resolve().config_file, "flag.toml");
}

TEST_F(ResolveSettings, ANamedConfigFileMustExist) {
  m_flags.config = "missing.toml";
  Error error = resolve_error();
  EXPECT_EQ(error.kind(), ErrorKind::config);
  EXPECT_EQ(error.where, "missing.toml");
  m_flags = Flags{};
  m_env["DBINIT_CONFIG"] = "also-missing.toml";
  EXPECT_EQ(resolve_error().where, "also-missing.toml");
}

TEST_F(ResolveSettings, ATomlSyntaxErrorNamesFileLineAndColumn) {
  write_toml("dir = \"x\"\nwait = = 3\n");
  Error error = resolve_error();
  EXPECT_EQ(error.kind(), ErrorKind::config);
  EXPECT_TRUE(error.where.starts_with("dbinit.toml:2:")) << error.where;
  EXPECT_TRUE(contains(error.hint, "TOML")) << error.hint;
}

TEST_F(ResolveSettings, UnknownAndMistypedSettings) {
  write_toml("url = \"sqlite:x.db\"\n\nmigrations = \"db\"\n");
  Error error = resolve_error();
  EXPECT_EQ(error.kind(), ErrorKind::config);
  EXPECT_EQ(error.message(), "unknown setting 'migrations'");
  EXPECT_EQ(error.where, "dbinit.toml:3");

  write_toml("[services.api]\nurl = \"sqlite:x.db\"\ndri = \"m\"\n");
  error = resolve_error();
  EXPECT_EQ(error.message(), "unknown setting 'services.api.dri'");
  EXPECT_EQ(error.where, "dbinit.toml:3");

  write_toml("dir = [\"a\"]\n");
  error = resolve_error();
  EXPECT_EQ(error.message(), "'dir' must be a string");
  EXPECT_EQ(error.where, "dbinit.toml:1");
}

TEST_F(ResolveSettings, AServiceOverridesTheTopLevel) {
  write_toml(
      "dir = \"top/m\"\n"
      "env = \"development\"\n"
      "[services.api]\n"
      "url = \"sqlite:api.db\"\n"
      "dir = \"api/m\"\n"
      "[services.jobs]\n"
      "url = \"sqlite:jobs.db\"\n");
  m_flags.service = "api";
  Settings settings = resolve();
  EXPECT_EQ(settings.project.url.redacted(), "sqlite:api.db");
  EXPECT_EQ(settings.project.migrations_dir, fs::path("api/m"));
  EXPECT_EQ(settings.project.environment, "development");  // inherited

  m_flags = Flags{};
  m_env["DBINIT_SERVICE"] = "jobs";
  settings = resolve();
  EXPECT_EQ(settings.project.url.redacted(), "sqlite:jobs.db");
  EXPECT_EQ(settings.project.migrations_dir, fs::path("top/m"));

  // The flag beats the variable.
  m_flags.service = "api";
  EXPECT_EQ(resolve().project.url.redacted(), "sqlite:api.db");

  // Without a service and without a top-level url, no database is guessed.
  m_flags = Flags{};
  m_env.clear();
  Error error = resolve_error();
  EXPECT_EQ(error.kind(), ErrorKind::config);
  EXPECT_NE(error.message().find("declares services (api, jobs) but no top-level url"),
            std::string::npos)
      << error.message();
}

TEST_F(ResolveSettings, AnUnknownServiceListsTheKnownOnes) {
  write_toml("[services.api]\nurl = \"sqlite:a.db\"\n[services.jobs]\nurl = \"sqlite:j.db\"\n");
  m_flags.service = "web";
  Error error = resolve_error();
  EXPECT_EQ(error.kind(), ErrorKind::config);
  EXPECT_EQ(error.message(), "no service 'web'");
  EXPECT_EQ(error.hint, "known services: api, jobs");

  fs::remove("dbinit.toml");
  error = resolve_error();
  EXPECT_EQ(error.kind(), ErrorKind::config);
  EXPECT_TRUE(contains(error.message(), "--service web")) << error.message();
}

TEST_F(ResolveSettings, Switches) {
  EXPECT_FALSE(resolve().confirmed);
  m_env["DBINIT_YES"] = "1";
  m_env["DBINIT_SKIP_SEED"] = "true";
  m_env["DBINIT_SKIP_HOOKS"] = "off";
  Settings settings = resolve();
  EXPECT_TRUE(settings.confirmed);
  EXPECT_TRUE(settings.skip_seed);
  EXPECT_FALSE(settings.skip_hooks);
  m_flags.skip_hooks = true;
  EXPECT_TRUE(resolve().skip_hooks);

  m_env["DBINIT_YES"] = "y";
  Error error = resolve_error();
  EXPECT_EQ(error.kind(), ErrorKind::usage);
  EXPECT_EQ(error.message(), "DBINIT_YES: 'y' is not a switch value");
  // The flag does not read the variable at all.
  m_flags.yes = true;
  EXPECT_TRUE(resolve().confirmed);
}

TEST_F(ResolveSettings, CleanFromTheFlagOrEitherVariable) {
  EXPECT_FALSE(resolve().clean);
  m_env["DBINIT_FORCE_RECREATE"] = "1";
  Settings settings = resolve();
  EXPECT_TRUE(settings.clean);
  EXPECT_EQ(settings.clean_origin, "up with DBINIT_FORCE_RECREATE=1");
  m_env["DBINIT_CLEAN"] = "yes";
  EXPECT_EQ(resolve().clean_origin, "up with DBINIT_CLEAN=1");
  m_env["DBINIT_CLEAN"] = "0";
  EXPECT_EQ(resolve().clean_origin, "up with DBINIT_FORCE_RECREATE=1");
  m_flags.clean = true;
  EXPECT_EQ(resolve().clean_origin, "up --clean");
  m_flags.clean = false;
  m_env.clear();
  m_env["DBINIT_CLEAN"] = "false";
  EXPECT_FALSE(resolve().clean);
}

TEST(ListServices, InNameOrder) {
  TempDir temp;
  const fs::path file = temp.write(
      "dbinit.toml", "[services.web]\nurl = \"sqlite:w.db\"\n[services.api]\ndir = \"m\"\n");
  Flags flags;
  flags.config = file.string();
  std::vector<cli::ServiceInfo> services =
      cli::list_services(flags, [](const std::string&) { return std::nullopt; });
  ASSERT_EQ(services.size(), 2u);
  EXPECT_EQ(services[0].name, "api");
  EXPECT_FALSE(services[0].has_url);
  EXPECT_EQ(services[1].name, "web");
  EXPECT_TRUE(services[1].has_url);

  temp.write("dbinit.toml", "url = \"sqlite:x.db\"\n");
  Error error =
      error_of([&] { cli::list_services(flags, [](const std::string&) { return std::nullopt; }); });
  EXPECT_EQ(error.kind(), ErrorKind::config);
  EXPECT_TRUE(contains(error.message(), "declares no services")) << error.message();
}

}  // namespace
}  // namespace dbinit::test
