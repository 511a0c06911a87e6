#include "cli/config.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "dbinit/version.h"
#include "util/error.h"
#include "util/files.h"

namespace dbinit::cli {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

milliseconds parse_duration(const std::string& text, const std::string& what) {
  auto bad = [&]() {
    Error error(ErrorKind::usage, fmt::format("{}: '{}' is not a duration", what, text));
    error.hint = "write it as 500ms, 30s, 2m, 1h or 1m30s (a bare number means seconds)";
    return error;
  };
  if (text.empty()) throw bad();
  long double total = 0;
  std::size_t i = 0;
  bool bare = true;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
      ++i;
    }
    if (start == i) throw bad();
    long double number = 0;
    try {
      // stold stops at a second '.', which would make `1.2.3s` mean 1.2 seconds.
      std::size_t used = 0;
      number = std::stold(text.substr(start, i - start), &used);
      if (used != i - start) throw bad();
    } catch (const std::exception&) {
      throw bad();
    }
    std::size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    const std::string unit = text.substr(unit_start, i - unit_start);
    if (unit.empty()) {
      if (!bare || i != text.size()) throw bad();
      total += number * 1000;
      break;
    }
    bare = false;
    if (unit == "ms") {
      total += number;
    } else if (unit == "s") {
      total += number * 1000;
    } else if (unit == "m") {
      total += number * 60'000;
    } else if (unit == "h") {
      total += number * 3'600'000;
    } else {
      throw bad();
    }
  }
  if (total > 1e12) throw bad();
  return milliseconds(static_cast<long long>(total));
}

std::string applied_by() {
  std::string user;
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr && pw->pw_name != nullptr) {
    user = pw->pw_name;
  } else {
    user = fmt::format("uid{}", geteuid());
  }
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return fmt::format("{}@{} dbinit {}", user, host[0] ? host : "localhost", k_version);
}

namespace {

// The toml keys a project (or a [services.NAME] table) may set.
const std::set<std::string, std::less<>> k_project_keys = {
    "url", "dir",  "init",         "seeds",       "backups", "schema_file",
    "env", "wait", "lock_timeout", "transaction", "hooks",   "backup_before",
};

// Replaces `${VAR}` with the variable's value; an unset variable is an error naming it.
std::string substitute(const std::string& text, const EnvLookup& env, const std::string& where) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    std::size_t open = text.find("${", pos);
    if (open == std::string::npos) break;
    std::size_t close = text.find('}', open + 2);
    if (close == std::string::npos) break;
    out += text.substr(pos, open - pos);
    const std::string name = text.substr(open + 2, close - open - 2);
    std::optional<std::string> value = env(name);
    if (!value) {
      Error error(ErrorKind::config, fmt::format("${{{}}} is not set in the environment", name));
      error.where = where;
      error.hint = fmt::format("set {} or remove it from the file", name);
      throw error;
    }
    out += *value;
    pos = close + 1;
  }
  out += text.substr(pos);
  return out;
}

// The value of one setting and where it came from, for messages.
struct Setting {
  std::string value;
  // The name as the user wrote it: `--transaction`, `DBINIT_TRANSACTION`, `transaction`,
  // `services.api.transaction`.
  std::string name;
  // `dbinit.toml:3` for a value from the file; empty otherwise.
  std::string where;
  // `--dir`, `DBINIT_DIR`, `dir in dbinit.toml:2`.
  std::string origin() const { return where.empty() ? name : fmt::format("{} in {}", name, where); }
};

// Runs `parse` on `setting`; an Error it throws names the setting's file and line when the value
// comes from dbinit.toml.
template <typename Parse>
auto parse_setting(const Setting& setting, Parse parse) {
  try {
    return parse(setting.value, setting.name);
  } catch (Error& error) {
    if (error.where.empty()) error.where = setting.where;
    throw;
  }
}

