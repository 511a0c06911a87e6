#pragma once

// SHA-256 through OpenSSL's libcrypto.

#include <string>
#include <string_view>

namespace dbinit {

/// Lowercase hex SHA-256 of `data` (64 characters). Needs no set-up, so it is
/// cheap to call once per file for thousands of files.
std::string sha256_hex(std::string_view data);

/// Incremental SHA-256 for data that arrives in pieces (large dumps read in chunks).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view data);
  /// Lowercase hex of everything passed to update(); the object starts over afterwards.
  std::string finish_hex();

 private:
  void* m_ctx;  // SHA256_CTX*, kept out of this header
};

}  // namespace dbinit
