// Reading the files the control plane's security settings name: the bearer
// token file and the TLS PEM files. The validator calls these so that a bad
// file is a configuration error naming it; the server reads them again at
// start to use their contents.
#ifndef RTSPTEST_CONFIG_CONTROL_FILES_H_
#define RTSPTEST_CONFIG_CONTROL_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rtsptest::config {

// OK when `token` can be sent as "authorization: Bearer <token>": non-empty
// printable ASCII without spaces. The error never quotes the token.
absl::Status CheckControlToken(absl::string_view token);

// The token in `path`, a trailing newline ("\n" or "\r\n") stripped.
// InvalidArgument naming the file when it cannot be read, is empty or does
// not hold a valid token (the token itself is never quoted).
absl::StatusOr<std::string> ReadControlTokenFile(const std::string& path);

// What a PEM file must hold.
enum class PemKind { kCertificate, kPrivateKey };

// The contents of a PEM file. InvalidArgument naming the file when it cannot
// be read or holds no PEM block of `kind`.
absl::StatusOr<std::string> ReadPemFile(const std::string& path, PemKind kind);

}  // namespace rtsptest::config

#endif  // RTSPTEST_CONFIG_CONTROL_FILES_H_
