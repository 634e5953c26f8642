// Conversions between google.protobuf.Duration/Timestamp and absl time types,
// used wherever the config and control protos meet the code.
#ifndef RTSPTEST_COMMON_TIME_PROTO_TIME_H_
#define RTSPTEST_COMMON_TIME_PROTO_TIME_H_

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include "absl/time/time.h"

namespace rtsptest::common {

absl::Duration FromProtoDuration(const google::protobuf::Duration& d);
google::protobuf::Duration ToProtoDuration(absl::Duration d);
absl::Time FromProtoTimestamp(const google::protobuf::Timestamp& t);
// absl::Time() (the Unix epoch, "never") becomes an unset (zero) Timestamp.
google::protobuf::Timestamp ToProtoTimestamp(absl::Time t);

}  // namespace rtsptest::common

#endif  // RTSPTEST_COMMON_TIME_PROTO_TIME_H_
