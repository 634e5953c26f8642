// The fault handlers (see header).
#include "core/faults/fault_handlers.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/time/proto_time.h"

namespace rtsptest::core {
namespace {

// Stream kinds that last, by name.
const std::map<std::string, StreamFaultKind>& LastingStreamKinds() {
  static const auto* kinds = new std::map<std::string, StreamFaultKind>{
      {"freeze", StreamFaultKind::kFreeze},       {"black", StreamFaultKind::kBlack},
      {"stall", StreamFaultKind::kStall},         {"drop", StreamFaultKind::kDrop},
      {"jitter", StreamFaultKind::kJitter},       {"reorder", StreamFaultKind::kReorder},
      {"bandwidth", StreamFaultKind::kBandwidth}, {"bitrate_spike", StreamFaultKind::kBitrateSpike},
  };
  return *kinds;
}

// The parameters of FaultSpec, and whether `spec` sets each.
std::vector<std::pair<std::string, bool>> ParametersSet(const FaultSpec& spec) {
  return {{"percent", spec.percent() != 0},     {"delay", spec.has_delay()},
          {"kbps", spec.kbps() != 0},           {"status_code", spec.status_code() != 0},
          {"methods", spec.methods_size() > 0}, {"factor", spec.factor() != 0}};
}

// InvalidArgument when `spec` sets a parameter its kind does not take:
// a typo'd fault should not silently do something else.
absl::Status OnlyParameters(const FaultSpec& spec, const std::vector<std::string>& used) {
  for (const auto& [name, set] : ParametersSet(spec)) {
    if (set && std::find(used.begin(), used.end(), name) == used.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("fault.", name, " is not a parameter of ", spec.kind(),
                       used.empty() ? " (it takes none)"
                                    : absl::StrCat(" (it takes ", absl::StrJoin(used, ", "), ")")));
    }
  }
  return absl::OkStatus();
}

RtspListener* FindListener(const std::vector<RtspListener*>& listeners, const std::string& name,
                           absl::Status* error) {
  std::vector<std::string> names;
  for (RtspListener* listener : listeners) {
    if (listener->name() == name) return listener;
    names.push_back(listener->name());
  }
  *error = absl::NotFoundError(
      absl::StrCat("listener ", name, ": no such listener (", absl::StrJoin(names, ", "), ")"));
  return nullptr;
}

ListenerFaultKind ListenerKind(const std::string& kind) {
  if (kind == "close") return ListenerFaultKind::kClose;
  if (kind == "stall") return ListenerFaultKind::kStall;
  return ListenerFaultKind::kRefuse;
}

}  // namespace

absl::Status StreamFaultHandler::Start(const std::string&, const FaultSpec& spec) {
  if (spec.kind() == "eos" || spec.kind() == "disconnect") {
    if (absl::Status s = OnlyParameters(spec, {}); !s.ok()) return s;
    if (spec.kind() == "eos") return streams_->EndStream(spec.stream());
    return streams_->DisconnectReaders(spec.stream()).status();
  }
  StreamFaultSpec fault;
  fault.kind = LastingStreamKinds().at(spec.kind());
  std::vector<std::string> used;
  switch (fault.kind) {
    case StreamFaultKind::kDrop:
      used = {"percent"};
      fault.percent = spec.percent();
      break;
    case StreamFaultKind::kJitter:
      used = {"delay"};
      fault.spread = common::FromProtoDuration(spec.delay());
      break;
    case StreamFaultKind::kBandwidth:
      used = {"kbps"};
      fault.kbps = static_cast<int>(std::min<uint32_t>(spec.kbps(), 1u << 30));
      break;
    case StreamFaultKind::kBitrateSpike:
      used = {"factor"};
      fault.factor = spec.factor();
      break;
    default:
      break;
  }
  if (absl::Status s = OnlyParameters(spec, used); !s.ok()) return s;
  if (absl::Status s = ValidateStreamFaultSpec(fault); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("fault: ", s.message()));
  }
  return streams_->StartFault(spec.stream(), fault);
}

