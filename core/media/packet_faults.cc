// Stall, drop, jitter, reorder and bandwidth faults.
#include "core/media/packet_faults.h"

#include <gst/rtp/gstrtpbuffer.h>
#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "core/media/pad_probe.h"

namespace rtsptest::core {
namespace {

constexpr auto kDataProbe =
    static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST);

// A random source several streaming threads share.
class SharedRandom {
 public:
  // Uniform in [0, 1).
  double Next() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return std::uniform_real_distribution<double>(0, 1)(engine_);
  }

 private:
  absl::Mutex mu_;
  std::mt19937_64 engine_ ABSL_GUARDED_BY(mu_){std::random_device{}()};
};

// Faults made of one probe per track and nothing else to undo.
class ProbesFault : public ActiveFault {
 public:
  explicit ProbesFault(std::function<void()> on_stop = nullptr) : on_stop_(std::move(on_stop)) {}
  ~ProbesFault() override {
    // First wake probes that are holding packets back, then remove them.
    if (on_stop_) on_stop_();
    probes_.clear();
  }
  void Add(GstPad* pad, PadProbe::Fn fn) {
    probes_.push_back(std::make_unique<PadProbe>(pad, kDataProbe, std::move(fn)));
  }

 private:
  std::function<void()> on_stop_;
  std::vector<std::unique_ptr<PadProbe>> probes_;
};

// --- stall ------------------------------------------------------------------

struct StallTrack {
  std::atomic<bool> resuming{false};
};

bool IsKeyFrame(GstBuffer* buffer) {
  return !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
}

class StallFault : public ActiveFault {
 public:
  explicit StallFault(const std::vector<FaultPoints::Track>& tracks) {
    for (const FaultPoints::Track& track : tracks) {
      auto state = std::make_shared<StallTrack>();
      states_.push_back(state);
      sinks_.push_back(GstPtr<GstPad>(GST_PAD(gst_object_ref(track.sink.get()))));
      probes_.push_back(std::make_unique<PadProbe>(
          track.sink.get(), kDataProbe, [state](GstPad*, GstPadProbeInfo* info) {
            if (!state->resuming.load()) return GST_PAD_PROBE_DROP;
            bool key = false;
            if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
              key = IsKeyFrame(GST_PAD_PROBE_INFO_BUFFER(info));
            } else {
              GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
              key = gst_buffer_list_length(list) > 0 && IsKeyFrame(gst_buffer_list_get(list, 0));
            }
            // The key frame passes, and with it everything after: done.
            return key ? GST_PAD_PROBE_REMOVE : GST_PAD_PROBE_DROP;
          }));
    }
  }
  // Resumes at a key frame: the probes stay until one passes.
  ~StallFault() override {
    for (size_t i = 0; i < states_.size(); ++i) {
      states_[i]->resuming.store(true);
      probes_[i]->Release();
      gst_pad_push_event(sinks_[i].get(),
                         gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
    }
  }

 private:
  std::vector<std::shared_ptr<StallTrack>> states_;
  std::vector<GstPtr<GstPad>> sinks_;
  std::vector<std::unique_ptr<PadProbe>> probes_;
};

// --- jitter -----------------------------------------------------------------

struct JitterTrack {
  JitterTrack(GstElement* payloader, absl::Duration spread, std::shared_ptr<SharedRandom> random,
              std::shared_ptr<Interruptible> sleep)
      : clock(gst_element_get_clock(payloader)),
        base_time(gst_element_get_base_time(payloader)),
        spread(spread),
        random(std::move(random)),
        sleep(std::move(sleep)) {}
  ~JitterTrack() {
    if (clock != nullptr) gst_object_unref(clock);
  }

