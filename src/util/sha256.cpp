#include "util/sha256.h"

// libcrypto's SHA256_* functions are used instead of EVP: EVP_MD_fetch initialises OpenSSL's
// provider machinery on first use, which costs about a millisecond — as much as hashing a
// thousand migration files — on every start of the process. The low-level functions are
// deprecated in OpenSSL 3 but remain part of its API; this file asks for the 1.1.1 API level so
// that using them is not a warning.
#define OPENSSL_API_COMPAT 10101
#include <openssl/sha.h>

#include <new>

namespace dbinit {

namespace {

std::string to_hex(const unsigned char (&digest)[SHA256_DIGEST_LENGTH]) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out(SHA256_DIGEST_LENGTH * 2, '\0');
  for (int i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    out[2 * i] = k_hex[digest[i] >> 4];
    out[2 * i + 1] = k_hex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  // Not the one-shot SHA256(): in OpenSSL 3 it goes through EVP and fetches the algorithm again.
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data.data(), data.size());
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_Final(digest, &ctx);
  return to_hex(digest);
}

Sha256::Sha256() : m_ctx(new SHA256_CTX) {
  SHA256_Init(static_cast<SHA256_CTX*>(m_ctx));
}

Sha256::~Sha256() {
  delete static_cast<SHA256_CTX*>(m_ctx);
}

void Sha256::update(std::string_view data) {
  SHA256_Update(static_cast<SHA256_CTX*>(m_ctx), data.data(), data.size());
}

std::string Sha256::finish_hex() {
  auto* ctx = static_cast<SHA256_CTX*>(m_ctx);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_Final(digest, ctx);
  SHA256_Init(ctx);
  return to_hex(digest);
}

}  // namespace dbinit