void StreamFaultHandler::Stop(const std::string&, const FaultSpec& spec) {
  auto kind = LastingStreamKinds().find(spec.kind());
  if (kind != LastingStreamKinds().end()) streams_->StopFault(spec.stream(), kind->second);
}

absl::Status RtspFaultHandler::Start(const std::string& id, const FaultSpec& spec) {
  RtspFault fault;
  fault.path = spec.stream();
  const bool error = spec.kind() == "rtsp_error";
  if (absl::Status s =
          OnlyParameters(spec, error ? std::vector<std::string>{"status_code", "methods"}
                                     : std::vector<std::string>{"delay", "methods"});
      !s.ok()) {
    return s;
  }
  fault.kind = error ? RtspFault::Kind::kError : RtspFault::Kind::kDelay;
  fault.status_code = spec.status_code() == 0 ? 503 : static_cast<int>(spec.status_code());
  if (error && (fault.status_code < 300 || fault.status_code > 599)) {
    return absl::InvalidArgumentError(absl::StrCat("fault.status_code ", spec.status_code(),
                                                   " is not an RTSP error status (300..599)"));
  }
  if (!error) {
    fault.delay = common::FromProtoDuration(spec.delay());
    if (fault.delay <= absl::ZeroDuration() || fault.delay > absl::Minutes(5)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "fault.delay ", absl::FormatDuration(fault.delay), " is out of range (0, 5m]"));
    }
  }
  for (int i = 0; i < spec.methods_size(); ++i) {
    const std::string method = absl::AsciiStrToUpper(spec.methods(i));
    if (method == "DESCRIBE") {
      fault.methods.insert(GST_RTSP_DESCRIBE);
    } else if (method == "SETUP") {
      fault.methods.insert(GST_RTSP_SETUP);
    } else if (method == "PLAY") {
      fault.methods.insert(GST_RTSP_PLAY);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("fault.methods[", i, "] \"", spec.methods(i),
                                                     "\" is not DESCRIBE, SETUP or PLAY"));
    }
  }
  if (absl::StatusOr<Stream> stream = streams_->Get(spec.stream()); !stream.ok()) {
    return stream.status();
  }
  for (size_t i = 0; i < listeners_.size(); ++i) {
    if (absl::Status s = listeners_[i]->SetRtspFault(id, fault); !s.ok()) {
      for (size_t j = 0; j < i; ++j) listeners_[j]->ClearRtspFault(id);
      return s;
    }
  }
  return absl::OkStatus();
}

void RtspFaultHandler::Stop(const std::string& id, const FaultSpec&) {
  for (RtspListener* listener : listeners_) listener->ClearRtspFault(id);
}

absl::Status ListenerFaultHandler::Start(const std::string&, const FaultSpec& spec) {
  if (absl::Status s = OnlyParameters(spec, {}); !s.ok()) return s;
  absl::Status error;
  RtspListener* listener = FindListener(listeners_, spec.listener(), &error);
  if (listener == nullptr) return error;
  return listener->StartListenerFault(ListenerKind(spec.kind()));
}

void ListenerFaultHandler::Stop(const std::string&, const FaultSpec& spec) {
  absl::Status error;
  RtspListener* listener = FindListener(listeners_, spec.listener(), &error);
  if (listener != nullptr) listener->StopListenerFault(ListenerKind(spec.kind()));
}

void ServerFaultHandlers::RegisterOn(FaultManager* faults) {
  StreamFaultHandler* stream = &stream_;
  RtspFaultHandler* rtsp = &rtsp_;
  ListenerFaultHandler* listener = &listener_;
  for (const auto& [name, kind] : LastingStreamKinds()) {
    faults->Register(FaultTarget::kStream, name, stream);
  }
  faults->Register(FaultTarget::kStream, "eos", stream, /*one_shot=*/true);
  faults->Register(FaultTarget::kStream, "disconnect", stream, /*one_shot=*/true);
  faults->Register(FaultTarget::kStream, "rtsp_error", rtsp);
  faults->Register(FaultTarget::kStream, "rtsp_delay", rtsp);
  for (const char* name : {"close", "stall", "refuse"}) {
    faults->Register(FaultTarget::kListener, name, listener);
  }
}

}  // namespace rtsptest::core
