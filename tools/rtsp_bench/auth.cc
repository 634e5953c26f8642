// Basic and Digest authentication for rtsp_bench (see auth.h).
#include "tools/rtsp_bench/auth.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace rtsptest::tools::bench {
namespace {

uint32_t Rotate(uint32_t x, int c) { return (x << c) | (x >> (32 - c)); }

// Splits `a="b", c=d` into pairs (quotes removed; commas inside quotes kept).
std::vector<std::pair<std::string, std::string>> Params(absl::string_view text) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ',' || text[i] == ' ')) ++i;
    const size_t eq = text.find('=', i);
    if (eq == absl::string_view::npos) break;
    std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text.substr(i, eq - i)));
    i = eq + 1;
    std::string value;
    if (i < text.size() && text[i] == '"') {
      const size_t close = text.find('"', i + 1);
      const size_t end = close == absl::string_view::npos ? text.size() : close;
      value = std::string(text.substr(i + 1, end - i - 1));
      i = end + 1;
    } else {
      const size_t comma = text.find(',', i);
      const size_t end = comma == absl::string_view::npos ? text.size() : comma;
      value = std::string(absl::StripAsciiWhitespace(text.substr(i, end - i)));
      i = end;
    }
    params.emplace_back(std::move(key), std::move(value));
  }
  return params;
}

}  // namespace

std::string Md5Hex(absl::string_view data) {
  static constexpr uint32_t kK[64] = {
      0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
      0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
      0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
      0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
      0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
      0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
      0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
      0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
      0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
      0xeb86d391};
  static constexpr int kShift[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                     5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                     4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                     6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};
  std::string message(data);
  const uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
  message.push_back(static_cast<char>(0x80));
  while (message.size() % 64 != 56) message.push_back('\0');
  for (int i = 0; i < 8; ++i) message.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  uint32_t a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
  for (size_t block = 0; block < message.size(); block += 64) {
    uint32_t m[16];
    for (int i = 0; i < 16; ++i) {
      const auto* p = reinterpret_cast<const uint8_t*>(message.data() + block + 4 * i);
      m[i] =
          uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
    }
    uint32_t a = a0, b = b0, c = c0, d = d0;
    for (int i = 0; i < 64; ++i) {
      uint32_t f;
      int g;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) % 16;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) % 16;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) % 16;
      }
      f += a + kK[i] + m[g];
      a = d;
      d = c;
      c = b;
      b += Rotate(f, kShift[i]);
    }
    a0 += a;
    b0 += b;
    c0 += c;
    d0 += d;
  }
  std::string hex;
  for (uint32_t word : {a0, b0, c0, d0}) {
    for (int i = 0; i < 4; ++i) absl::StrAppendFormat(&hex, "%02x", (word >> (8 * i)) & 0xff);
  }
  return hex;
}

absl::StatusOr<AuthChallenge> ParseAuthChallenge(absl::string_view header) {
  header = absl::StripAsciiWhitespace(header);
  AuthChallenge challenge;
  const size_t space = header.find(' ');
  const absl::string_view scheme = header.substr(0, space);
  if (absl::EqualsIgnoreCase(scheme, "Basic")) {
    challenge.digest = false;
  } else if (absl::EqualsIgnoreCase(scheme, "Digest")) {
    challenge.digest = true;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("authentication scheme '", scheme, "' is not supported (Basic, Digest)"));
  }
  if (space != absl::string_view::npos) {
    for (const auto& [key, value] : Params(header.substr(space + 1))) {
      if (key == "realm") challenge.realm = value;
      if (key == "nonce") challenge.nonce = value;
      if (key == "opaque") challenge.opaque = value;
      if (key == "qop") {
        for (absl::string_view q : absl::StrSplit(value, ',')) {
          if (absl::StripAsciiWhitespace(q) == "auth") challenge.qop_auth = true;
        }
      }
      if (key == "algorithm" && !absl::EqualsIgnoreCase(value, "MD5")) {
        return absl::InvalidArgumentError(
            absl::StrCat("digest algorithm '", value, "' is not supported (MD5)"));
      }
    }
  }
  if (challenge.digest && challenge.nonce.empty()) {
    return absl::InvalidArgumentError("Digest challenge without a nonce");
  }
  return challenge;
}

std::string AuthorizationValue(const AuthChallenge& challenge, absl::string_view user,
                               absl::string_view password, absl::string_view method,
                               absl::string_view uri, int nonce_count, absl::string_view cnonce) {
  if (!challenge.digest) {
    return absl::StrCat("Basic ", absl::Base64Escape(absl::StrCat(user, ":", password)));
  }
  const std::string ha1 = Md5Hex(absl::StrCat(user, ":", challenge.realm, ":", password));
  const std::string ha2 = Md5Hex(absl::StrCat(method, ":", uri));
  std::string value = absl::StrCat("Digest username=\"", user, "\", realm=\"", challenge.realm,
                                   "\", nonce=\"", challenge.nonce, "\", uri=\"", uri, "\"");
  if (challenge.qop_auth) {
    const std::string nc = absl::StrFormat("%08x", nonce_count);
    absl::StrAppend(
        &value, ", qop=auth, nc=", nc, ", cnonce=\"", cnonce, "\", response=\"",
        Md5Hex(absl::StrCat(ha1, ":", challenge.nonce, ":", nc, ":", cnonce, ":auth:", ha2)), "\"");
  } else {
    absl::StrAppend(&value, ", response=\"",
                    Md5Hex(absl::StrCat(ha1, ":", challenge.nonce, ":", ha2)), "\"");
  }
  if (!challenge.opaque.empty()) absl::StrAppend(&value, ", opaque=\"", challenge.opaque, "\"");
  return value;
}

}  // namespace rtsptest::tools::bench
