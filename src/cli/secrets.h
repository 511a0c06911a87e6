#pragma once

// Finding the secrets dbinit must never print, before anything is printed: the passwords of
// every URL in use (--url and every other argument, DBINIT_URL, DATABASE_URL, the URL files,
// dbinit.toml's `url` of the project and of every service). Each is registered with
// add_secret() (util/redactor.h), which every line of output passes.

#include <string>
#include <string_view>
#include <vector>

#include "cli/config.h"

namespace dbinit::cli {

/// Registers the password of every URL among `argv[1..argc)` up to a `--` (an argument that is a
/// URL, `--url=URL`, or a comma-separated list of URLs), then overwrites the password's bytes in
/// `argv` itself with `*`, so that `ps` and /proc/PID/cmdline do not show it for as long as the
/// process runs (`run --wait`). The arguments after `--` (the command `run` starts) are left
/// alone. Call after argv has been copied and before anything is printed.
void protect_arguments(int argc, char** argv);

/// Registers the passwords of the URLs the configuration may use: DBINIT_URL, DATABASE_URL, the
/// files DBINIT_URL_FILE and DATABASE_URL_FILE name, and the `url` settings of dbinit.toml
/// (`--config`, DBINIT_CONFIG or ./dbinit.toml; every service's too), `${VAR}` replaced. What
/// cannot be read or parsed is skipped: resolving the settings reports it.
void register_configured_secrets(const Flags& flags, const EnvLookup& env);

/// Registers the passwords of `url`, read as a database URL, however well it parses.
void register_url_secrets(std::string_view url);

/// The byte ranges (offset, length) of passwords in `text`, a URL or an argument holding URLs:
/// the text between `user:` and the last `@` of each `scheme://` authority, and the values of
/// `password=` / `sslpassword=` query parameters.
std::vector<std::pair<std::size_t, std::size_t>> password_spans(std::string_view text);

}  // namespace dbinit::cli
