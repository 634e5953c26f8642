// health_probe -mode=ports: the k-of-n rule straight against RTSP ports
// (TCP connect + OPTIONS), with no control plane; prints one JSON line.
#ifndef RTSPTEST_TOOLS_HEALTH_PROBE_PORTS_MODE_H_
#define RTSPTEST_TOOLS_HEALTH_PROBE_PORTS_MODE_H_

#include "tools/health_probe/cli.h"

namespace rtsptest::tools {

// Probes o.ports on o.host; prints the JSON verdict on stdout and returns
// the exit code.
int RunPorts(const CliOptions& o);

}  // namespace rtsptest::tools

#endif  // RTSPTEST_TOOLS_HEALTH_PROBE_PORTS_MODE_H_
