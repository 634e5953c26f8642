// RTSP authentication for rtsp_bench (RFC 2617 as RTSP uses it): Basic, and
// Digest with MD5 (qop "auth" or none), from the user info of the URL. Many
// cameras answer DESCRIBE with 401 until the client does this.
#ifndef RTSPTEST_TOOLS_RTSP_BENCH_AUTH_H_
#define RTSPTEST_TOOLS_RTSP_BENCH_AUTH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rtsptest::tools::bench {

// A WWW-Authenticate challenge.
struct AuthChallenge {
  bool digest = false;  // else Basic
  std::string realm;
  std::string nonce;
  std::string opaque;
  bool qop_auth = false;  // the server offered qop="auth"
};
// InvalidArgument for a scheme other than Basic and Digest, or a Digest
// challenge without a nonce or with an algorithm other than MD5.
absl::StatusOr<AuthChallenge> ParseAuthChallenge(absl::string_view header);

// The Authorization header's value for `method` on `uri`. `nonce_count` is
// the count of requests made with this nonce (1 first), used with qop=auth.
std::string AuthorizationValue(const AuthChallenge& challenge, absl::string_view user,
                               absl::string_view password, absl::string_view method,
                               absl::string_view uri, int nonce_count, absl::string_view cnonce);

// MD5 of `data` as 32 lower-case hex digits (RFC 1321).
std::string Md5Hex(absl::string_view data);

}  // namespace rtsptest::tools::bench

#endif  // RTSPTEST_TOOLS_RTSP_BENCH_AUTH_H_
