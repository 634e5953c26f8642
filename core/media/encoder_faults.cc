// Picture faults (freeze, black) and the bitrate spike.
#include "core/media/encoder_faults.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/glib/gst_ptr.h"
#include "core/media/pad_probe.h"

namespace rtsptest::core {
namespace {

void FillPlane(GstVideoFrame* frame, int plane, uint8_t value) {
  auto* data = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(frame, plane));
  const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(frame, plane);
  const int rows = GST_VIDEO_FRAME_COMP_HEIGHT(frame, plane);
  for (int row = 0; row < rows; ++row) std::memset(data + row * stride, value, stride);
}

// Repeats `pattern` (`size` bytes) over every row of packed plane 0.
void FillPacked(GstVideoFrame* frame, const uint8_t* pattern, int size) {
  auto* data = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(frame, 0));
  const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(frame, 0);
  for (int row = 0; row < GST_VIDEO_FRAME_HEIGHT(frame); ++row) {
    uint8_t* line = data + row * stride;
    for (int i = 0; i + size <= stride; i += size) std::memcpy(line + i, pattern, size);
  }
}

}  // namespace

absl::Status CheckBlackPaintable(GstVideoFormat format) {
  switch (format) {
    case GST_VIDEO_FORMAT_I420:
    case GST_VIDEO_FORMAT_YV12:
    case GST_VIDEO_FORMAT_Y42B:
    case GST_VIDEO_FORMAT_Y444:
    case GST_VIDEO_FORMAT_NV12:
    case GST_VIDEO_FORMAT_NV21:
    case GST_VIDEO_FORMAT_NV16:
    case GST_VIDEO_FORMAT_YUY2:
    case GST_VIDEO_FORMAT_YVYU:
    case GST_VIDEO_FORMAT_UYVY:
    case GST_VIDEO_FORMAT_RGB:
    case GST_VIDEO_FORMAT_BGR:
    case GST_VIDEO_FORMAT_RGBx:
    case GST_VIDEO_FORMAT_BGRx:
    case GST_VIDEO_FORMAT_xRGB:
    case GST_VIDEO_FORMAT_xBGR:
    case GST_VIDEO_FORMAT_RGBA:
    case GST_VIDEO_FORMAT_BGRA:
    case GST_VIDEO_FORMAT_ARGB:
    case GST_VIDEO_FORMAT_ABGR:
    case GST_VIDEO_FORMAT_GRAY8:
    case GST_VIDEO_FORMAT_GRAY16_LE:
    case GST_VIDEO_FORMAT_GRAY16_BE:
      return absl::OkStatus();
    default:
      return absl::FailedPreconditionError(absl::StrCat(
          "black: raw video format ", gst_video_format_to_string(format), " is not supported"));
  }
}

absl::Status PaintBlack(GstVideoFrame* frame) {
  const GstVideoFormat format = GST_VIDEO_FRAME_FORMAT(frame);
  absl::Status paintable = CheckBlackPaintable(format);
  if (!paintable.ok()) return paintable;
  const GstVideoFormatInfo* info = frame->info.finfo;
  if (GST_VIDEO_FORMAT_INFO_IS_YUV(info) && !GST_VIDEO_FORMAT_INFO_IS_GRAY(info)) {
    if (format == GST_VIDEO_FORMAT_YUY2 || format == GST_VIDEO_FORMAT_YVYU) {
      const uint8_t pattern[] = {16, 128, 16, 128};
      FillPacked(frame, pattern, 4);
    } else if (format == GST_VIDEO_FORMAT_UYVY) {
      const uint8_t pattern[] = {128, 16, 128, 16};
      FillPacked(frame, pattern, 4);
    } else {
      FillPlane(frame, 0, 16);
      for (guint plane = 1; plane < GST_VIDEO_FRAME_N_PLANES(frame); ++plane) {
        FillPlane(frame, plane, 128);
      }
    }
    return absl::OkStatus();
  }
  if (GST_VIDEO_FORMAT_INFO_IS_GRAY(info)) {
    FillPlane(frame, 0, 0);
    return absl::OkStatus();
  }
  // RGB family: all zero, then alpha (if any) opaque.
  FillPlane(frame, 0, 0);
  if (GST_VIDEO_FORMAT_INFO_HAS_ALPHA(info)) {
    const int alpha = GST_VIDEO_COMP_A;
    auto* data = static_cast<uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(frame, alpha));
    const int stride = GST_VIDEO_FRAME_COMP_STRIDE(frame, alpha);
    const int pixel = GST_VIDEO_FRAME_COMP_PSTRIDE(frame, alpha);
    for (int row = 0; row < GST_VIDEO_FRAME_HEIGHT(frame); ++row) {
      for (int x = 0; x < GST_VIDEO_FRAME_WIDTH(frame); ++x) data[row * stride + x * pixel] = 255;
    }
  }
  return absl::OkStatus();
}

