// StreamFaults inside core/media: parameter checks, painting black in each
// raw format, and the faults a stream without an encoder refuses. (What the
// faults do to readers: tests/core/stream/stream_faults_test.cc.)
#include "core/media/stream_faults.h"

#include <gst/gst.h>
#include <gst/video/video.h>

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "core/media/encoder_faults.h"
#include "core/media/stream_media.h"
#include "gtest/gtest.h"
#include "tests/core/media/raw_video_bin.h"

namespace rtsptest::core {
namespace {

StreamFaultSpec Spec(StreamFaultKind kind) {
  StreamFaultSpec spec;
  spec.kind = kind;
  return spec;
}

TEST(ValidateStreamFaultSpecTest, NamesTheBadParameterAndValue) {
  StreamFaultSpec drop = Spec(StreamFaultKind::kDrop);
  drop.percent = 150;
  EXPECT_EQ(ValidateStreamFaultSpec(drop),
            absl::InvalidArgumentError("drop: percent 150 is out of range (0, 100]"));
  drop.percent = 0;
  EXPECT_EQ(ValidateStreamFaultSpec(drop).code(), absl::StatusCode::kInvalidArgument);
  drop.percent = 100;
  EXPECT_TRUE(ValidateStreamFaultSpec(drop).ok());

  StreamFaultSpec jitter = Spec(StreamFaultKind::kJitter);
  EXPECT_EQ(ValidateStreamFaultSpec(jitter),
            absl::InvalidArgumentError("jitter: spread 0 is out of range (0, 10s]"));
  jitter.spread = absl::Milliseconds(50);
  EXPECT_TRUE(ValidateStreamFaultSpec(jitter).ok());

  StreamFaultSpec bandwidth = Spec(StreamFaultKind::kBandwidth);
  bandwidth.kbps = 4;
  EXPECT_EQ(ValidateStreamFaultSpec(bandwidth),
            absl::InvalidArgumentError("bandwidth: kbps 4 is out of range [8, 10000000]"));

  StreamFaultSpec spike = Spec(StreamFaultKind::kBitrateSpike);
  spike.factor = 1;
  EXPECT_EQ(ValidateStreamFaultSpec(spike),
            absl::InvalidArgumentError("bitrate_spike: factor 1 is out of range (1, 100]"));

  // Kinds with no parameter need none.
  EXPECT_TRUE(ValidateStreamFaultSpec(Spec(StreamFaultKind::kFreeze)).ok());
  EXPECT_TRUE(ValidateStreamFaultSpec(Spec(StreamFaultKind::kStall)).ok());
}

// A 16x8 frame of `format` painted black; returns its bytes by plane.
std::vector<std::vector<uint8_t>> PaintedBlack(GstVideoFormat format, absl::Status* status) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, format, 16, 8);
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  gst_buffer_memset(buffer, 0, 0x5a, GST_VIDEO_INFO_SIZE(&info));
  GstVideoFrame frame;
  std::vector<std::vector<uint8_t>> planes;
  if (gst_video_frame_map(&frame, &info, buffer, GST_MAP_READWRITE)) {
    *status = PaintBlack(&frame);
    for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&frame); ++p) {
      const auto* data = static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, p));
      const int row =
          GST_VIDEO_FRAME_COMP_WIDTH(&frame, p) * GST_VIDEO_FRAME_COMP_PSTRIDE(&frame, p);
      planes.emplace_back(data, data + row);  // the first row is enough
    }
    gst_video_frame_unmap(&frame);
  }
  gst_buffer_unref(buffer);
  return planes;
}

TEST(PaintBlackTest, PlanarAndSemiPlanarYuv) {
  absl::Status status;
  auto i420 = PaintedBlack(GST_VIDEO_FORMAT_I420, &status);
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(i420.size(), 3u);
  EXPECT_EQ(i420[0], std::vector<uint8_t>(16, 16));
  EXPECT_EQ(i420[1], std::vector<uint8_t>(8, 128));
  EXPECT_EQ(i420[2], std::vector<uint8_t>(8, 128));
  auto nv12 = PaintedBlack(GST_VIDEO_FORMAT_NV12, &status);
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(nv12.size(), 2u);
  EXPECT_EQ(nv12[0], std::vector<uint8_t>(16, 16));
  EXPECT_EQ(nv12[1], std::vector<uint8_t>(16, 128));
}

