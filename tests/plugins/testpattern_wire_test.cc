// What the testpattern plugin's H.264/H.265 track puts on the wire, checked
// the way strict clients (ffmpeg, OpenCV) read it rather than the way
// GStreamer's tolerant depayloader does: one access unit per frame, one RTP
// timestamp per frame advancing by exactly one frame interval, the marker
// bit on the last packet of a frame only, parameter sets once in front of
// each key frame and nowhere else, well-formed SEI, a key frame on request,
// and a stream that ffmpeg decodes without a single complaint.
#include <gst/gst.h>

#include <algorithm>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/plugins/plugin_test_util.h"
#include "tests/plugins/testpattern_test_util.h"

namespace rtsptest {
namespace testing {
namespace {

// A stream configuration, modelled on config/default.yaml.
struct WireCase {
  std::string name;
  std::string codec;
  int width;
  int height;
  int fps;
  int bitrate_kbps;
};

const WireCase kWireCases[] = {
    {"cam1_h264_720p30", "h264", 1280, 720, 30, 2000},
    {"cam2_h265_720p25", "h265", 1280, 720, 25, 1500},
    {"lobby_h264_360p15", "h264", 640, 360, 15, 600},
};

void PrintTo(const WireCase& c, std::ostream* os) { *os << c.name; }

VideoCodec CodecOf(const WireCase& c) {
  return c.codec == "h264" ? VideoCodec::kH264 : VideoCodec::kH265;
}

// Runs stream `c` (pattern ball, overlay on) with a key frame every `gop`
// frames as `options` say, and depayloads what pay0 sent. Returns false with
// *error on any failure.
bool CaptureFrames(const WireCase& c, int gop, const CaptureOptions& options,
                   std::vector<RtpFrame>* frames, std::string* error) {
  std::unique_ptr<LoadedPlugin> plugin = LoadedPlugin::Load("testpattern", error);
  if (plugin == nullptr) return false;
  GstElement* bin = plugin->Create({{"codec", c.codec},
                                    {"pattern", "ball"},
                                    {"width", std::to_string(c.width)},
                                    {"height", std::to_string(c.height)},
                                    {"fps", std::to_string(c.fps)},
                                    {"bitrate_kbps", std::to_string(c.bitrate_kbps)},
                                    {"gop", std::to_string(gop)},
                                    {"overlay", "true"}},
                                   error);
  if (bin == nullptr) return false;
  CaptureResult capture = CapturePay0(bin, options);
  if (!capture.ok) {
    *error = capture.error;
    return false;
  }
  return DepayloadFrames(CodecOf(c), capture.packets, frames, error);
}

// The NAL unit types of `frame`, e.g. "[ 7 8 6 5 ]", for messages.
std::string NalTypes(const RtpFrame& frame) {
  std::string types = "[";
  for (const NalUnit& nal : frame.nals) types += " " + std::to_string(nal.type);
  return types + " ]";
}

// Why `frame` breaks the parameter-set rule, or "" if it keeps it: a frame
// with a random access picture carries each parameter set exactly once, in
// order, before its first slice; any other frame carries none.
std::string ParameterSetViolation(VideoCodec codec, const RtpFrame& frame) {
  bool random_access = false;
  bool after_first_slice = false;
  std::vector<int> before_slice;
  for (const NalUnit& nal : frame.nals) {
    if (IsSlice(codec, nal)) {
      random_access = random_access || IsRandomAccessSlice(codec, nal);
      after_first_slice = true;
    } else if (IsParameterSet(codec, nal)) {
      if (after_first_slice) {
        return "parameter set after the first slice of the picture: NAL "
               "types " +
               NalTypes(frame);
      }
      before_slice.push_back(nal.type);
    }
  }
  const std::vector<int> expected = random_access ? ParameterSetTypes(codec) : std::vector<int>{};
  if (before_slice != expected) {
    return std::string(random_access ? "key" : "non-key") +
           " frame with wrong parameter sets: NAL types " + NalTypes(frame);
  }
  return "";
}

// Indexes of the frames that carry a random access picture.
std::vector<size_t> KeyFrameIndexes(VideoCodec codec, const std::vector<RtpFrame>& frames) {
  std::vector<size_t> indexes;
  for (size_t i = 0; i < frames.size(); ++i) {
    for (const NalUnit& nal : frames[i].nals) {
      if (IsRandomAccessSlice(codec, nal)) {
        indexes.push_back(i);
        break;
      }
    }
  }
  return indexes;
}

class TestpatternWireTest : public ::testing::TestWithParam<WireCase> {
 protected:
  // Two and a half seconds with a key frame every second: three GOPs.
  int frame_count() const { return GetParam().fps * 5 / 2; }