// The URL held in the file `path` that variable `var` names (the Docker-secrets convention):
// surrounding whitespace and line ends are dropped; the file must hold exactly one non-empty line.
// The file's text is never echoed: it holds a password.
std::string read_url_file(const std::string& var, const std::string& path) {
  auto fail = [&](std::string message, std::string hint) {
    Error error(ErrorKind::config, std::move(message));
    error.where = path;
    error.state = "nothing was changed (no database was opened)";
    error.hint = std::move(hint);
    return error;
  };
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (path.empty()) {
    throw fail(fmt::format("{} is set but empty", var),
               fmt::format("set {} to the path of a file holding the URL, or unset it", var));
  }
  if (!fs::exists(status)) {
    throw fail(fmt::format("{} names a file that does not exist", var),
               "check the path (a Docker secret is mounted under /run/secrets/)");
  }
  if (fs::is_directory(status)) {
    throw fail(fmt::format("{} names a folder, not a file", var),
               "point it at the file that holds the URL");
  }
  const std::string text = read_file(path);
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    std::size_t first = 0;
    while (first < line.size() && std::isspace(static_cast<unsigned char>(line[first]))) ++first;
    if (first < line.size()) lines.push_back(line.substr(first));
    pos = end + 1;
  }
  if (lines.empty()) {
    throw fail(fmt::format("{} names an empty file", var),
               "write the database URL into the file, on one line");
  }
  if (lines.size() > 1) {
    throw fail(fmt::format("{} names a file with {} non-empty lines; it must hold one URL on one "
                           "line",
                           var, lines.size()),
               "keep only the database URL in the file (a trailing newline is fine)");
  }
  return lines.front();
}

class TomlConfig {
 public:
  TomlConfig(const fs::path& file, bool required) : m_file(file.string()) {
    std::error_code ec;
    if (!fs::exists(file, ec)) {
      if (required) {
        Error error(ErrorKind::config, "configuration file not found");
        error.where = m_file;
        throw error;
      }
      return;
    }
    try {
      m_table = toml::parse_file(m_file);
      m_loaded = true;
    } catch (const toml::parse_error& e) {
      Error error(ErrorKind::config, std::string(e.description()));
      error.where = fmt::format("{}:{}:{}", m_file, e.source().begin.line, e.source().begin.column);
      error.hint = "fix the file; its format is TOML (https://toml.io)";
      throw error;
    }
  }

  bool loaded() const { return m_loaded; }
  const std::string& file() const { return m_file; }

  /// Checks the keys of the top level and of the selected service, and returns the table to read
  /// service values from (null when no service is selected).
  const toml::table* select(const std::optional<std::string>& service) {
    std::vector<std::pair<std::string, const toml::node*>> unknown;
    check_keys(m_table, "", true, unknown);
    const toml::table* services = m_table["services"].as_table();
    if (services) {
      for (const auto& [name, node] : *services) {
        const toml::table* table = node.as_table();
        if (!table) throw error_at(node, fmt::format("services.{} must be a table", name.str()));
        check_keys(*table, fmt::format("services.{}.", name.str()), false, unknown);
      }
    }
    if (!unknown.empty()) {
      // Every unknown key at once, so that a file with several typos is fixed in one go.
      Error error = error_at(*unknown.front().second,
                             fmt::format("unknown setting '{}'", unknown.front().first));
      if (unknown.size() > 1) {
        std::string all;
        for (const auto& [key, node] : unknown) {
          all += fmt::format("{}'{}' (line {})", all.empty() ? "" : ", ", key,
                             node->source().begin.line);
        }
        error =
            Error(ErrorKind::config, fmt::format("{} unknown settings: {}", unknown.size(), all));
        error.where = m_file;
      }
      error.hint =
          "known settings: url, dir, init, seeds, backups, schema_file, env, wait, "
          "lock_timeout, transaction, hooks, [services.NAME]";
      throw error;
    }
    if (!service) return nullptr;
    m_service = *service;
    const toml::table* table = services ? (*services)[*service].as_table() : nullptr;
    if (!table) {
      Error error(ErrorKind::config, fmt::format("no service '{}'", *service));
      error.where = m_file;
      std::string names;
      if (services) {
        for (const auto& [name, node] : *services)
          names += (names.empty() ? "" : ", ") + std::string(name.str());
      }
      error.hint =
          names.empty() ? "declare it as [services." + *service + "]" : "known services: " + names;
      throw error;
    }
    return table;
  }

  /// The value of `key` in `service` (when given) or at the top level, with where it was found.
  /// Values are strings; with `integer_ok`, a bare integer is accepted too (`wait = 30`). Anything
  /// else is an Error{config} naming the key and its `file:line`.
  std::optional<Setting> get(const toml::table* service, const std::string& key,
                             const EnvLookup& env, bool integer_ok = false) const {
    const toml::node* node = service ? service->get(key) : nullptr;
    const std::string name = node ? fmt::format("services.{}.{}", m_service, key) : key;
    if (!node) node = m_table.get(key);
    if (!node) return std::nullopt;
    Setting setting;
    setting.name = name;
    setting.where = location(*node);
    if (const auto* value = node->as_string()) {
      setting.value = substitute(value->get(), env, setting.where);
      return setting;
    }
    if (const auto* value = node->as_boolean()) {
      setting.value = value->get() ? "1" : "0";
      return setting;
    }
    if (const auto* value = node->as_integer(); value && integer_ok) {
      setting.value = std::to_string(value->get());
      return setting;
    }
    Error error = error_at(*node, fmt::format("'{}' must be a string", name));
    error.hint = fmt::format("write the value in double quotes: {} = \"...\"", key);
    throw error;
  }

