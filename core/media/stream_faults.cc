// StreamFaults: validation, one active fault per kind, and the end of stream.
#include "core/media/stream_faults.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/media/encoder_faults.h"
#include "core/media/packet_faults.h"

namespace rtsptest::core {

const char* StreamFaultKindName(StreamFaultKind kind) {
  switch (kind) {
    case StreamFaultKind::kFreeze:
      return "freeze";
    case StreamFaultKind::kBlack:
      return "black";
    case StreamFaultKind::kStall:
      return "stall";
    case StreamFaultKind::kDrop:
      return "drop";
    case StreamFaultKind::kJitter:
      return "jitter";
    case StreamFaultKind::kReorder:
      return "reorder";
    case StreamFaultKind::kBandwidth:
      return "bandwidth";
    case StreamFaultKind::kBitrateSpike:
      return "bitrate_spike";
    case StreamFaultKind::kEos:
      return "eos";
    case StreamFaultKind::kDisconnect:
      return "disconnect";
  }
  return "unknown";
}

absl::Status ValidateStreamFaultSpec(const StreamFaultSpec& spec) {
  const char* name = StreamFaultKindName(spec.kind);
  switch (spec.kind) {
    case StreamFaultKind::kDrop:
      if (!(spec.percent > 0 && spec.percent <= 100)) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, ": percent ", spec.percent, " is out of range (0, 100]"));
      }
      break;
    case StreamFaultKind::kJitter:
      if (!(spec.spread > absl::ZeroDuration() && spec.spread <= absl::Seconds(10))) {
        return absl::InvalidArgumentError(absl::StrCat(
            name, ": spread ", absl::FormatDuration(spec.spread), " is out of range (0, 10s]"));
      }
      break;
    case StreamFaultKind::kBandwidth:
      if (spec.kbps < 8 || spec.kbps > 10000000) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, ": kbps ", spec.kbps, " is out of range [8, 10000000]"));
      }
      break;
    case StreamFaultKind::kBitrateSpike:
      if (!(spec.factor > 1 && spec.factor <= 100)) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, ": factor ", spec.factor, " is out of range (1, 100]"));
      }
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

StreamFaults::StreamFaults(GstRTSPMedia* media) : points_(FindFaultPoints(media)) {}

StreamFaults::~StreamFaults() { StopAll(); }

absl::StatusOr<std::unique_ptr<ActiveFault>> StreamFaults::Make(const StreamFaultSpec& spec) const {
  const char* name = StreamFaultKindName(spec.kind);
  switch (spec.kind) {
    case StreamFaultKind::kFreeze:
    case StreamFaultKind::kBlack:
    case StreamFaultKind::kBitrateSpike:
      if (points_.video_encoder == nullptr) {
        return absl::FailedPreconditionError(
            absl::StrCat(name,
                         ": the stream has no video encoder (its plugin passes its media "
                         "through as it is), so its pictures cannot be changed"));
      }
      if (spec.kind == StreamFaultKind::kBitrateSpike) {
        return StartBitrateSpike(points_.video_encoder.get(), spec.factor);
      }
      return StartPictureFault(points_.video_encoder.get(), spec.kind == StreamFaultKind::kFreeze
                                                                ? PictureMode::kFreeze
                                                                : PictureMode::kBlack);
    case StreamFaultKind::kStall:
      return StartStall(points_.tracks);
    case StreamFaultKind::kDrop:
      return StartDrop(points_.tracks, spec.percent);
    case StreamFaultKind::kJitter:
      return StartJitter(points_.tracks, spec.spread);
    case StreamFaultKind::kReorder:
      return StartReorder(points_.tracks);
    case StreamFaultKind::kBandwidth:
      return StartBandwidth(points_.tracks, spec.kbps);
    case StreamFaultKind::kEos:
    case StreamFaultKind::kDisconnect:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(name, " is a one-shot fault, not one that can be started and stopped"));
}

absl::Status StreamFaults::Start(const StreamFaultSpec& spec) {
  absl::Status valid = ValidateStreamFaultSpec(spec);
  if (!valid.ok()) return valid;
  absl::MutexLock lock(&mu_);
  if (active_.count(spec.kind) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(StreamFaultKindName(spec.kind), ": already active"));
  }
  absl::StatusOr<std::unique_ptr<ActiveFault>> fault = Make(spec);
  if (!fault.ok()) return fault.status();
  active_.emplace(spec.kind, *std::move(fault));
  return absl::OkStatus();
}

std::unique_ptr<ActiveFault> StreamFaults::Take(StreamFaultKind kind) {
  absl::MutexLock lock(&mu_);
  auto it = active_.find(kind);
  if (it == active_.end()) return nullptr;
  std::unique_ptr<ActiveFault> fault = std::move(it->second);
  active_.erase(it);
  return fault;
}

void StreamFaults::StopAll() {
  std::map<StreamFaultKind, std::unique_ptr<ActiveFault>> active;
  {
    absl::MutexLock lock(&mu_);
    active.swap(active_);
  }
  active.clear();
}

std::vector<StreamFaultKind> StreamFaults::Active() const {
  absl::MutexLock lock(&mu_);
  std::vector<StreamFaultKind> kinds;
  for (const auto& [kind, fault] : active_) kinds.push_back(kind);
  return kinds;
}

absl::Status SendEndOfStream(GstRTSPMedia* media) {
  GstPtr<GstElement> top(gst_rtsp_media_get_element(media));
  if (top == nullptr) return absl::InternalError("eos: the media has no element");
  // A bin hands EOS to its sources, which push it through every track.
  if (!gst_element_send_event(top.get(), gst_event_new_eos())) {
    return absl::InternalError("eos: the stream's sources refused the end of stream");
  }
  return absl::OkStatus();
}

}  // namespace rtsptest::core
