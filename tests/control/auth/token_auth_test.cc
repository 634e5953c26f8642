// TokenAuth: the constant-time compare and the answers to each kind of
// metadata. That every mutating RPC asks it is checked against the real
// server in tests/control/security.
#include "control/auth/token_auth.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

namespace rtsptest::control {
namespace {

using Metadata = std::multimap<grpc::string_ref, grpc::string_ref>;

TEST(ConstantTimeEqualsTest, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcabc"));  // b cycled must not match
  EXPECT_FALSE(ConstantTimeEquals("abcabc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", ""));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(TokenAuthTest, MissingWrongAndRightTokens) {
  TokenAuth auth("t0ken");
  ASSERT_FALSE(auth.open());
  const std::string key = "authorization";
  const std::string basic = "Basic dXNlcjpwYXNz", wrong = "Bearer t0ken2", right = "Bearer t0ken";
  const grpc::Status none = auth.Check(Metadata{});
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(none.error_message(), "missing bearer token");
  EXPECT_EQ(auth.Check(Metadata{{key, basic}}).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  const grpc::Status denied = auth.Check(Metadata{{key, wrong}});
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(denied.error_message(), "wrong token");
  EXPECT_TRUE(auth.Check(Metadata{{key, right}}).ok());
}

TEST(TokenAuthTest, WithoutATokenEveryCallIsAllowed) {
  TokenAuth auth("");
  EXPECT_TRUE(auth.open());
  EXPECT_TRUE(auth.Check(Metadata{}).ok());
  EXPECT_TRUE(auth.Check(Metadata{{"authorization", "Bearer anything"}}).ok());
}

}  // namespace
}  // namespace rtsptest::control