  /// True when `service` sets `key` itself.
  static bool has(const toml::table* service, const std::string& key) {
    return service != nullptr && service->get(key) != nullptr;
  }

  /// The commands of `hooks.<event>` in `service` (when it has that key) or at the top level.
  /// Each command is a non-empty list of strings, `${VAR}` replaced in every word; `as_written`
  /// receives the words as written.
  std::vector<std::vector<std::string>> hooks(
      const toml::table* service, const std::string& event, const EnvLookup& env,
      std::vector<std::vector<std::string>>& as_written) const {
    const std::string example = "hooks." + event + R"( = [["./bin/reindex", "--all"]])";
    for (const toml::table* table : {service, &m_table}) {
      if (table == nullptr) continue;
      const toml::node* node = table->get("hooks");
      if (node == nullptr) continue;
      const toml::table* hooks_table = node->as_table();
      if (hooks_table == nullptr) {
        throw error_at(*node, "'hooks' must be a table of events: " + example);
      }
      for (const auto& [key, value] : *hooks_table) {
        if (key.str() != "after_up") {
          Error error = error_at(value, fmt::format("unknown hook event '{}'", key.str()));
          error.hint = "the known event is after_up: " + example;
          throw error;
        }
      }
      const toml::node* commands_node = hooks_table->get(event);
      if (commands_node == nullptr) continue;
      const toml::array* commands = commands_node->as_array();
      if (commands == nullptr) {
        Error error =
            error_at(*commands_node, fmt::format("hooks.{} must be a list of commands", event));
        error.hint = "each command is a list of strings (no shell): " + example;
        throw error;
      }
      std::vector<std::vector<std::string>> out;
      for (const toml::node& command_node : *commands) {
        const toml::array* words = command_node.as_array();
        std::vector<std::string> command;
        std::vector<std::string> written;
        if (words != nullptr) {
          for (const toml::node& word : *words) {
            const auto* text = word.as_string();
            if (text == nullptr) {
              command.clear();
              break;
            }
            command.push_back(substitute(text->get(), env, location(word)));
            written.push_back(text->get());
          }
        }
        if (command.empty()) {
          Error error = error_at(command_node, fmt::format("hooks.{}: a command must be a "
                                                           "non-empty list of strings",
                                                           event));
          error.hint = "write each command as its words, without a shell: " + example;
          throw error;
        }
        out.push_back(std::move(command));
        as_written.push_back(std::move(written));
      }
      return out;
    }
    return {};
  }

  /// The services declared in the file, in name order.
  std::vector<ServiceInfo> services() const {
    std::vector<ServiceInfo> out;
    if (const toml::table* table = m_table["services"].as_table()) {
      for (const auto& [name, node] : *table) {
        const toml::table* service = node.as_table();
        out.push_back({std::string(name.str()), service != nullptr && service->contains("url")});
      }
    }
    std::sort(out.begin(), out.end(),
              [](const ServiceInfo& a, const ServiceInfo& b) { return a.name < b.name; });
    return out;
  }

 private:
  std::string location(const toml::node& node) const {
    return fmt::format("{}:{}", m_file, node.source().begin.line);
  }

  Error error_at(const toml::node& node, std::string message) const {
    Error error(ErrorKind::config, std::move(message));
    error.where = location(node);
    return error;
  }

  void check_keys(const toml::table& table, const std::string& prefix, bool top,
                  std::vector<std::pair<std::string, const toml::node*>>& unknown) const {
    for (const auto& [key, node] : table) {
      const std::string name(key.str());
      if (top && name == "services") continue;
      if (!k_project_keys.contains(name)) unknown.emplace_back(prefix + name, &node);
    }
  }

  std::string m_file;
  toml::table m_table;
  bool m_loaded = false;
  // The service selected by select(), for the names of its settings in messages.
  std::string m_service;
};

}  // namespace

