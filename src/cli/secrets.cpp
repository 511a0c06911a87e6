#include "cli/secrets.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "engines/url.h"
#include "util/redactor.h"
#include "util/text.h"

namespace dbinit::cli {

namespace fs = std::filesystem;

namespace {

// `${VAR}` replaced from `env`; unset variables are left as written.
std::string substitute(const std::string& text, const EnvLookup& env) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t open = text.find("${", pos);
    const std::size_t close = open == std::string::npos ? open : text.find('}', open + 2);
    if (close == std::string::npos) break;
    out += text.substr(pos, open - pos);
    const std::optional<std::string> value = env(text.substr(open + 2, close - open - 2));
    out += value ? *value : text.substr(open, close - open + 1);
    pos = close + 1;
  }
  return out + text.substr(pos);
}

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return std::string(trim(text.str()));
}

}  // namespace

std::vector<std::pair<std::size_t, std::size_t>> password_spans(std::string_view text) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t scheme = text.find("://"); scheme != std::string_view::npos;
       scheme = text.find("://", scheme + 3)) {
    // The authority runs to the last '@' before the next URL (or the end), since an unescaped
    // '@', '/' or '?' may be part of the password.
    const std::size_t start = scheme + 3;
    const std::size_t next = text.find("://", start);
    const std::string_view rest = text.substr(start, next == text.npos ? text.npos : next - start);
    const std::size_t at = rest.rfind('@');
    const std::size_t colon = rest.find(':');
    if (at == std::string_view::npos || colon == std::string_view::npos || colon > at) continue;
    out.emplace_back(start + colon + 1, at - colon - 1);
  }
  for (std::string_view key : {"password=", "sslpassword="}) {
    for (std::size_t found = find_ci(text, key); found != std::string_view::npos;
         found = find_ci(text, key, found + key.size())) {
      const std::size_t start = found + key.size();
      const std::size_t end = text.find_first_of("&,", start);
      out.emplace_back(start, (end == std::string_view::npos ? text.size() : end) - start);
    }
  }
  return out;
}

void register_url_secrets(std::string_view url) {
  for (const auto& [start, length] : password_spans(url)) {
    const std::string_view written = url.substr(start, length);
    add_secret(written);
    // Decoded the way parse_database_url() decodes it.
    std::string decoded;
    for (std::size_t i = 0; i < written.size(); ++i) {
      auto hex = [](char c) {
        return c >= '0' && c <= '9'   ? c - '0'
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
               : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                      : -1;
      };
      if (written[i] == '%' && i + 2 < written.size() && hex(written[i + 1]) >= 0 &&
          hex(written[i + 2]) >= 0) {
        decoded += static_cast<char>(hex(written[i + 1]) * 16 + hex(written[i + 2]));
        i += 2;
      } else {
        decoded += written[i];
      }
    }
    add_secret(decoded);
  }
  try {
    for (const std::string& secret : parse_database_url(url).secrets()) add_secret(secret);
  } catch (const std::exception&) {
    // What does not parse was covered by the spans above.
  }
}

void protect_arguments(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) break;
    const std::string_view arg(argv[i]);
    if (arg.find("://") == std::string_view::npos && find_ci(arg, "password=") == arg.npos) {
      continue;
    }
    register_url_secrets(arg);
    for (const auto& [start, length] : password_spans(arg)) {
      std::memset(argv[i] + start, '*', length);
    }
  }
}

void register_configured_secrets(const Flags& flags, const EnvLookup& env) {
  if (flags.url) register_url_secrets(*flags.url);
  for (const char* name : {"DBINIT_URL", "DATABASE_URL"}) {
    if (std::optional<std::string> value = env(name)) register_url_secrets(*value);
  }
  for (const char* name : {"DBINIT_URL_FILE", "DATABASE_URL_FILE"}) {
    if (std::optional<std::string> path = env(name)) {
      if (std::optional<std::string> text = read_text(*path)) register_url_secrets(*text);
    }
  }
  const std::optional<std::string> config_env = env("DBINIT_CONFIG");
  const fs::path config = flags.config ? fs::path(*flags.config)
                          : config_env ? fs::path(*config_env)
                                       : fs::path("dbinit.toml");
  std::error_code ec;
  if (!fs::exists(config, ec)) return;
  try {
    const toml::table table = toml::parse_file(config.string());
    std::vector<const toml::table*> tables{&table};
    if (const toml::table* services = table["services"].as_table()) {
      for (const auto& [name, node] : *services) {
        if (const toml::table* service = node.as_table()) tables.push_back(service);
      }
    }
    for (const toml::table* t : tables) {
      if (const auto* url = t->get_as<std::string>("url")) {
        register_url_secrets(substitute(url->get(), env));
      }
    }
  } catch (const std::exception&) {
    // A file that does not parse is reported by resolve_settings(), without its contents.
  }
}

}  // namespace dbinit::cli
