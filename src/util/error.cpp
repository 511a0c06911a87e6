#include "util/error.h"

#include <utility>

namespace dbinit {

int exit_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::failure:
      return 1;
    case ErrorKind::usage:
    case ErrorKind::config:
      return 2;
    case ErrorKind::drift:
      return 3;
    case ErrorKind::needs_repair:
      return 4;
    case ErrorKind::lock_timeout:
      return 5;
    case ErrorKind::unreachable:
    case ErrorKind::auth:
      return 6;
    case ErrorKind::not_current:
      return 7;
    case ErrorKind::refused:
      return 8;
    case ErrorKind::unmanaged:
      return 9;
    case ErrorKind::in_doubt:
      return 10;
  }
  return 1;
}

Error::Error(ErrorKind kind, std::string message)
    : std::runtime_error(message), m_kind(kind), m_message(std::move(message)) {}

std::string Error::full_message() const {
  std::string out;
  if (!where.empty()) {
    out += where;
    out += ": ";
  }
  out += m_message;
  if (!code.empty()) {
    out += " (";
    out += code;
    out += ")";
  }
  if (!state.empty()) {
    out += "; ";
    out += state;
  }
  if (!hint.empty()) {
    out += "; ";
    out += hint;
  }
  return out;
}

}  // namespace dbinit
