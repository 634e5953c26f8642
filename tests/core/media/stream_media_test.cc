// StreamMedia: the factory's configure installs the track taps on the media
// it constructs, the keeper starts it, and a builder failure is reported.
// Real GStreamer, no listener needed.
#include "core/media/stream_media.h"

#include <gst/gst.h>

#include <memory>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "tests/core/media/raw_video_bin.h"

namespace rtsptest::core {
namespace {

TEST(StreamMediaTest, EveryTrackRefusesSeeking) {
  absl::StatusOr<std::unique_ptr<StreamMedia>> stream = StreamMedia::Create("/cam", &BuildRawVideo);
  ASSERT_TRUE(stream.ok()) << stream.status();
  GstPad* pad = gst_rtsp_stream_get_srcpad(gst_rtsp_media_get_stream((*stream)->media(), 0));
  ASSERT_NE(pad, nullptr);
  GstQuery* query = gst_query_new_seeking(GST_FORMAT_TIME);
  EXPECT_TRUE(gst_pad_query(pad, query));
  gboolean seekable = TRUE;
  gst_query_parse_seeking(query, nullptr, &seekable, nullptr, nullptr);
  EXPECT_FALSE(seekable);
  gst_query_unref(query);
  gst_object_unref(pad);
}

TEST(StreamMediaTest, CountingTapSeesTheTracksFromConstruction) {
  absl::StatusOr<std::unique_ptr<StreamMedia>> stream = StreamMedia::Create("/cam", &BuildRawVideo);
  ASSERT_TRUE(stream.ok()) << stream.status();
  LivenessCounters counters = (*stream)->ReadLiveness();
  ASSERT_EQ(counters.tracks.size(), 1u);
  EXPECT_TRUE(counters.failure.empty());
  EXPECT_EQ((*stream)->readers(), 0);
}

TEST(StreamMediaTest, BuilderFailureIsInvalidArgument) {
  absl::StatusOr<std::unique_ptr<StreamMedia>> stream = StreamMedia::Create("/cam", [] {
    return absl::StatusOr<GstPtr<GstElement>>(absl::InvalidArgumentError("no camera"));
  });
  EXPECT_EQ(stream.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(stream.status().message(),
            "stream /cam: the plugin could not build the pipeline (see log)");
}

}  // namespace
}  // namespace rtsptest::core