Settings resolve_settings(const Flags& flags, const EnvLookup& env,
                          milliseconds command_wait_default) {
  Settings settings;
  const fs::path config_path = flags.config           ? fs::path(*flags.config)
                               : env("DBINIT_CONFIG") ? fs::path(*env("DBINIT_CONFIG"))
                                                      : fs::path("dbinit.toml");
  TomlConfig toml(config_path, flags.config.has_value() || env("DBINIT_CONFIG").has_value());
  if (toml.loaded()) settings.config_file = toml.file();
  std::optional<std::string> service = flags.service ? flags.service : env("DBINIT_SERVICE");
  const toml::table* service_table = toml.loaded() ? toml.select(service) : nullptr;
  if (service && !toml.loaded()) {
    Error error(ErrorKind::config,
                fmt::format("--service {}: no dbinit.toml to read it from", *service));
    error.hint = "declare the service as [services." + *service + "] in dbinit.toml";
    throw error;
  }

  // flag > environment variable(s) > toml > default
  auto pick = [&](const std::optional<std::string>& flag, const std::string& flag_name,
                  std::initializer_list<const char*> vars, const std::string& key,
                  bool integer_ok = false) -> std::optional<Setting> {
    if (flag) return Setting{*flag, flag_name, ""};
    for (const char* var : vars) {
      if (std::optional<std::string> value = env(var)) return Setting{*value, var, ""};
    }
    if (toml.loaded()) return toml.get(service_table, key, env, integer_ok);
    return std::nullopt;
  };

  // The URL: --url; then a service's own `url` (it names that service's database, which one URL
  // for the whole environment cannot: docs/decisions.md); then DBINIT_URL, DBINIT_URL_FILE,
  // DATABASE_URL, DATABASE_URL_FILE; then the top-level `url`; then the default.
  std::optional<Setting> url;
  if (flags.url) {
    url = Setting{*flags.url, "--url", ""};
  } else if (TomlConfig::has(service_table, "url")) {
    url = toml.get(service_table, "url", env);
  }
  if (!url) {
    for (const auto& [var, is_file] : {std::pair{"DBINIT_URL", false},
                                       {"DBINIT_URL_FILE", true},
                                       {"DATABASE_URL", false},
                                       {"DATABASE_URL_FILE", true}}) {
      std::optional<std::string> value = env(var);
      if (!value) continue;
      url = Setting{is_file ? read_url_file(var, *value) : *value, var, ""};
      break;
    }
  }
  if (!url && toml.loaded()) url = toml.get(service_table, "url", env);
  if (!url && toml.loaded() && !service) {
    if (std::vector<ServiceInfo> services = toml.services(); !services.empty()) {
      std::string names;
      for (const ServiceInfo& info : services) names += (names.empty() ? "" : ", ") + info.name;
      Error error(ErrorKind::config,
                  fmt::format("{} declares services ({}) but no top-level url, and no service "
                              "was picked",
                              toml.file(), names));
      error.state = "nothing was changed (no database was opened or created)";
      error.hint =
          "pick one with --service NAME (or DBINIT_SERVICE), run every one with --all, or give "
          "the file a top-level url";
      throw error;
    }
  }
  settings.url_origin = url ? url->origin() : "the default";
  try {
    settings.project.url = parse_database_url(url ? url->value : "sqlite:db/dev.sqlite3");
  } catch (Error& error) {
    if (error.where.empty()) error.where = url ? (url->where.empty() ? url->name : url->where) : "";
    throw;
  }

  auto path_setting = [&](const std::optional<std::string>& flag, const char* flag_name,
                          const char* var, const char* key, fs::path& out) -> std::string {
    if (std::optional<Setting> value = pick(flag, flag_name, {var}, key)) {
      out = value->value;
      return "from " + value->origin();
    }
    return "the default";
  };
  settings.migrations_dir_origin =
      path_setting(flags.dir, "--dir", "DBINIT_DIR", "dir", settings.project.migrations_dir);
  path_setting(flags.init, "--init", "DBINIT_INIT", "init", settings.project.init_path);
  path_setting(flags.seeds, "--seeds", "DBINIT_SEEDS", "seeds", settings.project.seeds_dir);
  path_setting(flags.backups, "--backups", "DBINIT_BACKUPS", "backups",
               settings.project.backups_dir);
  // Services keep their snapshots apart: one without a backups folder of its own gets a folder
  // named after it under the common one.
  if (service && !flags.backups && !env("DBINIT_BACKUPS") &&
      !TomlConfig::has(service_table, "backups")) {
    settings.project.backups_dir /= *service;
  }
  path_setting(flags.schema_file, "--schema-file", "DBINIT_SCHEMA_FILE", "schema_file",
               settings.project.schema_file);
  if (std::optional<Setting> value = pick(flags.env, "--env", {"DBINIT_ENV"}, "env")) {
    settings.project.environment = value->value;
  }

  settings.wait = command_wait_default;
  if (std::optional<Setting> value = pick(flags.wait, "--wait", {"DBINIT_WAIT"}, "wait", true)) {
    settings.wait = parse_setting(*value, parse_duration);
  }
  if (std::optional<Setting> value = pick(flags.lock_timeout, "--lock-timeout",
                                          {"DBINIT_LOCK_TIMEOUT"}, "lock_timeout", true)) {
    settings.lock_timeout = parse_setting(*value, parse_duration);
  }
  if (std::optional<Setting> value =
          pick(flags.transaction, "--transaction", {"DBINIT_TRANSACTION"}, "transaction")) {
    settings.transaction =
        parse_setting(*value, [](const std::string& text, const std::string& what) {
          if (text == "all") return TransactionMode::all;
          if (text == "each") return TransactionMode::each;
          Error error(ErrorKind::usage, fmt::format("{}: '{}' is not all or each", what, text));
          error.hint =
              "all: the whole run is one transaction (the default); each: one per migration";
          throw error;
        });
  }
  if (toml.loaded()) {
    settings.project.after_up_hooks =
        toml.hooks(service_table, "after_up", env, settings.project.after_up_hooks_as_written);
  }

  auto switch_setting = [&](bool flag, const char* var) {
    if (flag) return true;
    std::optional<std::string> value = env(var);
    return value && parse_switch_value(*value, var);
  };
  settings.confirmed = switch_setting(flags.yes, "DBINIT_YES");
  settings.skip_seed = switch_setting(flags.skip_seed, "DBINIT_SKIP_SEED");
  settings.skip_hooks = switch_setting(flags.skip_hooks, "DBINIT_SKIP_HOOKS");
  if (flags.clean) {
    settings.clean = true;
    settings.clean_origin = "up --clean";
  } else {
    for (const char* var : {"DBINIT_CLEAN", "DBINIT_FORCE_RECREATE"}) {
      if (switch_setting(false, var)) {
        settings.clean = true;
        settings.clean_origin = fmt::format("up with {}=1", var);
        break;
      }
    }
  }
  if (std::optional<Setting> value = pick(flags.load, "--load", {"DBINIT_LOAD"}, "load")) {
    settings.load = value->value;
  }
  if (flags.backup_before) {
    settings.backup_before = true;
  } else if (std::optional<Setting> value =
                 pick(std::nullopt, "--backup-before", {"DBINIT_BACKUP_BEFORE"}, "backup_before")) {
    settings.backup_before = parse_switch_value(value->value, value->name);
  }
  settings.project.applied_by = applied_by();
  return settings;
}