  // One capture per case, shared by the tests that only read it.
  const std::vector<RtpFrame>* Frames() {
    static std::map<std::string, std::vector<RtpFrame>>* cache =
        new std::map<std::string, std::vector<RtpFrame>>;
    const WireCase& c = GetParam();
    auto it = cache->find(c.name);
    if (it != cache->end()) return &it->second;
    CaptureOptions options;
    options.frames = frame_count();
    std::vector<RtpFrame> frames;
    std::string error;
    if (!CaptureFrames(c, /*gop=*/c.fps, options, &frames, &error)) {
      ADD_FAILURE() << error;
      return nullptr;
    }
    return &cache->emplace(c.name, std::move(frames)).first->second;
  }
};

TEST_P(TestpatternWireTest, SendsOneTimestampPerSourceFrame) {
  const std::vector<RtpFrame>* frames = Frames();
  ASSERT_NE(frames, nullptr);
  // DepayloadFrames starts a frame at every change of timestamp, so a frame
  // split over two timestamps, or two frames sharing one, changes the count.
  EXPECT_EQ(frames->size(), static_cast<size_t>(frame_count()));
}

TEST_P(TestpatternWireTest, AdvancesRtpTimestampByExactlyOneFrameInterval) {
  const std::vector<RtpFrame>* frames = Frames();
  ASSERT_NE(frames, nullptr);
  const uint32_t interval = 90000 / GetParam().fps;
  for (size_t i = 1; i < frames->size(); ++i) {
    ASSERT_EQ((*frames)[i].timestamp - (*frames)[i - 1].timestamp, interval)
        << "between frames " << i - 1 << " and " << i;
  }
}

TEST_P(TestpatternWireTest, MarksTheLastPacketOfEachFrameOnly) {
  const std::vector<RtpFrame>* frames = Frames();
  ASSERT_NE(frames, nullptr);
  for (size_t i = 0; i < frames->size(); ++i) {
    const std::vector<bool>& markers = (*frames)[i].markers;
    std::vector<bool> expected(markers.size(), false);
    expected.back() = true;
    ASSERT_EQ(markers, expected) << "frame " << i;
  }
}

TEST_P(TestpatternWireTest, CarriesExactlyOnePictureStartPerFrame) {
  const std::vector<RtpFrame>* frames = Frames();
  ASSERT_NE(frames, nullptr);
  const VideoCodec codec = CodecOf(GetParam());
  for (size_t i = 0; i < frames->size(); ++i) {
    int starts = 0;
    bool first_slice_starts = false;
    bool seen_slice = false;
    for (const NalUnit& nal : (*frames)[i].nals) {
      if (!IsSlice(codec, nal)) continue;
      if (!seen_slice) first_slice_starts = StartsPicture(codec, nal);
      seen_slice = true;
      if (StartsPicture(codec, nal)) ++starts;
    }
    ASSERT_EQ(starts, 1) << "frame " << i << ": NAL types " << NalTypes((*frames)[i]);
    ASSERT_TRUE(first_slice_starts) << "frame " << i << ": NAL types " << NalTypes((*frames)[i]);
  }
}

// Catches leftover bytes passed off as SEI (x265 3.5 appends a stale SEI to
// the stream headers it returns with repeat-headers=1): they either do not
// parse or repeat a message type within one access unit.
TEST_P(TestpatternWireTest, CarriesWellFormedSeiEachMessageTypeOncePerFrame) {
  const std::vector<RtpFrame>* frames = Frames();
  ASSERT_NE(frames, nullptr);
  const VideoCodec codec = CodecOf(GetParam());
  for (size_t i = 0; i < frames->size(); ++i) {
    std::vector<int> frame_types;
    for (const NalUnit& nal : (*frames)[i].nals) {
      if (!IsSei(codec, nal)) continue;
      std::vector<int> types;
      ASSERT_TRUE(ParseSeiPayloadTypes(codec, nal, &types))
          << "frame " << i << ": malformed SEI of " << nal.bytes.size() << " bytes; NAL types "
          << NalTypes((*frames)[i]);
      frame_types.insert(frame_types.end(), types.begin(), types.end());
    }
    std::vector<int> unique = frame_types;
    std::sort(unique.begin(), unique.end());
    ASSERT_EQ(std::adjacent_find(unique.begin(), unique.end()), unique.end())
        << "frame " << i << ": SEI payload types repeat:" << ::testing::PrintToString(frame_types);
  }
}

TEST_P(TestpatternWireTest, SendsParameterSetsOnceBeforeEachKeyFrameOnly) {
  const std::vector<RtpFrame>* frames = Frames();
  ASSERT_NE(frames, nullptr);
  const VideoCodec codec = CodecOf(GetParam());
  const int fps = GetParam().fps;
  EXPECT_EQ(KeyFrameIndexes(codec, *frames),
            (std::vector<size_t>{0, static_cast<size_t>(fps), static_cast<size_t>(2 * fps)}));
  for (size_t i = 0; i < frames->size(); ++i) {
    EXPECT_EQ(ParameterSetViolation(codec, (*frames)[i]), "") << "frame " << i;
  }
}

TEST_P(TestpatternWireTest, AnswersForceKeyUnitWithKeyFrameAndParameterSets) {
  const WireCase& c = GetParam();
  const VideoCodec codec = CodecOf(c);
  CaptureOptions options;
  options.frames = 30;
  options.force_key_unit_after_frames = 10;
  std::vector<RtpFrame> frames;
  std::string error;
  // No key frame of its own after the first one.
  ASSERT_TRUE(CaptureFrames(c, /*gop=*/1000, options, &frames, &error)) << error;
  const std::vector<size_t> key_frames = KeyFrameIndexes(codec, frames);
  ASSERT_EQ(key_frames.size(), 2u);
  // The request reaches the encoder while frame 10 is on its way; the next
  // frames it encodes (at most a few, however it buffers) answer it.
  EXPECT_GE(key_frames[1], 10u);
  EXPECT_LE(key_frames[1], 13u);
  EXPECT_EQ(ParameterSetViolation(codec, frames[key_frames[1]]), "");
  for (const RtpFrame& frame : frames) {
    ASSERT_EQ(frame.markers.back(), true);
    ASSERT_EQ(std::count(frame.markers.begin(), frame.markers.end(), true), 1);
  }
  EXPECT_EQ(frames.size(), 30u);
}

TEST_P(TestpatternWireTest, DecodesWithFfmpegWithoutAnyMessage) {
  const std::vector<RtpFrame>* frames = Frames();
  ASSERT_NE(frames, nullptr);
  const std::string format = GetParam().codec == "h264" ? "h264" : "hevc";
  const std::string path = WriteTempFile(GetParam().name + "." + format, AnnexB(*frames));
  CommandResult decode = RunCommand("/usr/bin/ffmpeg -nostdin -hide_banner -v error -xerror -f " +
                                    format + " -i " + path + " -f null -");
  EXPECT_EQ(decode.exit_code, 0);
  EXPECT_EQ(decode.output, "");
  CommandResult count = RunCommand("/usr/bin/ffprobe -v error -f " + format +
                                   " -count_frames -select_streams v:0 -show_entries "
                                   "stream=nb_read_frames -of csv=p=0 " +
                                   path);
  EXPECT_EQ(count.exit_code, 0);
  EXPECT_EQ(count.output, std::to_string(frame_count()) + "\n");
}

// Where the first frame's PTS lies within a 90 kHz tick decides whether
// truncating or naively rounding PTS * 90000 / 1e9 jitters at 30 fps
// (1e9 / 30 ns is no whole number of ticks). A live source starts at any
// running time; these starts are the bad cases for truncation (0, the
// non-live start), for rounding (5556 ns, half a tick) and one seen live.
TEST(TestpatternTimestampTest, AdvancesRtpTimestampByExactlyOneFrameIntervalFromAnyStart) {
  const WireCase& c = kWireCases[0];
  ASSERT_EQ(c.fps, 30);
  for (GstClockTime first_pts : {0, 5556, 6303270}) {
    CaptureOptions options;
    options.frames = 20;
    options.first_pts = first_pts;
    std::vector<RtpFrame> frames;
    std::string error;
    ASSERT_TRUE(CaptureFrames(c, /*gop=*/30, options, &frames, &error)) << error;
    ASSERT_EQ(frames.size(), 20u);
    for (size_t i = 1; i < frames.size(); ++i) {
      ASSERT_EQ(frames[i].timestamp - frames[i - 1].timestamp, 3000u)
          << "first PTS " << first_pts << " ns, between frames " << i - 1 << " and " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Streams, TestpatternWireTest, ::testing::ValuesIn(kWireCases),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace testing
}  // namespace rtsptest
