#include "engines/url.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>

#include "engines/engine.h"
#include "util/error.h"
#include "util/text.h"

namespace dbinit {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `text`; a malformed escape is kept as written (libpq does the same).
std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

// Percent-decodes `text`, or returns nullopt when a '%' is not followed by two hex digits (libpq
// refuses such URLs, and quotes the text when it does).
std::optional<std::string> strict_percent_decode(std::string_view text) {
  for (std::size_t i = text.find('%'); i != std::string_view::npos; i = text.find('%', i + 3)) {
    if (i + 2 >= text.size() || hex_value(text[i + 1]) < 0 || hex_value(text[i + 2]) < 0) {
      return std::nullopt;
    }
  }
  return percent_decode(text);
}

// RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), short enough to be a scheme.
bool is_scheme(std::string_view text) {
  if (text.empty() || text.size() > 32 || !std::isalpha(static_cast<unsigned char>(text[0]))) {
    return false;
  }
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
}

bool is_port(std::string_view text) {
  return !text.empty() && text.size() <= 5 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Checks `hosts` (as written, before percent-decoding): comma-separated `host`, `host:port`,
// `[v6]` or `[v6]:port` entries, any of them possibly empty (the default socket). An unescaped
// ':', '/', '?' or '@' in a password ends up here, so this catches those passwords too.
bool valid_hosts(std::string_view hosts) {
  while (true) {
    std::size_t comma = hosts.find(',');
    std::string_view entry = hosts.substr(0, comma);
    std::string_view port;
    bool has_port = false;
    if (entry.starts_with('[')) {
      std::size_t close = entry.find(']');
      if (close == std::string_view::npos) return false;
      std::string_view after = entry.substr(close + 1);
      if (!after.empty()) {
        if (after[0] != ':') return false;
        has_port = true;
        port = after.substr(1);
      }
    } else if (std::size_t sep = entry.find(':'); sep != std::string_view::npos) {
      has_port = true;
      port = entry.substr(sep + 1);
    }
    if (has_port && !is_port(port)) return false;
    if (comma == std::string_view::npos) return true;
    hosts.remove_prefix(comma + 1);
  }
}

// Parses the query into `url.params`; returns false when a server URL (`strict`) has a malformed
// percent-encoding in it.
bool parse_query(std::string_view query, DatabaseUrl& url, bool strict) {
  auto decode = [strict](std::string_view text) -> std::optional<std::string> {
    return strict ? strict_percent_decode(text) : percent_decode(text);
  };
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    std::optional<std::string> key = decode(pair.substr(0, eq));
    std::optional<std::string> value =
        eq == std::string_view::npos ? std::string() : decode(pair.substr(eq + 1));
    if (!key || !value) return false;
    url.params.emplace_back(std::move(*key), std::move(*value));
  }
  return true;
}

// The error for a malformed `%` escape in `part` of a server URL. The redacted URL is shown only
// when the password was found (it is then replaced by `***`) and the bad escape is not in the user
// name, which is the one part that could still hold password text.
Error bad_escape(const DatabaseUrl& url, std::string_view part, bool show_url) {
  Error error(ErrorKind::config,
              fmt::format("{} URL: the {} has a '%' that is not followed by two hex digits",
                          url.engine, part));
  if (show_url) error.where = url.redacted();
  error.hint =
      "write a literal % as %25 and percent-encode other special characters (@ as %40, "
      ": as %3A, / as %2F, ? as %3F, # as %23)";
  return error;
}

}  // namespace