  // Streaming thread only.
  GstPadProbeReturn OnItem(GstPad* pad, GstPadProbeInfo* info) {
    GstBuffer* first = (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER)
                           ? GST_PAD_PROBE_INFO_BUFFER(info)
                           : gst_buffer_list_get(GST_PAD_PROBE_INFO_BUFFER_LIST(info), 0);
    if (clock == nullptr || first == nullptr || !GST_BUFFER_PTS_IS_VALID(first)) {
      return GST_PAD_PROBE_OK;
    }
    GstEvent* segment_event = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
    if (segment_event == nullptr) return GST_PAD_PROBE_OK;
    const GstSegment* segment = nullptr;
    gst_event_parse_segment(segment_event, &segment);
    const GstClockTime running =
        gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(first));
    gst_event_unref(segment_event);
    if (!GST_CLOCK_TIME_IS_VALID(running)) return GST_PAD_PROBE_OK;
    const auto now = static_cast<int64_t>(gst_clock_get_time(clock));
    const int64_t due = static_cast<int64_t>(base_time + running);
    // The smallest lag seen is the pipeline's own: what is added to it is
    // the fault's.
    lag = std::min(lag, now - due);
    const int64_t target =
        due + lag + static_cast<int64_t>(random->Next() * absl::ToInt64Nanoseconds(spread));
    if (target > now) sleep->SleepUntil(absl::Now() + absl::Nanoseconds(target - now));
    return GST_PAD_PROBE_OK;
  }

  GstClock* clock;  // owned reference, or null
  const GstClockTime base_time;
  const absl::Duration spread;
  const std::shared_ptr<SharedRandom> random;
  const std::shared_ptr<Interruptible> sleep;
  int64_t lag = INT64_MAX;
};

// --- reorder ----------------------------------------------------------------

bool HasMarker(GstBuffer* buffer) {
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) return true;
  const bool marker = gst_rtp_buffer_get_marker(&rtp);
  gst_rtp_buffer_unmap(&rtp);
  return marker;
}

struct ReorderTrack {
  explicit ReorderTrack(GstPad* src) : peer(gst_pad_get_peer(src)) {}
  ~ReorderTrack() {
    if (held != nullptr) gst_buffer_unref(held);
    if (peer != nullptr) gst_object_unref(peer);
  }

  // Passes `buffer` (owned) on to the next pad, past this probe.
  void SendNow(GstBuffer* buffer) {
    if (peer != nullptr) {
      gst_pad_chain(peer, buffer);
    } else {
      gst_buffer_unref(buffer);
    }
  }

  GstPadProbeReturn OnItem(GstPadProbeInfo* info) {
    GstBuffer* earlier = nullptr;
    bool stop;
    {
      absl::MutexLock lock(&mu);
      earlier = held;
      held = nullptr;
      stop = stopping;
    }
    if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
      GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
      if (earlier != nullptr) {
        // The later packet first, then the held one in its place.
        SendNow(gst_buffer_ref(buffer));
        gst_buffer_unref(buffer);
        GST_PAD_PROBE_INFO_DATA(info) = earlier;
        return GST_PAD_PROBE_OK;
      }
      if (stop || HasMarker(buffer)) return GST_PAD_PROBE_OK;
      absl::MutexLock lock(&mu);
      held = gst_buffer_ref(buffer);
      return GST_PAD_PROBE_DROP;  // unrefs the probe's reference only
    }
    if (earlier != nullptr) SendNow(earlier);
    if (stop) return GST_PAD_PROBE_OK;
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    const guint n = gst_buffer_list_length(list);
    if (n < 2) return GST_PAD_PROBE_OK;
    GstBufferList* swapped = gst_buffer_list_new_sized(n);
    for (guint i = 0; i < n; i += 2) {
      if (i + 1 < n) gst_buffer_list_add(swapped, gst_buffer_ref(gst_buffer_list_get(list, i + 1)));
      gst_buffer_list_add(swapped, gst_buffer_ref(gst_buffer_list_get(list, i)));
    }
    gst_buffer_list_unref(list);
    GST_PAD_PROBE_INFO_DATA(info) = swapped;
    return GST_PAD_PROBE_OK;
  }

  // Stops holding; waits (bounded) for a held packet to be sent on by the
  // next one, so that stopping loses nothing in a flowing stream.
  void Stop() {
    absl::MutexLock lock(&mu);
    stopping = true;
    mu.AwaitWithTimeout(absl::Condition(
                            +[](GstBuffer** held) { return *held == nullptr; }, &held),
                        absl::Milliseconds(100));
  }

  GstPad* peer;  // owned reference, or null
  absl::Mutex mu;
  GstBuffer* held ABSL_GUARDED_BY(mu) = nullptr;  // owned
  bool stopping ABSL_GUARDED_BY(mu) = false;
};

// --- bandwidth --------------------------------------------------------------

class TokenBucket {
 public:
  explicit TokenBucket(int kbps)
      : bytes_per_second_(kbps * 1000.0 / 8),
        burst_(std::max(1500.0, bytes_per_second_ * 0.05)),
        tokens_(burst_),
        last_(absl::Now()) {}

