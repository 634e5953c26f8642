// rtspctl events: follows WatchEvents.
#include <iostream>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/time/proto_time.h"
#include "google/protobuf/util/json_util.h"
#include "tools/rtspctl/client.h"
#include "tools/rtspctl/commands.h"
#include "tools/rtspctl/output.h"

namespace rtsptest::tools {
namespace {

constexpr char kHelp[] = R"(Usage: rtspctl events [flags]

Follows the server's events as they happen, one line each, until stopped
(Ctrl-C) or --count events were printed: stream state changes, sessions
opened and closed, faults started and cleared, health changes.

Flags:
  --kind kind             Only this kind: stream, session, fault, health;
                          repeatable.
  --stream /path          Only this stream's events.
  --after N               First the kept events after sequence number N
                          (the server keeps the last 4096), e.g. 0 for all.
  --count N               Exit after N events.

Output: a line per event, "SEQ TIME KIND TYPE STREAM key=value ...";
-o json prints one JSON object per line (JSON Lines), -o yaml one document
per event.

Examples:
  rtspctl events
  rtspctl events --kind session --stream /cam1
  rtspctl events --after 0 --count 10 -o json
)";

void PrintEvent(OutputFormat format, const control::v1::Event& event) {
  if (format == OutputFormat::kJson) {
    google::protobuf::util::JsonPrintOptions options;
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(event, &json, options);
    std::cout << json << std::endl;
    return;
  }
  if (format == OutputFormat::kYaml) {
    std::cout << "---\n";
    PrintMessage(format, event, std::cout);
    std::cout << std::flush;
    return;
  }
  std::string line = absl::StrCat(
      event.sequence(), "  ",
      absl::FormatTime("%H:%M:%E3S", common::FromProtoTimestamp(event.time()),
                       absl::LocalTimeZone()),
      "  ", event.kind(), "  ", event.type(), "  ", event.stream().empty() ? "-" : event.stream());
  // Sorted, so that lines compare across runs.
  std::map<std::string, std::string> fields(event.fields().begin(), event.fields().end());
  for (const auto& [key, value] : fields) absl::StrAppend(&line, "  ", key, "=", value);
  std::cout << line << std::endl;
}

int Follow(const Args& args, Command& c) {
  control::v1::WatchEventsRequest request;
  for (const std::string& kind : args.GetAll("kind")) request.add_kinds(kind);
  request.set_stream(args.Get("stream"));
  if (args.Has("after")) {
    uint64_t after = 0;
    if (!absl::SimpleAtoi(args.Get("after"), &after)) {
      return ReportUsage(absl::StrCat("--after ", args.Get("after"), ": expected a number"));
    }
    request.set_after_sequence(after);
  }
  int64_t count = -1;
  if (args.Has("count") && (!absl::SimpleAtoi(args.Get("count"), &count) || count <= 0)) {
    return ReportUsage(absl::StrCat("--count ", args.Get("count"), ": expected a positive number"));
  }
  std::unique_ptr<grpc::ClientContext> context = c.client->NewStreamContext();
  std::unique_ptr<grpc::ClientReader<control::v1::Event>> reader =
      c.client->stub().WatchEvents(context.get(), request);
  control::v1::Event event;
  int64_t printed = 0;
  while (reader->Read(&event)) {
    PrintEvent(c.format, event);
    if (++printed == count) {
      context->TryCancel();
      return kExitOk;
    }
  }
  grpc::Status status = reader->Finish();
  return status.ok() ? kExitOk : ReportRpcError(status);
}

}  // namespace

int RunEvents(const Args& args) {
  if (args.help()) {
    std::cout << kHelp << kGlobalHelp;
    return kExitOk;
  }
  if (args.positional().size() != 1) return ReportUsage("events takes no arguments");
  Command c;
  if (int code = PrepareCommand(args, {"kind", "stream", "after", "count"}, &c); code != kExitOk) {
    return code;
  }
  return Follow(args, c);
}

}  // namespace rtsptest::tools
