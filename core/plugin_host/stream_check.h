// --check_config's stream check: every configured stream against its plugin,
// without serving anything.
#ifndef RTSPTEST_CORE_PLUGIN_HOST_STREAM_CHECK_H_
#define RTSPTEST_CORE_PLUGIN_HOST_STREAM_CHECK_H_

#include <string>
#include <vector>

#include "core/plugin_host/plugin_loader.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::core {

// For each stream of `config`: loads its plugin, validates the parameters and
// builds the stream's element once, so that a bad pipeline description or a
// missing file fails here rather than at start-up. Returns one message per
// failing stream, in config order, each starting "stream <path>: "; empty
// when every stream can be built. The streams are checked concurrently, one
// thread each, so that plugins whose create blocks cost the create time-out
// (plugin.h) once in all. Needs gst_init().
std::vector<std::string> CheckStreams(const config::v1::ServerConfig& config, PluginLoader& loader);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_PLUGIN_HOST_STREAM_CHECK_H_
