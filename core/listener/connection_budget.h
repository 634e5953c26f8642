// How many RTSP connections each listener may hold by default: the
// process's descriptor limit less a reserve for everything else that needs
// descriptors (the gRPC and HTTP ports and their clients, plugins, pipelines,
// health probes, log and state files), shared evenly by the listeners.
#ifndef RTSPTEST_CORE_LISTENER_CONNECTION_BUDGET_H_
#define RTSPTEST_CORE_LISTENER_CONNECTION_BUDGET_H_

#include <cstdint>

namespace rtsptest::core {

// The reserve is a quarter of `descriptor_limit`, at least 64 and at most
// 1024. At least 1 per listener.
int ConnectionsPerListener(uint64_t descriptor_limit, int listeners);

// The same for this process's soft RLIMIT_NOFILE now.
int DefaultConnectionsPerListener(int listeners);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_LISTENER_CONNECTION_BUDGET_H_
