// Test support for the testpattern plugin's video track; see
// testpattern_test_util.h.
#include "tests/plugins/testpattern_test_util.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <sys/wait.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include "tests/plugins/plugin_test_util.h"
#include "tests/util/subprocess.h"

namespace rtsptest {
namespace testing {
namespace {

// Shared between the test thread and GStreamer's streaming threads.
struct CaptureState {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<RtpPacket> packets;
  int complete_frames = 0;
  bool done = false;  // EOS or error.
  std::string error;
  int force_key_unit_after_frames = -1;
  GstPad* pay_src = nullptr;  // Unowned; valid while the pipeline runs.
};

// Decodes the RTP header of `data` (RFC 3550 section 5.1).
bool ParseRtp(const uint8_t* data, size_t size, RtpPacket* packet, std::string* error) {
  if (size < 12 || (data[0] >> 6) != 2) {
    *error = "not an RTP version 2 packet";
    return false;
  }
  const bool padding = data[0] & 0x20;
  const bool extension = data[0] & 0x10;
  const size_t csrc_count = data[0] & 0x0f;
  packet->marker = data[1] & 0x80;
  packet->sequence = static_cast<uint16_t>(data[2] << 8 | data[3]);
  packet->timestamp = static_cast<uint32_t>(data[4]) << 24 | data[5] << 16 | data[6] << 8 | data[7];
  size_t begin = 12 + 4 * csrc_count;
  if (extension) {
    if (size < begin + 4) {
      *error = "RTP header extension cut short";
      return false;
    }
    begin += 4 + 4 * static_cast<size_t>(data[begin + 2] << 8 | data[begin + 3]);
  }
  size_t end = size;
  if (padding && size > 0) end -= data[size - 1];
  if (begin > end) {
    *error = "RTP packet shorter than its header";
    return false;
  }
  packet->payload.assign(data + begin, data + end);
  return true;
}

GstFlowReturn OnSample(GstAppSink* sink, gpointer user_data) {
  auto* state = static_cast<CaptureState*>(user_data);
  GstSample* sample = gst_app_sink_pull_sample(sink);
  if (sample == nullptr) return GST_FLOW_EOS;
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  GstMapInfo map;
  RtpPacket packet;
  std::string error;
  bool ok = false;
  if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    ok = ParseRtp(map.data, map.size, &packet, &error);
    gst_buffer_unmap(buffer, &map);
  } else {
    error = "cannot map an RTP buffer";
  }
  gst_sample_unref(sample);
  bool force_key_unit = false;
  {
    std::lock_guard<std::mutex> lock(state->mutex);
    if (!ok) {
      if (state->error.empty()) state->error = error;
      state->done = true;
    } else {
      if (packet.marker && ++state->complete_frames == state->force_key_unit_after_frames) {
        force_key_unit = true;
      }
      state->packets.push_back(std::move(packet));
    }
  }
  if (!ok) state->changed.notify_all();
  // Sent from this streaming thread, between two frames, so that the frame
  // count at which the encoder gets the request does not depend on thread
  // scheduling. The encoder only queues the request here; its stream lock
  // (held by this thread) is recursive anyway.
  if (force_key_unit) {
    gst_pad_send_event(state->pay_src,
                       gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  }
  return ok ? GST_FLOW_OK : GST_FLOW_ERROR;
}

GstBusSyncReply OnMessage(GstBus* bus, GstMessage* message, gpointer user_data) {
  auto* state = static_cast<CaptureState*>(user_data);
  std::string error;
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    error = ErrorMessageText(message);
  } else if (GST_MESSAGE_TYPE(message) != GST_MESSAGE_EOS) {
    return GST_BUS_DROP;
  }
  {
    std::lock_guard<std::mutex> lock(state->mutex);
    if (state->error.empty()) state->error = error;
    state->done = true;
  }
  state->changed.notify_all();
  return GST_BUS_DROP;
}

int NalType(VideoCodec codec, uint8_t first_byte) {
  return codec == VideoCodec::kH264 ? first_byte & 0x1f : (first_byte >> 1) & 0x3f;
}

// Appends the NAL units of one aggregation packet (STAP-A or AP) whose
// aggregated units start at `offset`.
bool Unaggregate(VideoCodec codec, const std::vector<uint8_t>& payload, size_t offset,
                 std::vector<NalUnit>* nals, std::string* error) {
  while (offset < payload.size()) {
    if (offset + 2 > payload.size()) {
      *error = "aggregation packet: size field cut short";
      return false;
    }
    const size_t size = payload[offset] << 8 | payload[offset + 1];
    offset += 2;
    if (size == 0 || offset + size > payload.size()) {
      *error = "aggregation packet: NAL unit size " + std::to_string(size) + " does not fit";
      return false;
    }
    NalUnit nal;
    nal.type = NalType(codec, payload[offset]);
    nal.bytes.assign(payload.begin() + offset, payload.begin() + offset + size);
    nals->push_back(std::move(nal));
    offset += size;
  }
  return true;
}

}  // namespace

CaptureResult CapturePay0(GstElement* bin, const CaptureOptions& options) {
  CaptureResult result;
  CaptureState state;
  state.force_key_unit_after_frames = options.force_key_unit_after_frames;

  GstElement* pipeline = gst_pipeline_new("capture");
  gst_bin_add(GST_BIN(pipeline), bin);  // Takes over the caller's reference.
  GstElement* source = gst_bin_get_by_name(GST_BIN(bin), "source");
  GstElement* pay = gst_bin_get_by_name(GST_BIN(bin), "pay0");
  if (source == nullptr || pay == nullptr) {
    result.error = "the bin has no element named source or pay0";
  } else {
    g_object_set(source, "num-buffers", options.frames, "is-live", options.live ? TRUE : FALSE,
                 "timestamp-offset", static_cast<gint64>(options.first_pts), nullptr);
    GstElement* sink = gst_element_factory_make("appsink", "sink");
    g_object_set(sink, "sync", FALSE, nullptr);
    gst_bin_add(GST_BIN(pipeline), sink);
    // pay0 is inside the plugin's bin: expose its src pad with a ghost pad,
    // as a pad cannot link across a bin boundary directly.
    GstPad* pay_src = gst_element_get_static_pad(pay, "src");
    GstPad* ghost = gst_ghost_pad_new("src_pay0", pay_src);
    gst_pad_set_active(ghost, TRUE);
    gst_element_add_pad(bin, ghost);
    GstPad* sink_pad = gst_element_get_static_pad(sink, "sink");
    if (gst_pad_link(ghost, sink_pad) != GST_PAD_LINK_OK) {
      result.error = "cannot link pay0 to the appsink";
    }
    gst_object_unref(sink_pad);
    state.pay_src = pay_src;
    gst_object_unref(pay_src);  // The element keeps its pad alive.
    GstAppSinkCallbacks callbacks = {};
    callbacks.new_sample = OnSample;
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, &state, nullptr);
  }
  if (source != nullptr) gst_object_unref(source);
  if (pay != nullptr) gst_object_unref(pay);

