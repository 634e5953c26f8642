// Routes GStreamer's and GLib's own messages into the JSON-lines log
// (common/log), so that one stream on stdout holds everything.
//
// Lives in core, not in common/log: the log itself links no GStreamer, so
// that the health gateway and health_probe do not either.
#ifndef RTSPTEST_CORE_GLIB_GST_LOG_ROUTING_H_
#define RTSPTEST_CORE_GLIB_GST_LOG_ROUTING_H_

namespace rtsptest::core {

// Routes GStreamer debug output (WARNING and ERROR) and GLib g_log messages
// (warnings, criticals) into Log(). Call once, after gst_init().
void InstallGstLogRouting();

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_GLIB_GST_LOG_ROUTING_H_
