// google.protobuf time types <-> absl.
#include "common/time/proto_time.h"

#include <ctime>

namespace rtsptest::common {

absl::Duration FromProtoDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

google::protobuf::Duration ToProtoDuration(absl::Duration d) {
  google::protobuf::Duration out;
  absl::Duration remainder;
  out.set_seconds(absl::IDivDuration(d, absl::Seconds(1), &remainder));
  out.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(remainder)));
  return out;
}

absl::Time FromProtoTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

google::protobuf::Timestamp ToProtoTimestamp(absl::Time t) {
  google::protobuf::Timestamp out;
  if (t == absl::Time()) return out;
  timespec ts = absl::ToTimespec(t);
  out.set_seconds(ts.tv_sec);
  out.set_nanos(static_cast<int32_t>(ts.tv_nsec));
  return out;
}

}  // namespace rtsptest::common