  GstBus* bus = gst_element_get_bus(pipeline);
  gst_bus_set_sync_handler(bus, OnMessage, &state, nullptr);
  if (result.error.empty()) {
    if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      std::lock_guard<std::mutex> lock(state.mutex);
      if (state.error.empty()) state.error = "cannot set the pipeline to PLAYING";
      state.done = true;
    }
    std::unique_lock<std::mutex> lock(state.mutex);
    if (!state.changed.wait_for(lock, std::chrono::nanoseconds(options.timeout),
                                [&state] { return state.done; })) {
      result.error = "timed out after " + std::to_string(state.complete_frames) + " frames";
    } else {
      result.error = state.error;
    }
  }
  // NULL joins every streaming thread, so nothing touches `state` afterwards.
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  result.ok = result.error.empty();
  result.packets = std::move(state.packets);
  return result;
}

bool DepayloadFrames(VideoCodec codec, const std::vector<RtpPacket>& packets,
                     std::vector<RtpFrame>* frames, std::string* error) {
  const bool h264 = codec == VideoCodec::kH264;
  const int aggregate = h264 ? 24 : 48;  // STAP-A / AP
  const int fragment = h264 ? 28 : 49;   // FU-A / FU
  const size_t header_size = h264 ? 1 : 2;
  NalUnit partial;  // The fragmented NAL unit being put together.
  bool in_fragment = false;
  frames->clear();
  for (size_t i = 0; i < packets.size(); ++i) {
    const RtpPacket& packet = packets[i];
    const std::string where = "packet " + std::to_string(i) + ": ";
    if (frames->empty() || frames->back().timestamp != packet.timestamp) {
      if (in_fragment) {
        *error = where + "a new timestamp before the end of a fragmented NAL";
        return false;
      }
      frames->push_back(RtpFrame{});
      frames->back().timestamp = packet.timestamp;
    }
    RtpFrame& frame = frames->back();
    frame.markers.push_back(packet.marker);
    frame.payload_bytes += packet.payload.size();
    const std::vector<uint8_t>& payload = packet.payload;
    if (payload.size() < header_size) {
      *error = where + "empty payload";
      return false;
    }
    const int type = NalType(codec, payload[0]);
    if (type == aggregate) {
      if (!Unaggregate(codec, payload, header_size, &frame.nals, error)) {
        *error = where + *error;
        return false;
      }
    } else if (type == fragment) {
      if (payload.size() < header_size + 2) {
        *error = where + "fragment without data";
        return false;
      }
      const uint8_t fu_header = payload[header_size];
      const bool start = fu_header & 0x80;
      const bool end = fu_header & 0x40;
      if (start == in_fragment) {
        *error =
            where + (start ? "fragment start inside a fragmented NAL" : "fragment without a start");
        return false;
      }
      if (start) {
        partial = NalUnit{};
        if (h264) {
          partial.type = fu_header & 0x1f;
          partial.bytes.push_back((payload[0] & 0xe0) | partial.type);
        } else {
          partial.type = fu_header & 0x3f;
          partial.bytes.push_back((payload[0] & 0x81) | partial.type << 1);
          partial.bytes.push_back(payload[1]);
        }
        in_fragment = true;
      }
      partial.bytes.insert(partial.bytes.end(), payload.begin() + header_size + 1, payload.end());
      if (end) {
        frame.nals.push_back(std::move(partial));
        in_fragment = false;
      }
    } else if ((h264 && type >= 1 && type <= 23) || (!h264 && type < 48)) {
      NalUnit nal;
      nal.type = type;
      nal.bytes = payload;
      frame.nals.push_back(std::move(nal));
    } else {
      *error = where + "unsupported payload type " + std::to_string(type);
      return false;
    }
  }
  if (in_fragment) {
    *error = "the stream ends inside a fragmented NAL unit";
    return false;
  }
  return true;
}

