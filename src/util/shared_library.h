#pragma once

// Loading a shared library at run time. dbinit loads each server engine's client library (libpq,
// MariaDB Connector/C) only when a URL needs that engine: linking them would make every start pay
// for loading them and the thirty libraries they depend on (Kerberos, LDAP, GnuTLS, ...), about
// eight milliseconds, even on SQLite, and would make the binary unusable where they are not
// installed.

#include <initializer_list>
#include <string>
#include <string_view>

namespace dbinit {

class SharedLibrary {
 public:
  /// Opens the first of `names` that the dynamic loader finds (`libpq.so.5`, ...). Throws
  /// Error{config} saying that `purpose` needs it and which `package` provides it.
  SharedLibrary(std::initializer_list<const char*> names, std::string_view purpose,
                std::string_view package);
  ~SharedLibrary();
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;

  /// The address of `name`; throws Error{config} when the library lacks it (a version too old).
  void* symbol(const char* name) const;

  /// The folder the library was loaded from (`/usr/lib/x86_64-linux-gnu`), for the plugins that
  /// some libraries keep in a folder beside them.
  std::string directory() const;

  /// Looks up `name` and stores it in `fn` with the function's own type.
  template <typename Fn>
  void load(Fn*& fn, const char* name) const {
    fn = reinterpret_cast<Fn*>(symbol(name));
  }

 private:
  void* m_handle = nullptr;
  std::string m_name;
  std::string m_package;
};

}  // namespace dbinit
