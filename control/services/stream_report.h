// The one conversion of a core::Stream into a v1::StreamReport: the streams
// of GetHealthReport and StreamStatus.report of the stream RPCs both come
// from here, so they never disagree.
#ifndef RTSPTEST_CONTROL_SERVICES_STREAM_REPORT_H_
#define RTSPTEST_CONTROL_SERVICES_STREAM_REPORT_H_

#include "core/stream/stream.h"
#include "rtsptest/control/v1/control.pb.h"

namespace rtsptest::control {

v1::StreamState ToProtoState(core::StreamState state);

// Fills `out` (path, plugin, listeners, readers, bytes, parameters with
// defaults, state, rates, tracks) from a snapshot of the stream.
void FillStreamReport(const core::Stream& stream, v1::StreamReport* out);

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_SERVICES_STREAM_REPORT_H_