namespace {

// A new black frame of `info`, or null if its format cannot be painted.
GstBuffer* NewBlackFrame(const GstVideoInfo& info) {
  if (!CheckBlackPaintable(GST_VIDEO_INFO_FORMAT(&info)).ok()) return nullptr;
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, const_cast<GstVideoInfo*>(&info), buffer, GST_MAP_WRITE)) {
    gst_buffer_unref(buffer);
    return nullptr;
  }
  absl::Status painted = PaintBlack(&frame);
  gst_video_frame_unmap(&frame);
  if (!painted.ok()) {
    gst_buffer_unref(buffer);
    return nullptr;
  }
  return buffer;
}

// What the picture probe keeps: the fixed picture. Streaming thread only,
// but the mutex makes the (rare) caps change and the destructor safe.
struct PictureState {
  PictureMode mode;
  absl::Mutex mu;
  GstBuffer* picture ABSL_GUARDED_BY(mu) = nullptr;  // owned
  bool take_next ABSL_GUARDED_BY(mu) = false;        // freeze: keep the next frame

  ~PictureState() {
    if (picture != nullptr) gst_buffer_unref(picture);
  }

  void SetPicture(GstBuffer* buffer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (picture != nullptr) gst_buffer_unref(picture);
    picture = buffer;
  }

  GstPadProbeReturn OnData(GstPadProbeInfo* info) {
    absl::MutexLock lock(&mu);
    if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
      GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
      if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
      GstCaps* caps = nullptr;
      gst_event_parse_caps(event, &caps);
      GstVideoInfo video;
      if (mode == PictureMode::kFreeze) {
        SetPicture(nullptr);
        take_next = true;
      } else {
        // A format that cannot be painted passes unchanged until the next.
        SetPicture(gst_video_info_from_caps(&video, caps) ? NewBlackFrame(video) : nullptr);
      }
      return GST_PAD_PROBE_OK;
    }
    GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    if (take_next) {
      // A deep copy: keeping the frame itself would keep it from its pool.
      SetPicture(gst_buffer_copy_deep(buffer));
      take_next = false;
      return GST_PAD_PROBE_OK;
    }
    if (picture == nullptr) return GST_PAD_PROBE_OK;
    // Shares the picture's memory; the encoder only reads it.
    GstBuffer* out = gst_buffer_copy(picture);
    // The frame's timing (PTS, DTS, duration, offsets) and flags.
    gst_buffer_copy_into(
        out, buffer,
        static_cast<GstBufferCopyFlags>(GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_TIMESTAMPS), 0,
        static_cast<gsize>(-1));
    gst_buffer_unref(buffer);
    GST_PAD_PROBE_INFO_DATA(info) = out;
    return GST_PAD_PROBE_OK;
  }
};

class PictureFault : public ActiveFault {
 public:
  PictureFault(GstPad* pad, std::shared_ptr<PictureState> state)
      : probe_(pad,
               static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER |
                                            GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
               [state](GstPad*, GstPadProbeInfo* info) { return state->OnData(info); }) {}

 private:
  PadProbe probe_;
};

std::string FactoryName(GstElement* element) {
  GstElementFactory* factory = gst_element_get_factory(element);
  return factory != nullptr ? GST_OBJECT_NAME(factory) : GST_OBJECT_NAME(element);
}

