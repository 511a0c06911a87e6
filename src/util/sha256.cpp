#include "util/sha256.h"

#include <openssl/evp.h>

#include <memory>
#include <new>

#include "util/error.h"

namespace dbinit {

namespace {

// The digest is fetched once: OpenSSL 3 otherwise looks the algorithm up in its provider tables on
// every EVP_DigestInit_ex call with the legacy EVP_sha256() handle.
const EVP_MD* sha256_md() {
  static const EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? static_cast<const EVP_MD*>(fetched) : EVP_sha256();
  }();
  return md;
}

struct CtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

EVP_MD_CTX* new_ctx() {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) throw std::bad_alloc();
  return ctx;
}

void init_digest(EVP_MD_CTX* ctx) {
  if (EVP_DigestInit_ex(ctx, sha256_md(), nullptr) != 1) {
    throw Error(ErrorKind::failure, "OpenSSL: SHA-256 initialisation failed");
  }
}

void update_digest(EVP_MD_CTX* ctx, std::string_view data) {
  if (!data.empty() && EVP_DigestUpdate(ctx, data.data(), data.size()) != 1) {
    throw Error(ErrorKind::failure, "OpenSSL: SHA-256 update failed");
  }
}

std::string finish_digest(EVP_MD_CTX* ctx) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx, digest, &length) != 1) {
    throw Error(ErrorKind::failure, "OpenSSL: SHA-256 finalisation failed");
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out(length * 2, '\0');
  for (unsigned int i = 0; i < length; ++i) {
    out[2 * i] = k_hex[digest[i] >> 4];
    out[2 * i + 1] = k_hex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  thread_local std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx(new_ctx());
  init_digest(ctx.get());
  update_digest(ctx.get(), data);
  return finish_digest(ctx.get());
}

Sha256::Sha256() : m_ctx(new_ctx()) {
  try {
    init_digest(static_cast<EVP_MD_CTX*>(m_ctx));
  } catch (...) {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(m_ctx));
    throw;
  }
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(m_ctx));
}

void Sha256::update(std::string_view data) {
  update_digest(static_cast<EVP_MD_CTX*>(m_ctx), data);
}

std::string Sha256::finish_hex() {
  auto* ctx = static_cast<EVP_MD_CTX*>(m_ctx);
  std::string hex = finish_digest(ctx);
  init_digest(ctx);
  return hex;
}

}  // namespace dbinit
