#include "util/redactor.h"

#include <algorithm>
#include <mutex>
#include <vector>

namespace dbinit {

namespace {

std::mutex g_mutex;
// Longest first, so that a secret containing another is replaced whole.
std::vector<std::string> g_secrets;

void add_one(std::string text) {
  if (text.size() < k_min_secret_size) return;
  if (std::find(g_secrets.begin(), g_secrets.end(), text) != g_secrets.end()) return;
  const auto at = std::find_if(g_secrets.begin(), g_secrets.end(),
                               [&](const std::string& s) { return s.size() < text.size(); });
  g_secrets.insert(at, std::move(text));
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

}  // namespace

std::string percent_encode(std::string_view text, bool lower_case, bool keep_non_ascii) {
  const char* digits = lower_case ? "0123456789abcdef" : "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_non_ascii && c >= 0x80)) {
      out += ch;
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

void add_secret(std::string_view secret) {
  if (secret.size() < k_min_secret_size) return;
  std::vector<std::string> forms = {std::string(secret)};
  for (bool lower : {false, true}) {
    for (bool keep_non_ascii : {false, true}) {
      std::string encoded = percent_encode(secret, lower, keep_non_ascii);
      forms.push_back(encoded);
      // A space written as `+` (form encoding) instead of %20.
      std::string plus = encoded;
      for (std::size_t at; (at = plus.find("%20")) != std::string::npos;) {
        plus.replace(at, 3, "+");
      }
      forms.push_back(std::move(plus));
    }
  }
  const std::lock_guard<std::mutex> lock(g_mutex);
  for (std::string& form : forms) add_one(std::move(form));
}

std::string redact(std::string_view text) {
  const std::lock_guard<std::mutex> lock(g_mutex);
  std::string out(text);
  for (const std::string& secret : g_secrets) {
    for (std::size_t at = out.find(secret); at != std::string::npos;
         at = out.find(secret, at + 3)) {
      out.replace(at, secret.size(), "***");
    }
  }
  return out;
}

void clear_secrets() {
  const std::lock_guard<std::mutex> lock(g_mutex);
  g_secrets.clear();
}

}  // namespace dbinit
