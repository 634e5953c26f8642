// UpdateStream's field mask: which fields of the request's stream replace
// the serving spec's.
#ifndef RTSPTEST_CONTROL_SERVICES_STREAM_UPDATE_H_
#define RTSPTEST_CONTROL_SERVICES_STREAM_UPDATE_H_

#include "absl/status/statusor.h"
#include "google/protobuf/field_mask.pb.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::control {

// `current` with the fields `mask` names taken from `update`. Mask paths:
// "plugin", "parameters" (the whole map), "parameters.<name>" (one
// parameter: set, or removed when `update` lacks it), "listeners",
// "description", "auth" (the whole StreamAuth: set, or removed when
// `update` has none). An empty mask takes every one of them.
// InvalidArgument for any other path: "update_mask.paths[0]: unknown field
// 'fps' (have: plugin, parameters, parameters.<name>, listeners,
// description, auth; the path cannot change)".
absl::StatusOr<config::v1::Stream> ApplyUpdateMask(const config::v1::Stream& current,
                                                   const config::v1::Stream& update,
                                                   const google::protobuf::FieldMask& mask);

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_SERVICES_STREAM_UPDATE_H_