TEST(PaintBlackTest, PackedYuv) {
  absl::Status status;
  auto yuy2 = PaintedBlack(GST_VIDEO_FORMAT_YUY2, &status);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(std::vector<uint8_t>(yuy2[0].begin(), yuy2[0].begin() + 4),
            (std::vector<uint8_t>{16, 128, 16, 128}));
  auto uyvy = PaintedBlack(GST_VIDEO_FORMAT_UYVY, &status);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(std::vector<uint8_t>(uyvy[0].begin(), uyvy[0].begin() + 4),
            (std::vector<uint8_t>{128, 16, 128, 16}));
}

TEST(PaintBlackTest, RgbFamilyIsZeroWithOpaqueAlpha) {
  absl::Status status;
  auto rgb = PaintedBlack(GST_VIDEO_FORMAT_RGB, &status);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(rgb[0], std::vector<uint8_t>(48, 0));
  auto bgra = PaintedBlack(GST_VIDEO_FORMAT_BGRA, &status);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(std::vector<uint8_t>(bgra[0].begin(), bgra[0].begin() + 8),
            (std::vector<uint8_t>{0, 0, 0, 255, 0, 0, 0, 255}));
  auto argb = PaintedBlack(GST_VIDEO_FORMAT_ARGB, &status);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(std::vector<uint8_t>(argb[0].begin(), argb[0].begin() + 4),
            (std::vector<uint8_t>{255, 0, 0, 0}));
}

TEST(PaintBlackTest, UnsupportedFormatIsFailedPreconditionNamingIt) {
  absl::Status status;
  PaintedBlack(GST_VIDEO_FORMAT_v210, &status);
  EXPECT_EQ(status, absl::FailedPreconditionError("black: raw video format v210 is not supported"));
}

TEST(StreamFaultsTest, WithoutAnEncoderPictureFaultsAreFailedPrecondition) {
  absl::StatusOr<std::unique_ptr<StreamMedia>> stream = StreamMedia::Create("/raw", &BuildRawVideo);
  ASSERT_TRUE(stream.ok()) << stream.status();
  StreamFaults& faults = (*stream)->faults();
  for (StreamFaultKind kind :
       {StreamFaultKind::kFreeze, StreamFaultKind::kBlack, StreamFaultKind::kBitrateSpike}) {
    StreamFaultSpec spec = Spec(kind);
    spec.factor = 2;
    EXPECT_EQ(faults.Start(spec).code(), absl::StatusCode::kFailedPrecondition)
        << StreamFaultKindName(kind);
  }
  EXPECT_TRUE(faults.Active().empty());
}

TEST(StreamFaultsTest, OneShotKindsAreNotStartedHere) {
  absl::StatusOr<std::unique_ptr<StreamMedia>> stream = StreamMedia::Create("/raw", &BuildRawVideo);
  ASSERT_TRUE(stream.ok()) << stream.status();
  EXPECT_EQ((*stream)->faults().Start(Spec(StreamFaultKind::kEos)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*stream)->faults().Start(Spec(StreamFaultKind::kDisconnect)).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(StreamFaultsTest, StartStopAndTheSameKindTwice) {
  absl::StatusOr<std::unique_ptr<StreamMedia>> stream = StreamMedia::Create("/raw", &BuildRawVideo);
  ASSERT_TRUE(stream.ok()) << stream.status();
  StreamFaults& faults = (*stream)->faults();
  faults.Stop(StreamFaultKind::kStall);  // not active: a no-op
  ASSERT_TRUE(faults.Start(Spec(StreamFaultKind::kStall)).ok());
  ASSERT_TRUE(faults.Start(Spec(StreamFaultKind::kReorder)).ok());
  EXPECT_EQ(faults.Start(Spec(StreamFaultKind::kStall)),
            absl::FailedPreconditionError("stall: already active"));
  EXPECT_EQ(faults.Active(),
            (std::vector<StreamFaultKind>{StreamFaultKind::kStall, StreamFaultKind::kReorder}));
  faults.Stop(StreamFaultKind::kStall);
  EXPECT_EQ(faults.Active(), std::vector<StreamFaultKind>{StreamFaultKind::kReorder});
  // The stream goes with a fault active: it is stopped first.
}

}  // namespace
}  // namespace rtsptest::core
