// rtspctl fault: inject, clear, ls (InjectFault, ClearFaults, ListFaults).
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/flags/go_flags.h"
#include "common/time/proto_time.h"
#include "tools/rtspctl/client.h"
#include "tools/rtspctl/commands.h"
#include "tools/rtspctl/output.h"

namespace rtsptest::tools {
namespace {

constexpr char kHelp[] = R"(Usage: rtspctl fault <command> [flags]

Commands:
  inject <kind>           Start a fault on a stream (--stream) or a listener
                          (--listener); prints its id. It lasts --duration,
                          or until cleared.
  clear [<id>...]         End faults: those ids, or --stream's, or
                          --listener's, or --all.
  ls                      Active faults: ID KIND TARGET STARTED EXPIRES.

Kinds (docs/faults.md has what a client sees of each):
  stream:    freeze, black, stall, drop (--percent), jitter (--delay),
             reorder, bandwidth (--kbps), bitrate_spike (--factor),
             eos, disconnect (these two act once)
  RTSP:      rtsp_error (--status, --method), rtsp_delay (--delay, --method)
  listener:  close, stall, refuse

Flags:
  --stream /path          The stream (stream and RTSP faults; ls filter).
  --listener name         The listener, e.g. rtsp-8554 (listener faults).
  --duration 10s          Clears itself after this long.
  --percent 20            drop: share of RTP packets dropped.
  --delay 300ms           jitter: largest hold-back per packet; rtsp_delay:
                          how late the answer comes.
  --kbps 500              bandwidth: the cap.
  --status 503            rtsp_error: the status code answered.
  --method DESCRIBE       rtsp_error, rtsp_delay: a method to affect
                          (DESCRIBE, SETUP, PLAY); repeatable; none = all.
  --factor 4              bitrate_spike: the bitrate multiplier.
  --all                   clear: every fault.

Examples:
  rtspctl fault inject freeze --stream /cam1 --duration 10s
  rtspctl fault inject drop --stream /cam1 --percent 20
  rtspctl fault inject rtsp_error --stream /cam1 --status 503 --method DESCRIBE
  rtspctl fault inject close --listener rtsp-8554 --duration 30s
  rtspctl fault ls
  rtspctl fault clear f-3
  rtspctl fault clear --all
)";

const std::vector<std::string> kInjectFlags = {"stream", "listener", "duration", "percent", "delay",
                                               "kbps",   "status",   "method",   "factor"};

absl::Status ParseDuration(const Args& args, const std::string& flag,
                           google::protobuf::Duration* out) {
  absl::Duration value;
  if (absl::Status s = common::ParseGoDuration(args.Get(flag), &value); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", s.message()));
  }
  *out = common::ToProtoDuration(value);
  return absl::OkStatus();
}

template <typename T>
absl::Status ParseNumber(const Args& args, const std::string& flag, T* out) {
  if (!absl::SimpleAtoi(args.Get(flag), out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " ", args.Get(flag), ": expected a whole number"));
  }
  return absl::OkStatus();
}

template <>
absl::Status ParseNumber<double>(const Args& args, const std::string& flag, double* out) {
  if (!absl::SimpleAtod(args.Get(flag), out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " ", args.Get(flag), ": expected a number"));
  }
  return absl::OkStatus();
}

absl::Status SpecFromFlags(const Args& args, control::v1::FaultSpec* spec) {
  spec->set_stream(args.Get("stream"));
  spec->set_listener(args.Get("listener"));
  absl::Status s;
  if (args.Has("duration")) s.Update(ParseDuration(args, "duration", spec->mutable_duration()));
  if (args.Has("delay")) s.Update(ParseDuration(args, "delay", spec->mutable_delay()));
  if (args.Has("percent")) {
    double percent = 0;
    s.Update(ParseNumber(args, "percent", &percent));
    spec->set_percent(percent);
  }
  if (args.Has("factor")) {
    double factor = 0;
    s.Update(ParseNumber(args, "factor", &factor));
    spec->set_factor(factor);
  }
  if (args.Has("kbps")) {
    uint32_t kbps = 0;
    s.Update(ParseNumber(args, "kbps", &kbps));
    spec->set_kbps(kbps);
  }
  if (args.Has("status")) {
    uint32_t code = 0;
    s.Update(ParseNumber(args, "status", &code));
    spec->set_status_code(code);
  }
  for (const std::string& method : args.GetAll("method")) spec->add_methods(method);
  return s;
}

