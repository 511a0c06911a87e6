#include "util/shared_library.h"

#include <dlfcn.h>

#include <fmt/format.h>

#include "util/error.h"

namespace dbinit {

SharedLibrary::SharedLibrary(std::initializer_list<const char*> names, std::string_view purpose,
                             std::string_view package)
    : m_package(package) {
  std::string reasons;
  for (const char* name : names) {
    m_handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (m_handle != nullptr) {
      m_name = name;
      return;
    }
    const char* reason = dlerror();
    reasons += fmt::format("{}{}", reasons.empty() ? "" : "; ", reason ? reason : name);
  }
  Error error(ErrorKind::config, fmt::format("{} needs {}, which cannot be loaded", purpose,
                                             names.size() ? *names.begin() : "a library"));
  error.detail = reasons;
  error.hint = fmt::format("install it (Debian and Ubuntu: apt-get install {})", package);
  throw error;
}

SharedLibrary::~SharedLibrary() {
  // Never unloaded: the library's own atexit handlers and thread-local destructors may still run.
}

std::string SharedLibrary::directory() const {
  char origin[4096] = {};
  if (dlinfo(m_handle, RTLD_DI_ORIGIN, origin) != 0) return {};
  return origin;
}

void* SharedLibrary::symbol(const char* name) const {
  void* address = dlsym(m_handle, name);
  if (address == nullptr) {
    Error error(ErrorKind::config, fmt::format("{} has no function {}", m_name, name));
    error.hint = fmt::format("the installed {} is too old; upgrade it", m_package);
    throw error;
  }
  return address;
}

}  // namespace dbinit
