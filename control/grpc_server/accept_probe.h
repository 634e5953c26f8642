// ProbeAccept: whether a gRPC port still accepts connections, seen as a
// client of it.
//
// gRPC 1.51 stops accepting on a listening port for good once accept4()
// fails with EMFILE (grpc/grpc#20418, #31080). The kernel still completes
// TCP handshakes into the listen backlog, so a plain connect() succeeds; only
// a client that waits for the server's side of the HTTP/2 (and TLS) handshake
// sees that nobody accepts.
#ifndef RTSPTEST_CONTROL_GRPC_SERVER_ACCEPT_PROBE_H_
#define RTSPTEST_CONTROL_GRPC_SERVER_ACCEPT_PROBE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace rtsptest::control {

enum class AcceptProbeResult {
  // The server completed the handshake: it accepts.
  kAccepted,
  // The connection hung before the server's first byte until the deadline:
  // nobody accepts it (or the backlog is full).
  kNotAccepted,
  // This process could not open a descriptor: nothing was tried.
  kNoDescriptor,
  // Anything else (refused, handshake rejected, a descriptor ran out half
  // way): the listener's state is unknown.
  kFailed,
};

// "accepted", "not accepted", ...
const char* AcceptProbeResultName(AcceptProbeResult result);

// Opens a new connection of its own (never one shared with other channels
// of this process) to `target` ("host:port") with `credentials` and waits
// up to `timeout` for it to become ready; closes it again.
AcceptProbeResult ProbeAccept(const std::string& target,
                              const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                              absl::Duration timeout);

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_GRPC_SERVER_ACCEPT_PROBE_H_