class BitrateSpike : public ActiveFault {
 public:
  BitrateSpike(GstElement* encoder, GValue original)
      : encoder_(GST_ELEMENT(gst_object_ref(encoder))), original_(original) {}
  ~BitrateSpike() override {
    g_object_set_property(G_OBJECT(encoder_.get()), "bitrate", &original_);
    g_value_unset(&original_);
  }

 private:
  GstPtr<GstElement> encoder_;
  GValue original_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ActiveFault>> StartPictureFault(GstElement* encoder,
                                                               PictureMode mode) {
  GstPtr<GstPad> pad(gst_element_get_static_pad(encoder, "sink"));
  if (pad == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("encoder ", GST_OBJECT_NAME(encoder), " has no sink pad"));
  }
  GstCaps* caps = gst_pad_get_current_caps(pad.get());
  GstVideoInfo video;
  const bool raw = caps != nullptr && gst_video_info_from_caps(&video, caps);
  if (caps != nullptr) gst_caps_unref(caps);
  if (!raw) {
    return absl::FailedPreconditionError(
        absl::StrCat("encoder ", GST_OBJECT_NAME(encoder), " has no raw video caps yet"));
  }
  auto state = std::make_shared<PictureState>();
  state->mode = mode;
  {
    absl::MutexLock lock(&state->mu);
    if (mode == PictureMode::kBlack) {
      absl::Status paintable = CheckBlackPaintable(GST_VIDEO_INFO_FORMAT(&video));
      if (!paintable.ok()) return paintable;
      state->SetPicture(NewBlackFrame(video));
      if (state->picture == nullptr) {
        return absl::InternalError("black: could not allocate a black frame");
      }
    } else {
      state->take_next = true;
    }
  }
  return std::make_unique<PictureFault>(pad.get(), std::move(state));
}

absl::StatusOr<std::unique_ptr<ActiveFault>> StartBitrateSpike(GstElement* encoder, double factor) {
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(encoder), "bitrate");
  const bool writable = spec != nullptr && (spec->flags & G_PARAM_WRITABLE);
  if (!writable || (spec->value_type != G_TYPE_UINT && spec->value_type != G_TYPE_INT)) {
    return absl::FailedPreconditionError(
        absl::StrCat("bitrate_spike: encoder ", FactoryName(encoder), " has no bitrate property"));
  }
  if (!(spec->flags & GST_PARAM_MUTABLE_PLAYING)) {
    return absl::FailedPreconditionError(absl::StrCat("bitrate_spike: encoder ",
                                                      FactoryName(encoder),
                                                      " cannot change its bitrate while playing"));
  }
  // x264 keeps its rate (VBV) fixed while it signals HRD parameters: the
  // property would change and the stream would not (testpattern's cbr).
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(encoder), "option-string") != nullptr) {
    gchar* options = nullptr;
    g_object_get(encoder, "option-string", &options, nullptr);
    const bool hrd = options != nullptr && std::strstr(options, "nal-hrd=") != nullptr &&
                     std::strstr(options, "nal-hrd=none") == nullptr;
    g_free(options);
    if (hrd) {
      return absl::FailedPreconditionError(
          absl::StrCat("bitrate_spike: encoder ", FactoryName(encoder),
                       " signals HRD (nal-hrd, constant bitrate), which fixes its rate while "
                       "encoding; use variable bitrate (e.g. rate_control=vbr)"));
    }
  }
  GValue original = G_VALUE_INIT;
  g_value_init(&original, spec->value_type);
  g_object_get_property(G_OBJECT(encoder), "bitrate", &original);
  if (spec->value_type == G_TYPE_UINT) {
    const guint max = G_PARAM_SPEC_UINT(spec)->maximum;
    const double spiked = std::ceil(g_value_get_uint(&original) * factor);
    g_object_set(encoder, "bitrate", static_cast<guint>(std::min<double>(spiked, max)), nullptr);
  } else {
    const gint max = G_PARAM_SPEC_INT(spec)->maximum;
    const double spiked = std::ceil(g_value_get_int(&original) * factor);
    g_object_set(encoder, "bitrate", static_cast<gint>(std::min<double>(spiked, max)), nullptr);
  }
  return std::make_unique<BitrateSpike>(encoder, original);
}

}  // namespace rtsptest::core
