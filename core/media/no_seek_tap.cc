// NoSeekTap: an upstream-query probe per track.
#include "core/media/no_seek_tap.h"

namespace rtsptest::core {
namespace {

GstPadProbeReturn RefuseSeeking(GstPad*, GstPadProbeInfo* info, gpointer) {
  GstQuery* query = GST_PAD_PROBE_INFO_QUERY(info);
  if (GST_QUERY_TYPE(query) != GST_QUERY_SEEKING) return GST_PAD_PROBE_OK;
  GstFormat format = GST_FORMAT_TIME;
  gst_query_parse_seeking(query, &format, nullptr, nullptr, nullptr);
  gst_query_set_seeking(query, format, FALSE, 0, -1);
  return GST_PAD_PROBE_HANDLED;
}

}  // namespace

void NoSeekTap::Install(GstRTSPMedia* media) {
  ForEachTrackPad(media, [](guint, GstPad* pad) {
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM, &RefuseSeeking, nullptr, nullptr);
  });
}

}  // namespace rtsptest::core