DatabaseUrl parse_database_url(std::string_view text) {
  DatabaseUrl url;
  url.original = std::string(text);
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    // Not echoed: a URL read from a file with two lines may hold a password on either.
    Error error(ErrorKind::config, "database URL contains a line break or control character");
    error.hint = "give the URL alone, on one line (percent-encode such characters: %0A)";
    throw error;
  }

  std::size_t colon = text.find(':');
  std::string scheme = colon == std::string_view::npos ? "" : std::string(text.substr(0, colon));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // Schemes are the registry's engine names and aliases (engine.cpp).
  const EngineInfo* engine = find_engine(scheme);
  if (engine == nullptr) {
    // Do not echo the URL: it may hold a password and is not one we understand well enough to
    // redact reliably. Show only the scheme, and only when it looks like one (text before the
    // first ':' could otherwise be anything, a password included).
    Error error(ErrorKind::config, !is_scheme(scheme)
                                       ? std::string("database URL has no scheme")
                                       : fmt::format("unknown database URL scheme '{}:'", scheme));
    error.hint =
        "use sqlite:path/to/file.db, postgres://user:pass@host:5432/db or "
        "mysql://user:pass@host:3306/db";
    throw error;
  }
  url.scheme = scheme;
  url.engine = std::string(engine->name);

  std::string_view rest = text.substr(colon + 1);
  std::string_view query;
  if (std::size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  const bool query_ok = parse_query(query, url, url.engine != "sqlite");

  if (engine->file_databases) {
    // sqlite:rel, sqlite:/abs, sqlite://rel, sqlite:///abs
    if (rest.starts_with("//")) rest.remove_prefix(2);
    url.database = percent_decode(rest);
    if (url.database.empty()) {
      Error error(ErrorKind::config, fmt::format("{} URL names no file", url.engine));
      error.where = url.redacted();
      error.hint = "use sqlite:path/to/file.db or sqlite:///absolute/path/file.db";
      throw error;
    }
    if (url.database.back() == '/') {
      Error error(ErrorKind::config, "SQLite URL names a folder, not a database file");
      error.where = url.redacted();
      error.hint = "name a file in it: sqlite:folder/app.db";
      throw error;
    }
    if (url.database.starts_with("file:")) {
      // SQLite would read `file:` as a URI file name of its own, with parameters (mode=ro, ...)
      // that dbinit does not pass on: refuse it rather than open another file than the one named.
      Error error(ErrorKind::config, "SQLite URI file names (sqlite:file:...) are not supported");
      error.where = url.redacted();
      error.hint =
          "write the path after sqlite: (sqlite:path/to/app.db); dbinit's SQLite parameters are "
          "foreign_keys=on|off and journal_mode=MODE";
      throw error;
    }
    return url;
  }

  if (!rest.starts_with("//")) {
    // Not echoed: without the `//` the password cannot be told from the rest.
    Error error(ErrorKind::config, fmt::format("{} URL must start with {}://", url.engine, scheme));
    error.hint = fmt::format("use {}://user:password@host:port/database", scheme);
    throw error;
  }
  rest.remove_prefix(2);
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  // The password may contain '@' when not escaped: the host part starts after the last one. This
  // is the one place that decides what the password is: engines connect with these parts, never
  // with the URL text.
  bool has_userinfo = false;
  std::optional<std::string> user = std::string();
  std::optional<std::string> password = std::string();
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    has_userinfo = true;
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    std::size_t sep = userinfo.find(':');
    user = strict_percent_decode(userinfo.substr(0, sep));
    if (sep != std::string_view::npos) {
      url.password_as_written = std::string(userinfo.substr(sep + 1));
      password = strict_percent_decode(url.password_as_written);
      url.has_password = true;
    }
  }
  if (!password) throw bad_escape(url, "password", true);
  url.password = std::move(*password);
  if (!user) throw bad_escape(url, "user name", false);
  url.user = std::move(*user);
  // A password holding an unescaped '/' or '?' cuts the URL short: part of it lands in the host or
  // the database name, where redaction cannot find it. Refuse such URLs without echoing them.
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (!valid_hosts(authority) || path.find('@') != std::string_view::npos) {
    Error error(ErrorKind::config,
                fmt::format("{} URL has an invalid host, port or database name", url.engine));
    // Only a URL whose password was found can be shown safely.
    if (has_userinfo) error.where = url.redacted();
    error.hint =
        "percent-encode special characters in the user name, password and database name "
        "(@ as %40, : as %3A, / as %2F, ? as %3F, # as %23)";
    throw error;
  }
  std::optional<std::string> hosts = strict_percent_decode(authority);
  if (!hosts) throw bad_escape(url, "host", has_userinfo);
  url.hosts = std::move(*hosts);
  std::optional<std::string> database = slash == std::string_view::npos
                                            ? std::string()
                                            : strict_percent_decode(rest.substr(slash + 1));
  if (!database) throw bad_escape(url, "database name", has_userinfo);
  url.database = std::move(*database);
  if (!query_ok) throw bad_escape(url, "query", has_userinfo);
  return url;
}

