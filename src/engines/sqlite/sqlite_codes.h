#pragma once

#include <string>

namespace dbinit {

/// The symbolic name of an SQLite result code as the SQLite documentation spells it
/// (https://www.sqlite.org/rescode.html): `SQLITE_CONSTRAINT_UNIQUE` for an extended code,
/// `SQLITE_ERROR` for a primary one. Codes this build does not know are shown as the primary
/// code's name with the number: `SQLITE_IOERR (6410)`.
std::string sqlite_code_name(int code);

}  // namespace dbinit
