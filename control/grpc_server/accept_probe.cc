// ProbeAccept implementation.
#include "control/grpc_server/accept_probe.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace rtsptest::control {
namespace {

// Whether this process can open one more socket now. Checked first so that,
// while descriptors are exhausted, the probe neither counts as a failure nor
// makes gRPC's client log its own EMFILE errors.
bool CanOpenSocket() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno != EMFILE && errno != ENFILE;
  close(fd);
  return true;
}

}  // namespace

const char* AcceptProbeResultName(AcceptProbeResult result) {
  switch (result) {
    case AcceptProbeResult::kAccepted:
      return "accepted";
    case AcceptProbeResult::kNotAccepted:
      return "not accepted";
    case AcceptProbeResult::kNoDescriptor:
      return "no descriptor";
    case AcceptProbeResult::kFailed:
      return "failed";
  }
  return "?";
}

AcceptProbeResult ProbeAccept(const std::string& target,
                              const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                              absl::Duration timeout) {
  if (!CanOpenSocket()) return AcceptProbeResult::kNoDescriptor;
  grpc::ChannelArguments args;
  // A channel of its own: the global pool would hand back a connection that
  // another channel (e.g. the embedded gateway's) opened before the listener
  // stopped, and that connection still works.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(target, credentials, args);
  if (channel->WaitForConnected(absl::ToChronoTime(absl::Now() + timeout))) {
    return AcceptProbeResult::kAccepted;
  }
  // Still connecting at the deadline: TCP got into the backlog (or its SYN
  // waits for room there) and no handshake bytes came back.
  return channel->GetState(false) == GRPC_CHANNEL_CONNECTING ? AcceptProbeResult::kNotAccepted
                                                             : AcceptProbeResult::kFailed;
}

}  // namespace rtsptest::control
