// health_probe -mode=http: GET a URL (the health gateway's /health);
// healthy on 200.
#ifndef RTSPTEST_TOOLS_HEALTH_PROBE_HTTP_MODE_H_
#define RTSPTEST_TOOLS_HEALTH_PROBE_HTTP_MODE_H_

#include "tools/health_probe/cli.h"

namespace rtsptest::tools {

// GETs o.url; returns the exit code.
int RunHttp(const CliOptions& o);

}  // namespace rtsptest::tools

#endif  // RTSPTEST_TOOLS_HEALTH_PROBE_HTTP_MODE_H_
