#pragma once

// The last pass over everything dbinit prints. URLs are redacted where they are formatted
// (DatabaseUrl::redacted()); on top of that, every text that reaches stdout or stderr goes through
// redact(), which replaces each registered secret (the password of every URL in use) wherever it
// occurs: in a server's message that quotes it, in a hook's output, in a child's line that is
// passed on.

#include <string>
#include <string_view>

namespace dbinit {

/// Secrets shorter than this are not registered: replacing every occurrence of one or two
/// characters would garble the output and hide nothing.
constexpr std::size_t k_min_secret_size = 3;

/// Registers `secret` so that redact() replaces it: as given, percent-encoded the way a URL may
/// hold it (every byte but RFC 3986's unreserved ones as `%XX`, upper or lower-case hex; or only
/// the ASCII ones, UTF-8 left as it is) and with spaces as `+`. Thread-safe.
void add_secret(std::string_view secret);

/// `text` with every registered secret replaced by `***` (longer secrets first). Thread-safe.
std::string redact(std::string_view text);

/// Forgets every registered secret.
void clear_secrets();

/// `text` with every byte but RFC 3986's unreserved characters (ALPHA DIGIT - . _ ~) written as
/// `%XX`; with `keep_non_ascii`, bytes from 0x80 up are kept as they are.
std::string percent_encode(std::string_view text, bool lower_case = false,
                           bool keep_non_ascii = false);

}  // namespace dbinit