void require_migrations_dir(const Settings& settings) {
  const fs::path& dir = settings.project.migrations_dir;
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (fs::is_directory(status)) return;
  const bool exists = fs::exists(status);
  Error error(ErrorKind::config, fmt::format("migrations folder {} {} ({})", dir.string(),
                                             exists ? "is not a folder" : "does not exist",
                                             settings.migrations_dir_origin));
  error.where = fs::absolute(dir, ec).lexically_normal().string();
  error.state = "nothing was changed (no database was opened or created)";
  error.hint = fmt::format(
      "point {} at the folder that holds the migrations, or create it (an empty folder means no "
      "migrations yet)",
      settings.migrations_dir_origin == "the default" ? "--dir, DBINIT_DIR or `dir` in dbinit.toml"
                                                      : "it");
  throw error;
}

bool parse_switch_value(const std::string& text, const std::string& what) {
  std::string value;
  for (char c : text) value += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (value == "1" || value == "true" || value == "yes" || value == "on") return true;
  if (value.empty() || value == "0" || value == "false" || value == "no" || value == "off") {
    return false;
  }
  Error error(ErrorKind::usage, fmt::format("{}: '{}' is not a switch value", what, text));
  error.hint = "use 1, true, yes or on (and 0, false, no or off)";
  throw error;
}

std::vector<ServiceInfo> list_services(const Flags& flags, const EnvLookup& env) {
  const std::optional<std::string> config_env = env("DBINIT_CONFIG");
  const fs::path config_path = flags.config ? fs::path(*flags.config)
                               : config_env ? fs::path(*config_env)
                                            : fs::path("dbinit.toml");
  TomlConfig toml(config_path, true);
  toml.select(std::nullopt);
  std::vector<ServiceInfo> services = toml.services();
  if (services.empty()) {
    Error error(ErrorKind::config, "--all: the file declares no services");
    error.where = toml.file();
    error.hint = "declare each service as a [services.NAME] table with its url";
    throw error;
  }
  return services;
}

}  // namespace dbinit::cli
