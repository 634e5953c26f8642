// A session pool whose ids are safe to paste anywhere.
//
// gst-rtsp-server draws session ids from RFC 2326's safe characters, which
// include '-', '$', '+' and '.': an id such as "-b8GqEm-Rb3RI.re" reads as a
// flag to rtspctl and to every other command line, and as a pattern to grep.
// Ours are 16 letters and digits (95 bits) from the kernel's random source,
// which is also harder to guess than GLib's g_random.
#ifndef RTSPTEST_CORE_LISTENER_SESSION_IDS_H_
#define RTSPTEST_CORE_LISTENER_SESSION_IDS_H_

#include <gst/rtsp-server/rtsp-session-pool.h>

#include <string>

namespace rtsptest::core {

// A new pool (full reference) that hands out ids from NewSessionId().
GstRTSPSessionPool* NewAlphanumericSessionPool();

// 16 characters from [A-Za-z0-9].
std::string NewSessionId();

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_LISTENER_SESSION_IDS_H_