bool IsSlice(VideoCodec codec, const NalUnit& nal) {
  return codec == VideoCodec::kH264 ? nal.type >= 1 && nal.type <= 5 : nal.type <= 31;
}

bool StartsPicture(VideoCodec codec, const NalUnit& nal) {
  if (!IsSlice(codec, nal)) return false;
  // H.264: first_mb_in_slice is ue(v) right after the 1-byte header, and is
  // 0 exactly when its first bit is 1. H.265: the flag is the first bit
  // after the 2-byte header.
  const size_t at = codec == VideoCodec::kH264 ? 1 : 2;
  return nal.bytes.size() > at && (nal.bytes[at] & 0x80) != 0;
}

bool IsRandomAccessSlice(VideoCodec codec, const NalUnit& nal) {
  return codec == VideoCodec::kH264 ? nal.type == 5 : nal.type >= 16 && nal.type <= 23;
}

bool IsParameterSet(VideoCodec codec, const NalUnit& nal) {
  return codec == VideoCodec::kH264 ? nal.type == 7 || nal.type == 8
                                    : nal.type >= 32 && nal.type <= 34;
}

bool IsSei(VideoCodec codec, const NalUnit& nal) {
  return codec == VideoCodec::kH264 ? nal.type == 6 : nal.type == 39 || nal.type == 40;
}

bool ParseSeiPayloadTypes(VideoCodec codec, const NalUnit& nal, std::vector<int>* types) {
  // The RBSP: the payload after the NAL header, emulation prevention bytes
  // (00 00 03) removed.
  std::vector<uint8_t> rbsp;
  int zeros = 0;
  for (size_t i = codec == VideoCodec::kH264 ? 1 : 2; i < nal.bytes.size(); ++i) {
    const uint8_t byte = nal.bytes[i];
    if (zeros >= 2 && byte == 3) {
      zeros = 0;
      continue;
    }
    zeros = byte == 0 ? zeros + 1 : 0;
    rbsp.push_back(byte);
  }
  types->clear();
  size_t pos = 0;
  // Reads one ff_byte-coded number (payloadType or payloadSize).
  auto read_number = [&rbsp, &pos](size_t* value) {
    *value = 0;
    while (pos < rbsp.size() && rbsp[pos] == 0xff) {
      *value += 255;
      ++pos;
    }
    if (pos >= rbsp.size()) return false;
    *value += rbsp[pos++];
    return true;
  };
  while (true) {
    if (pos + 1 == rbsp.size() && rbsp[pos] == 0x80) return true;
    size_t type, size;
    if (!read_number(&type) || !read_number(&size) || pos + size > rbsp.size()) {
      return false;
    }
    types->push_back(static_cast<int>(type));
    pos += size;
  }
}

std::vector<int> ParameterSetTypes(VideoCodec codec) {
  return codec == VideoCodec::kH264 ? std::vector<int>{7, 8} : std::vector<int>{32, 33, 34};
}

std::vector<uint8_t> AnnexB(const std::vector<RtpFrame>& frames) {
  std::vector<uint8_t> stream;
  for (const RtpFrame& frame : frames) {
    for (const NalUnit& nal : frame.nals) {
      stream.insert(stream.end(), {0, 0, 0, 1});
      stream.insert(stream.end(), nal.bytes.begin(), nal.bytes.end());
    }
  }
  return stream;
}

CommandResult RunCommand(const std::string& command) {
  auto [output, status] = RunShell(command + " 2>&1");
  CommandResult result;
  result.output = std::move(output);
  result.exit_code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string WriteTempFile(const std::string& name, const std::vector<uint8_t>& bytes) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return path;
}

}  // namespace testing
}  // namespace rtsptest