std::string DatabaseUrl::redacted() const {
  if (!has_password) return redact_passwords(original);
  // Rebuild from the parts we know rather than searching for the password text, which could
  // also occur elsewhere in the URL.
  std::string_view text = original;
  std::size_t start = text.find("//");
  std::size_t end = text.find_first_of("/?", start == std::string_view::npos ? 0 : start + 2);
  std::string_view authority = text.substr(
      start + 2, end == std::string_view::npos ? std::string_view::npos : end - start - 2);
  std::size_t at = authority.rfind('@');
  std::size_t sep = authority.find(':');
  std::string out(text.substr(0, start + 2));
  out += authority.substr(0, sep);
  out += ":***";
  out += authority.substr(at);
  if (end != std::string_view::npos) out += redact_passwords(text.substr(end));
  return out;
}

std::vector<std::string> DatabaseUrl::secrets() const {
  std::vector<std::string> out;
  for (const std::string* text : {&password, &password_as_written}) {
    if (!text->empty()) out.push_back(*text);
  }
  for (const auto& [key, value] : params) {
    if (!value.empty() && (equals_ci(key, "password") || equals_ci(key, "sslpassword"))) {
      out.push_back(value);
    }
  }
  return out;
}

std::string DatabaseUrl::param(std::string_view name) const {
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return {};
}

bool DatabaseUrl::has_param(std::string_view name) const {
  return std::any_of(params.begin(), params.end(), [&](const auto& p) { return p.first == name; });
}

std::string redact_passwords(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (true) {
    std::size_t scheme_end = text.find("://", pos);
    if (scheme_end == std::string_view::npos) break;
    std::size_t auth_start = scheme_end + 3;
    std::size_t auth_end = text.find_first_of("/? \t\n\"'", auth_start);
    if (auth_end == std::string_view::npos) auth_end = text.size();
    std::string_view authority = text.substr(auth_start, auth_end - auth_start);
    std::size_t at = authority.rfind('@');
    std::size_t sep = authority.find(':');
    out += text.substr(pos, auth_start - pos);
    if (at != std::string_view::npos && sep != std::string_view::npos && sep < at) {
      out += authority.substr(0, sep);
      out += ":***";
      out += authority.substr(at);
    } else {
      out += authority;
    }
    pos = auth_end;
  }
  out += text.substr(pos);
  // Query-string and conninfo passwords (`?password=...`, `sslpassword=...`, `password = '...'`,
  // any case) are redacted too.
  std::size_t at = 0;
  while ((at = find_ci(out, "password", at)) != std::string::npos) {
    std::size_t value_start = at + 8;
    while (value_start < out.size() && (out[value_start] == ' ' || out[value_start] == '\t')) {
      ++value_start;
    }
    if (value_start >= out.size() || out[value_start] != '=') {
      at += 8;
      continue;
    }
    ++value_start;
    while (value_start < out.size() && (out[value_start] == ' ' || out[value_start] == '\t')) {
      ++value_start;
    }
    std::size_t value_end = value_start;
    if (value_start < out.size() && (out[value_start] == '\'' || out[value_start] == '"')) {
      // A quoted conninfo value: up to the closing quote, backslash escapes skipped.
      char quote = out[value_start];
      value_end = value_start + 1;
      while (value_end < out.size() && out[value_end] != quote) {
        value_end += out[value_end] == '\\' ? 2 : 1;
      }
      value_end = std::min(value_end + 1, out.size());
    } else {
      value_end = out.find_first_of("& \t\n\"'", value_start);
      if (value_end == std::string::npos) value_end = out.size();
    }
    out.replace(value_start, value_end - value_start, "***");
    at = value_start + 3;
  }
  return out;
}

}  // namespace dbinit
