// StalledReaderReaper: closes the connections of readers that stopped
// reading, and of clients that went silent with no session.
//
// A reader that PLAYs over TCP and never reads costs the server what
// gst-rtsp-server keeps for it (a backlog of up to 100 messages, then it
// drops) plus a full socket buffer, for as long as the connection lives,
// and it still counts as a reader. Real cameras drop such a client; so does
// this: a connection with bytes waiting to be sent whose peer has
// acknowledged nothing for `stall` is closed, and counted.
//
// A connection with no session that has sent nothing for `idle` (a client
// that connected and went quiet, or whose session expired) holds a
// descriptor for nothing: it is closed too.
#ifndef RTSPTEST_CORE_LISTENER_STALLED_READER_REAPER_H_
#define RTSPTEST_CORE_LISTENER_STALLED_READER_REAPER_H_

#include <gst/rtsp-server/rtsp-server.h>

#include <atomic>
#include <cstdint>
#include <unordered_map>

#include "absl/time/time.h"
#include "common/log/rate_limited_log.h"

namespace rtsptest::core {

class StalledReaderReaper {
 public:
  explicit StalledReaderReaper(std::string listener, absl::Duration stall = absl::Seconds(10),
                               absl::Duration idle = absl::Seconds(60));

  // Safe from any thread; applies from the next sweep.
  void set_idle(absl::Duration idle) { idle_ms_.store(absl::ToInt64Milliseconds(idle)); }

  // Looks at every client connection of `server` once and closes those
  // stalled for `stall` by `now`. Call from one thread, about once a second.
  void Sweep(GstRTSPServer* server, absl::Time now);

  // Connections closed so far. Safe from any thread.
  int64_t dropped() const { return dropped_.load(); }
  // Silent connections closed so far. Safe from any thread.
  int64_t idle_closed() const { return idle_closed_.load(); }

 private:
  struct Progress {
    uint64_t acked = 0;  // the peer's acknowledged bytes when last seen to move
    absl::Time since;    // when they last moved (or the queue was empty)
  };

  static GstRTSPFilterResult Visit(GstRTSPServer* server, GstRTSPClient* client, gpointer self);

  const std::string listener_;
  const absl::Duration stall_;
  std::unordered_map<GstRTSPClient*, Progress> progress_;  // of the clients seen last sweep
  std::unordered_map<GstRTSPClient*, Progress> seen_;      // being built by this sweep
  absl::Time now_;
  std::atomic<int64_t> idle_ms_;
  std::atomic<int64_t> dropped_{0};
  std::atomic<int64_t> idle_closed_{0};
  common::RateLimitedLog log_;
  common::RateLimitedLog idle_log_;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_LISTENER_STALLED_READER_REAPER_H_
