// health_probe -mode=grpc: grpc.health.v1 Check, a drop-in for
// grpc_health_probe (same flags, messages and exit codes).
#ifndef RTSPTEST_TOOLS_HEALTH_PROBE_GRPC_MODE_H_
#define RTSPTEST_TOOLS_HEALTH_PROBE_GRPC_MODE_H_

#include "tools/health_probe/cli.h"

namespace rtsptest::tools {

// Checks o.service at o.addr; returns the exit code.
int RunGrpc(const CliOptions& o);

}  // namespace rtsptest::tools

#endif  // RTSPTEST_TOOLS_HEALTH_PROBE_GRPC_MODE_H_
