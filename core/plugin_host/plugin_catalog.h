// The text of --list_plugins: every plugin found in the plugin directories,
// its version, file, description and parameter schema.
#ifndef RTSPTEST_CORE_PLUGIN_HOST_PLUGIN_CATALOG_H_
#define RTSPTEST_CORE_PLUGIN_HOST_PLUGIN_CATALOG_H_

#include <ostream>

#include "core/plugin_host/plugin_loader.h"

namespace rtsptest::core {

// Loads every plugin `loader` can find and writes one block per plugin:
//
//   good 1.0.0 (/usr/lib/rtsp-test-server/plugins/libgood.so)
//     Loader test fixture: a valid plugin
//     fps (int: 1..120, default 30)  frames per second
//     codec (enum: h264|h265|mjpeg, default h264)  unused here
//
// A plugin that fails to load is listed as "<name>: NOT LOADABLE: <why>".
// Returns false, after writing "no plugins found in: <dirs>", when the
// directories hold no plugin at all.
bool WritePluginCatalog(PluginLoader& loader, std::ostream& out);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_PLUGIN_HOST_PLUGIN_CATALOG_H_
