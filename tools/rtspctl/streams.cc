// rtspctl streams: ls, get, create, update, rm, apply (the stream RPCs).
#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/proto_yaml/proto_yaml_mapper.h"
#include "google/protobuf/descriptor.h"
#include "rtsptest/config/v1/config.pb.h"
#include "tools/rtspctl/client.h"
#include "tools/rtspctl/commands.h"
#include "tools/rtspctl/output.h"

namespace rtsptest::tools {
namespace {

using config::v1::Stream;

constexpr char kHelp[] = R"(Usage: rtspctl streams <command> [flags]

Commands:
  ls                      List the streams: PATH STATE READERS FPS KBIT/S URL.
  get <path>              One stream: its spec, state and URLs.
  create                  Create a stream, from flags or from -f file.yaml
                          (one stream, as an item of the config's streams:).
  update [<path>]         Change a stream. Only the fields given are sent (a
                          field mask); --param values are merged into the
                          stream's current parameters.
  rm <path>               Delete a stream; its readers are disconnected.
  apply -f file.yaml      Create or replace every stream under `streams:` (the
                          shape of the server's config file) and delete every
                          path under `delete:`; prints one result per item and
                          exits non-zero if any item failed.

Stream flags (create, update):
  --path /name            Mount path.
  --plugin name           Plugin that produces the media.
  --param key=value       Plugin parameter; repeatable.
  --listener name         Listener that exposes the stream; repeatable
                          (none = every listener).
  --description text      Free text.
  -f, --file file.yaml    The stream as YAML or JSON instead of the flags.

Examples:
  rtspctl streams ls
  rtspctl streams get /cam1 -o json
  rtspctl streams create --path /cam1 --plugin pattern --param fps=25 --param pattern=ball
  rtspctl streams create -f cam1.yaml
  rtspctl streams update /cam1 --param fps=10
  rtspctl streams rm /cam1
  rtspctl streams apply -f streams.yaml

  # streams.yaml
  streams:
    - path: /cam1
      plugin: pattern
      parameters: {fps: 25}
  delete: [/old]
)";

const std::vector<std::string> kStreamFlags = {"path",     "plugin",      "param",
                                               "listener", "description", "file"};

std::string ShortState(control::v1::StreamState state) {
  std::string name = control::v1::StreamState_Name(state);
  return name.rfind("STREAM_STATE_", 0) == 0 ? name.substr(13) : name;
}

absl::StatusOr<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Maps `node` onto `message` with the server's config rules, naming `source`.
absl::Status MapNode(const YAML::Node& node, const std::string& source,
                     google::protobuf::Message* message) {
  common::SourceMap locations(source);
  return common::ProtoYamlMapper(&locations).Map(node, message);
}

// The stream of `create -f` / `update -f`, and the proto names of the
// fields the file gave (for update's field mask).
absl::Status StreamFromFile(const std::string& path, Stream* stream,
                            std::vector<std::string>* given) {
  absl::StatusOr<std::string> text = ReadText(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<YAML::Node> node = common::ParseYaml(*text, path);
  if (!node.ok()) return node.status();
  if (absl::Status s = MapNode(*node, path, stream); !s.ok()) return s;
  if (node->IsMap()) {
    for (const auto& entry : *node) {
      const google::protobuf::FieldDescriptor* field =
          common::FindFieldPath(Stream::descriptor(), entry.first.Scalar());
      if (field != nullptr) given->push_back(field->name());
    }
  }
  return absl::OkStatus();
}

// The stream of the flags; `given` gets the proto names of the fields set.
absl::Status StreamFromFlags(const Args& args, Stream* stream, std::vector<std::string>* given) {
  if (args.Has("path")) stream->set_path(args.Get("path"));
  if (args.Has("plugin")) {
    stream->set_plugin(args.Get("plugin"));
    given->push_back("plugin");
  }
  if (args.Has("param")) {
    for (const std::string& param : args.GetAll("param")) {
      std::pair<std::string, std::string> kv = absl::StrSplit(param, absl::MaxSplits('=', 1));
      if (kv.first.empty() || param.find('=') == std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat("--param ", param, ": expected key=value"));
      }
      (*stream->mutable_parameters())[kv.first] = kv.second;
    }
    given->push_back("parameters");
  }
  if (args.Has("listener")) {
    for (const std::string& listener : args.GetAll("listener")) stream->add_listeners(listener);
    given->push_back("listeners");
  }
  if (args.Has("description")) {
    stream->set_description(args.Get("description"));
    given->push_back("description");
  }
  return absl::OkStatus();
}

void PrintStreams(OutputFormat format, const control::v1::ListStreamsResponse& response) {
  if (format != OutputFormat::kTable) {
    PrintMessage(format, response, std::cout);
    return;
  }
  Table table({"PATH", "STATE", "READERS", "FPS", "KBIT/S", "URL"});
  for (const auto& s : response.streams()) {
    table.AddRow({s.spec().path(), ShortState(s.report().state()),
                  absl::StrCat(s.report().readers()), FormatNumber(s.report().fps(), 1),
                  FormatNumber(s.report().bits_per_second() / 1000.0, 0),
                  s.urls().empty() ? "-" : s.urls(0)});
  }
  table.Print(std::cout);
}

void PrintStream(OutputFormat format, const control::v1::StreamStatus& stream) {
  if (format != OutputFormat::kTable) {
    PrintMessage(format, stream, std::cout);
    return;
  }
  control::v1::ListStreamsResponse one;
  *one.add_streams() = stream;
  PrintStreams(format, one);
}

int List(const Args& args, Command& c) {
  control::v1::ListStreamsResponse all;
  control::v1::ListStreamsRequest request;
  do {
    control::v1::ListStreamsResponse page;
    grpc::Status status =
        c.client->stub().ListStreams(c.client->NewContext().get(), request, &page);
    if (!status.ok()) return ReportRpcError(status);
    for (auto& s : *page.mutable_streams()) *all.add_streams() = std::move(s);
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  PrintStreams(c.format, all);
  return kExitOk;
}

int Get(const std::string& path, Command& c) {
  control::v1::GetStreamRequest request;
  request.set_path(path);
  control::v1::StreamStatus stream;
  grpc::Status status = c.client->stub().GetStream(c.client->NewContext().get(), request, &stream);
  if (!status.ok()) return ReportRpcError(status);
  if (c.format == OutputFormat::kTable) {
    PrintStream(c.format, stream);
    const Stream& spec = stream.spec();
    std::cout << "\nplugin:      " << spec.plugin() << "\n";
    if (!spec.description().empty()) std::cout << "description: " << spec.description() << "\n";
    for (const auto& [key, value] : stream.report().parameters()) {
      std::cout << "param:       " << key << "=" << value << "\n";
    }
    for (const std::string& url : stream.urls()) std::cout << "url:         " << url << "\n";
    if (!stream.report().state_reason().empty()) {
      std::cout << "reason:      " << stream.report().state_reason() << "\n";
    }
    return kExitOk;
  }
  PrintStream(c.format, stream);
  return kExitOk;
}

int Create(const Args& args, Command& c) {
  control::v1::CreateStreamRequest request;
  std::vector<std::string> given;
  absl::Status parsed = args.Has("file")
                            ? StreamFromFile(args.Get("file"), request.mutable_stream(), &given)
                            : absl::OkStatus();
  if (parsed.ok()) parsed = StreamFromFlags(args, request.mutable_stream(), &given);
  if (!parsed.ok()) return ReportUsage(parsed.message());
  if (request.stream().path().empty()) return ReportUsage("streams create: --path is required");
  control::v1::StreamStatus stream;
  grpc::Status status =
      c.client->stub().CreateStream(c.client->NewContext().get(), request, &stream);
  if (!status.ok()) return ReportRpcError(status);
  PrintStream(c.format, stream);
  return kExitOk;
}

int Update(const Args& args, const std::vector<std::string>& words, Command& c) {
  control::v1::UpdateStreamRequest request;
  Stream* stream = request.mutable_stream();
  std::vector<std::string> given;
  absl::Status parsed =
      args.Has("file") ? StreamFromFile(args.Get("file"), stream, &given) : absl::OkStatus();
  if (parsed.ok()) parsed = StreamFromFlags(args, stream, &given);
  if (!parsed.ok()) return ReportUsage(parsed.message());
  if (words.size() == 3) stream->set_path(words[2]);
  if (stream->path().empty())
    return ReportUsage("streams update: which stream? (<path> or --path)");
  given.erase(std::remove(given.begin(), given.end(), "path"), given.end());
  if (given.empty()) return ReportUsage("streams update: nothing to change");

  // --param merges into the stream's parameters (the mask takes the whole map).
  if (args.Has("param") && !args.Has("file")) {
    control::v1::GetStreamRequest get;
    get.set_path(stream->path());
    control::v1::StreamStatus current;
    grpc::Status status = c.client->stub().GetStream(c.client->NewContext().get(), get, &current);
    if (!status.ok()) return ReportRpcError(status);
    google::protobuf::Map<std::string, std::string> merged = current.spec().parameters();
    for (const auto& [key, value] : stream->parameters()) merged[key] = value;
    *stream->mutable_parameters() = merged;
  }
  for (const std::string& field : given) request.mutable_update_mask()->add_paths(field);

  control::v1::StreamStatus updated;
  grpc::Status status =
      c.client->stub().UpdateStream(c.client->NewContext().get(), request, &updated);
  if (!status.ok()) return ReportRpcError(status);
  PrintStream(c.format, updated);
  return kExitOk;
}

int Remove(const std::string& path, Command& c) {
  control::v1::DeleteStreamRequest request;
  request.set_path(path);
  control::v1::DeleteStreamResponse response;
  grpc::Status status =
      c.client->stub().DeleteStream(c.client->NewContext().get(), request, &response);
  if (!status.ok()) return ReportRpcError(status);
  if (c.format == OutputFormat::kTable) {
    std::cout << "deleted " << path << "\n";
  } else {
    PrintMessage(c.format, response, std::cout);
  }
  return kExitOk;
}

int Apply(const Args& args, Command& c) {
  if (!args.Has("file")) return ReportUsage("streams apply: -f file.yaml is required");
  std::string path = args.Get("file");
  absl::StatusOr<std::string> text = ReadText(path);
  if (!text.ok()) return ReportUsage(text.status().message());
  // The file has the shape of ApplyStreamsRequest with the config file's
  // names: `streams:` (upserts) and `delete:`.
  absl::StatusOr<YAML::Node> node = common::ParseYaml(*text, path);
  if (!node.ok()) return ReportUsage(node.status().message());
  control::v1::ApplyStreamsRequest request;
  if (node->IsMap()) {
    YAML::Node upserts;
    YAML::Node rest(YAML::NodeType::Map);
    for (const auto& entry : *node) {
      if (entry.first.Scalar() == "streams") {
        upserts = entry.second;
      } else {
        rest[entry.first] = entry.second;
      }
    }
    if (upserts && !upserts.IsNull()) {
      YAML::Node wrapped(YAML::NodeType::Map);
      wrapped["upsert"] = upserts;
      if (absl::Status s = MapNode(wrapped, path, &request); !s.ok()) {
        return ReportUsage(s.message());
      }
    }
    if (absl::Status s = MapNode(rest, path, &request); !s.ok()) return ReportUsage(s.message());
  } else if (!node->IsNull()) {
    return ReportUsage(absl::StrCat(path, ": expected a map with streams: and delete:"));
  }

  control::v1::ApplyStreamsResponse response;
  grpc::Status status =
      c.client->stub().ApplyStreams(c.client->NewContext().get(), request, &response);
  if (!status.ok()) return ReportRpcError(status);
  bool failed = false;
  for (const auto& r : response.results()) failed |= r.code() != 0;
  if (c.format != OutputFormat::kTable) {
    PrintMessage(c.format, response, std::cout);
  } else {
    Table table({"PATH", "RESULT", "MESSAGE"});
    for (const auto& r : response.results()) {
      table.AddRow({r.path(), control::v1::ApplyResult::Action_Name(r.action()), r.message()});
    }
    table.Print(std::cout);
  }
  if (!failed) return kExitOk;
  // The exit code of the first failure, as if that call had been made alone.
  for (const auto& r : response.results()) {
    if (r.code() != 0) return ExitCodeFor(static_cast<grpc::StatusCode>(r.code()));
  }
  return kExitError;
}

}  // namespace

int RunStreams(const Args& args) {
  const std::vector<std::string>& words = args.positional();
  if (args.help()) {
    std::cout << kHelp << kGlobalHelp;
    return kExitOk;
  }
  if (words.size() < 2)
    return ReportUsage("streams: which command? (ls, get, create, update, rm, apply)");
  const std::string& verb = words[1];
  Command c;
  auto want_args = [&](size_t n) { return words.size() == n + 2; };
  if (verb == "ls") {
    if (!want_args(0)) return ReportUsage("usage: rtspctl streams ls");
    if (int code = PrepareCommand(args, {}, &c); code != kExitOk) return code;
    return List(args, c);
  }
  if (verb == "get" || verb == "rm") {
    if (!want_args(1)) return ReportUsage(absl::StrCat("usage: rtspctl streams ", verb, " <path>"));
    if (int code = PrepareCommand(args, {}, &c); code != kExitOk) return code;
    return verb == "get" ? Get(words[2], c) : Remove(words[2], c);
  }
  if (verb == "create") {
    if (!want_args(0)) return ReportUsage("usage: rtspctl streams create --path ... | -f file");
    if (int code = PrepareCommand(args, kStreamFlags, &c); code != kExitOk) return code;
    return Create(args, c);
  }
  if (verb == "update") {
    if (words.size() > 3) return ReportUsage("usage: rtspctl streams update [<path>] [flags]");
    if (int code = PrepareCommand(args, kStreamFlags, &c); code != kExitOk) return code;
    return Update(args, words, c);
  }
  if (verb == "apply") {
    if (!want_args(0)) return ReportUsage("usage: rtspctl streams apply -f file.yaml");
    if (int code = PrepareCommand(args, {"file"}, &c); code != kExitOk) return code;
    return Apply(args, c);
  }
  return ReportUsage(absl::StrCat("streams: unknown command '", verb, "'"));
}

}  // namespace rtsptest::tools
