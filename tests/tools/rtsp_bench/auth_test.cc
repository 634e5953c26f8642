// Basic and Digest authentication: MD5 against RFC 1321's vectors, the
// RFC 2617 example's response, challenges parsed and refused.
#include "tools/rtsp_bench/auth.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace rtsptest::tools::bench {
namespace {

TEST(Md5Test, Rfc1321Vectors) {
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Md5Hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(
      Md5Hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
      "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(AuthChallengeTest, DigestWithQop) {
  absl::StatusOr<AuthChallenge> c = ParseAuthChallenge(
      "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
      "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->digest);
  EXPECT_EQ(c->realm, "testrealm@host.com");
  EXPECT_EQ(c->nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
  EXPECT_TRUE(c->qop_auth);
}

TEST(AuthorizationTest, Rfc2617Example) {
  absl::StatusOr<AuthChallenge> c = ParseAuthChallenge(
      "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
      "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
  ASSERT_TRUE(c.ok());
  const std::string value =
      AuthorizationValue(*c, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", 1, "0a4f113b");
  EXPECT_NE(value.find("response=\"6629fae49393a05397450978507c4ef1\""), std::string::npos)
      << value;
  EXPECT_NE(value.find("nc=00000001"), std::string::npos);
  EXPECT_NE(value.find("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""), std::string::npos);
}

TEST(AuthorizationTest, DigestWithoutQopAndBasic) {
  AuthChallenge digest;
  digest.digest = true;
  digest.realm = "r";
  digest.nonce = "n";
  const std::string ha1 = Md5Hex("u:r:p");
  const std::string ha2 = Md5Hex("DESCRIBE:rtsp://h/x");
  EXPECT_NE(AuthorizationValue(digest, "u", "p", "DESCRIBE", "rtsp://h/x", 1, "c")
                .find("response=\"" + Md5Hex(ha1 + ":n:" + ha2) + "\""),
            std::string::npos);
  absl::StatusOr<AuthChallenge> basic = ParseAuthChallenge("Basic realm=\"cam\"");
  ASSERT_TRUE(basic.ok());
  EXPECT_EQ(AuthorizationValue(*basic, "Aladdin", "open sesame", "DESCRIBE", "rtsp://h/x", 1, ""),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

TEST(AuthChallengeTest, RefusesOtherSchemesAndAlgorithms) {
  EXPECT_EQ(ParseAuthChallenge("Bearer realm=\"x\"").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ParseAuthChallenge("Digest realm=\"x\", nonce=\"n\", algorithm=SHA-256").status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseAuthChallenge("Digest realm=\"x\"").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rtsptest::tools::bench