  // Takes `bytes` if they are available within `max_wait`: true, and when
  // to send them in `*send_at`; false if the packet must be dropped.
  bool Take(size_t bytes, absl::Duration max_wait, absl::Time* send_at) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    tokens_ = std::min(burst_, tokens_ + absl::ToDoubleSeconds(now - last_) * bytes_per_second_);
    last_ = now;
    const double after = tokens_ - static_cast<double>(bytes);
    const absl::Duration wait =
        after >= 0 ? absl::ZeroDuration() : absl::Seconds(-after / bytes_per_second_);
    if (wait > max_wait) return false;
    tokens_ = after;
    *send_at = now + wait;
    return true;
  }

 private:
  const double bytes_per_second_;
  const double burst_;
  absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);  // negative: bytes promised ahead of the rate
  absl::Time last_ ABSL_GUARDED_BY(mu_);
};

constexpr absl::Duration kMaxQueue = absl::Milliseconds(200);

}  // namespace

std::unique_ptr<ActiveFault> StartStall(const std::vector<FaultPoints::Track>& tracks) {
  return std::make_unique<StallFault>(tracks);
}

std::unique_ptr<ActiveFault> StartDrop(const std::vector<FaultPoints::Track>& tracks,
                                       double percent) {
  auto random = std::make_shared<SharedRandom>();
  const double share = percent / 100;
  auto fault = std::make_unique<ProbesFault>();
  for (const FaultPoints::Track& track : tracks) {
    fault->Add(track.src.get(), [random, share](GstPad*, GstPadProbeInfo* info) {
      return FilterPackets(info, [&](GstBuffer*) { return random->Next() >= share; });
    });
  }
  return fault;
}

std::unique_ptr<ActiveFault> StartJitter(const std::vector<FaultPoints::Track>& tracks,
                                         absl::Duration spread) {
  auto random = std::make_shared<SharedRandom>();
  auto sleep = std::make_shared<Interruptible>();
  auto fault = std::make_unique<ProbesFault>([sleep] { sleep->Cancel(); });
  for (const FaultPoints::Track& track : tracks) {
    GstPtr<GstElement> payloader(gst_pad_get_parent_element(track.src.get()));
    if (payloader == nullptr) continue;
    auto state = std::make_shared<JitterTrack>(payloader.get(), spread, random, sleep);
    fault->Add(track.src.get(),
               [state](GstPad* pad, GstPadProbeInfo* info) { return state->OnItem(pad, info); });
  }
  return fault;
}

std::unique_ptr<ActiveFault> StartReorder(const std::vector<FaultPoints::Track>& tracks) {
  auto states = std::make_shared<std::vector<std::shared_ptr<ReorderTrack>>>();
  for (const FaultPoints::Track& track : tracks) {
    states->push_back(std::make_shared<ReorderTrack>(track.src.get()));
  }
  auto fault = std::make_unique<ProbesFault>([states] {
    for (const auto& state : *states) state->Stop();
  });
  for (size_t i = 0; i < tracks.size(); ++i) {
    std::shared_ptr<ReorderTrack> state = (*states)[i];
    fault->Add(tracks[i].src.get(),
               [state](GstPad*, GstPadProbeInfo* info) { return state->OnItem(info); });
  }
  return fault;
}

std::unique_ptr<ActiveFault> StartBandwidth(const std::vector<FaultPoints::Track>& tracks,
                                            int kbps) {
  auto bucket = std::make_shared<TokenBucket>(kbps);
  auto sleep = std::make_shared<Interruptible>();
  auto fault = std::make_unique<ProbesFault>([sleep] { sleep->Cancel(); });
  for (const FaultPoints::Track& track : tracks) {
    fault->Add(track.src.get(), [bucket, sleep](GstPad*, GstPadProbeInfo* info) {
      absl::Time send_at = absl::InfinitePast();
      GstPadProbeReturn result = FilterPackets(info, [&](GstBuffer* buffer) {
        absl::Time at;
        if (!bucket->Take(gst_buffer_get_size(buffer), kMaxQueue, &at)) return false;
        send_at = std::max(send_at, at);
        return true;
      });
      if (result == GST_PAD_PROBE_OK && send_at > absl::Now()) sleep->SleepUntil(send_at);
      return result;
    });
  }
  return fault;
}

}  // namespace rtsptest::core
