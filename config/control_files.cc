// Reading the control plane's token and TLS files (see header).
#include "config/control_files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace rtsptest::config {
namespace {

// Tokens and PEM files are small; the cap keeps /dev/zero out.
constexpr size_t kMaxFileBytes = 1 << 20;

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (file == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read '", path, "': ", std::strerror(errno)));
  }
  std::string contents;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) {
    contents.append(buffer, n);
    if (contents.size() > kMaxFileBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", path, "' is larger than ", kMaxFileBytes, " bytes"));
    }
  }
  // fopen() succeeds on a directory on Linux; the read fails with EISDIR.
  if (std::ferror(file.get())) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read '", path, "': ", std::strerror(errno)));
  }
  return contents;
}

}  // namespace

absl::Status CheckControlToken(absl::string_view token) {
  if (token.empty()) return absl::InvalidArgumentError("the token is empty");
  for (char c : token) {
    if (c <= 0x20 || c >= 0x7f) {
      return absl::InvalidArgumentError(
          "the token must be printable ASCII without spaces (it is sent as "
          "'authorization: Bearer <token>')");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadControlTokenFile(const std::string& path) {
  absl::StatusOr<std::string> token = ReadSmallFile(path);
  if (!token.ok()) return token.status();
  if (absl::EndsWith(*token, "\n")) token->pop_back();
  if (absl::EndsWith(*token, "\r")) token->pop_back();
  if (token->empty()) return absl::InvalidArgumentError(absl::StrCat("'", path, "' is empty"));
  if (absl::Status status = CheckControlToken(*token); !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("'", path, "': ", status.message()));
  }
  return token;
}

absl::StatusOr<std::string> ReadPemFile(const std::string& path, PemKind kind) {
  absl::StatusOr<std::string> pem = ReadSmallFile(path);
  if (!pem.ok()) return pem.status();
  bool found = kind == PemKind::kCertificate
                   ? absl::StrContains(*pem, "-----BEGIN CERTIFICATE-----")
                   : absl::StrContains(*pem, "PRIVATE KEY-----");
  if (!found) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' holds no PEM ",
                     kind == PemKind::kCertificate ? "certificate" : "private key"));
  }
  return pem;
}

}  // namespace rtsptest::config