std::string FormatTime(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "-";
  return absl::FormatTime("%H:%M:%S", common::FromProtoTimestamp(time), absl::LocalTimeZone());
}

void PrintFaults(const Command& c, const std::vector<const control::v1::Fault*>& faults,
                 const google::protobuf::Message& whole) {
  if (c.format != OutputFormat::kTable) {
    PrintMessage(c.format, whole, std::cout);
    return;
  }
  Table table({"ID", "KIND", "TARGET", "STARTED", "EXPIRES"});
  for (const control::v1::Fault* f : faults) {
    std::string target =
        f->spec().listener().empty() ? f->spec().stream() : "listener " + f->spec().listener();
    table.AddRow({f->id(), f->spec().kind(), target, FormatTime(f->started_at()),
                  f->has_expires_at() ? FormatTime(f->expires_at()) : "when cleared"});
  }
  table.Print(std::cout);
}

int Inject(const Args& args, Command& c) {
  control::v1::InjectFaultRequest request;
  request.mutable_fault()->set_kind(args.positional()[2]);
  if (absl::Status s = SpecFromFlags(args, request.mutable_fault()); !s.ok()) {
    return ReportUsage(s.message());
  }
  control::v1::Fault fault;
  grpc::Status status = c.client->stub().InjectFault(c.client->NewContext().get(), request, &fault);
  if (!status.ok()) return ReportRpcError(status);
  PrintFaults(c, {&fault}, fault);
  return kExitOk;
}

int Clear(const Args& args, Command& c) {
  control::v1::ClearFaultsRequest request;
  for (size_t i = 2; i < args.positional().size(); ++i) request.add_ids(args.positional()[i]);
  request.set_stream(args.Get("stream"));
  request.set_listener(args.Get("listener"));
  if (request.ids().empty() && request.stream().empty() && request.listener().empty() &&
      !args.Has("all")) {
    return ReportUsage("fault clear: which faults? (<id>..., --stream, --listener or --all)");
  }
  control::v1::ClearFaultsResponse response;
  grpc::Status status =
      c.client->stub().ClearFaults(c.client->NewContext().get(), request, &response);
  if (!status.ok()) return ReportRpcError(status);
  std::vector<const control::v1::Fault*> cleared;
  for (const auto& f : response.cleared()) cleared.push_back(&f);
  PrintFaults(c, cleared, response);
  return kExitOk;
}

int List(const Args& args, Command& c) {
  control::v1::ListFaultsRequest request;
  request.set_stream(args.Get("stream"));
  control::v1::ListFaultsResponse response;
  grpc::Status status =
      c.client->stub().ListFaults(c.client->NewContext().get(), request, &response);
  if (!status.ok()) return ReportRpcError(status);
  std::vector<const control::v1::Fault*> faults;
  for (const auto& f : response.faults()) faults.push_back(&f);
  PrintFaults(c, faults, response);
  return kExitOk;
}

}  // namespace

int RunFaults(const Args& args) {
  const std::vector<std::string>& words = args.positional();
  if (args.help()) {
    std::cout << kHelp << kGlobalHelp;
    return kExitOk;
  }
  if (words.size() < 2) return ReportUsage("fault: which command? (inject, clear, ls)");
  const std::string& verb = words[1];
  Command c;
  if (verb == "inject") {
    if (words.size() != 3) return ReportUsage("usage: rtspctl fault inject <kind> [flags]");
    if (int code = PrepareCommand(args, kInjectFlags, &c); code != kExitOk) return code;
    return Inject(args, c);
  }
  if (verb == "clear") {
    if (int code = PrepareCommand(args, {"stream", "listener", "all"}, &c); code != kExitOk) {
      return code;
    }
    return Clear(args, c);
  }
  if (verb == "ls") {
    if (words.size() != 2) return ReportUsage("usage: rtspctl fault ls [--stream /path]");
    if (int code = PrepareCommand(args, {"stream"}, &c); code != kExitOk) return code;
    return List(args, c);
  }
  return ReportUsage(absl::StrCat("fault: unknown command '", verb, "'"));
}

}  // namespace rtsptest::tools
