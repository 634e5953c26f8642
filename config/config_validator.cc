// Built-in defaults and semantic validation of a ServerConfig (see header).
#include "config/config_validator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/net/host_port.h"
#include "common/plugin_name/plugin_name.h"
#include "common/time/proto_time.h"
#include "config/control_files.h"

namespace rtsptest::config {
namespace {

// Well-formed UTF-8 (RFC 3629): no overlong forms, surrogates or code
// points above U+10FFFF.
bool IsValidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    int length = 0;
    uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      length = 2;
      code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3;
      code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (int k = 1; k < length; ++k) {
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinForLength[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

// Listener names become gRPC health service names, metric labels and log
// fields: keep them to characters that need no quoting anywhere.
bool IsValidListenerName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

// An address in binary form, so that "::" and "0:0::0" compare equal.
// Returns "" when `text` is neither IPv4 nor IPv6.
std::string NormalizeAddress(const std::string& text) {
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return absl::StrCat("4:", absl::string_view(reinterpret_cast<const char*>(&v4), sizeof(v4)));
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return absl::StrCat("6:", absl::string_view(reinterpret_cast<const char*>(&v6), sizeof(v6)));
  }
  return "";
}

}  // namespace

std::string DefaultListenerName(uint32_t port, int index) {
  return port == 0 ? absl::StrCat("rtsp-ephemeral-", index) : absl::StrCat("rtsp-", port);
}

void ApplyDefaults(v1::ServerConfig* config) {
  for (int i = 0; i < config->listeners_size(); ++i) {
    v1::Listener* listener = config->mutable_listeners(i);
    if (listener->name().empty()) listener->set_name(DefaultListenerName(listener->port(), i));
    if (listener->bind_address().empty()) listener->set_bind_address(kDefaultBindAddress);
  }
  if (!config->has_drain_timeout()) {
    config->mutable_drain_timeout()->set_seconds(absl::ToInt64Seconds(kDefaultDrainTimeout));
  }
  v1::Health* health = config->mutable_health();
  if (!health->has_probe_interval()) {
    health->mutable_probe_interval()->set_seconds(absl::ToInt64Seconds(kDefaultProbeInterval));
  }
  if (!health->has_probe_timeout()) {
    health->mutable_probe_timeout()->set_seconds(absl::ToInt64Seconds(kDefaultProbeTimeout));
  }
  if (!health->has_stall_timeout())
    *health->mutable_stall_timeout() = common::ToProtoDuration(kDefaultStallTimeout);
  v1::ControlPlane* control = config->mutable_control();
  if (control->bind_address().empty()) control->set_bind_address(kDefaultBindAddress);
  if (!control->has_port()) control->set_port(kDefaultControlPort);
  if (config->logging().level() == v1::Logging::LEVEL_UNSPECIFIED) {
    config->mutable_logging()->set_level(v1::Logging::INFO);
  }
}

absl::Status ConfigValidator::Validate(const v1::ServerConfig& config) const {
  absl::Status status = ValidateListeners(config);
  if (status.ok()) status = ValidateStreams(config);
  if (status.ok()) status = ValidateGlobals(config);
  if (status.ok()) status = ValidateControlSecurity(config.control());
  return status;
}

absl::Status ConfigValidator::ValidateListeners(const v1::ServerConfig& config) const {
  if (config.listeners_size() == 0) {
    return Error("listeners", "at least one listener is required");
  }
  absl::flat_hash_map<std::string, int> names;      // name -> index
  absl::flat_hash_map<std::string, int> endpoints;  // address+port -> index
  for (int i = 0; i < config.listeners_size(); ++i) {
    const v1::Listener& listener = config.listeners(i);
    const std::string path = absl::StrCat("listeners[", i, "]");
    if (!IsValidListenerName(listener.name())) {
      return Error(path + ".name",
                   absl::StrCat("'", listener.name(), "' is not a valid listener name (use ",
                                "letters, digits, '-', '_' and '.')"));
    }
    auto [name_it, new_name] = names.emplace(listener.name(), i);
    if (!new_name) {
      return Error(path + ".name", absl::StrCat("duplicate listener name '", listener.name(),
                                                "' (also listeners[", name_it->second, "])"));
    }
    if (listener.port() > kMaxPort) {
      return Error(path + ".port",
                   absl::StrCat(listener.port(), " is out of range (0..", kMaxPort, ")"));
    }
    std::string address = NormalizeAddress(listener.bind_address());
    if (address.empty()) {
      return Error(path + ".bind_address",
                   absl::StrCat("'", listener.bind_address(),
                                "' is not an IPv4 or IPv6 address (host names are not "
                                "resolved; use e.g. 0.0.0.0, 127.0.0.1 or ::)"));
    }
    // Port 0 asks the kernel for a fresh port each time, so it never clashes.
    if (listener.port() == 0) continue;
    auto [endpoint_it, new_endpoint] =
        endpoints.emplace(absl::StrCat(address, "/", listener.port()), i);
    if (!new_endpoint) {
      const v1::Listener& first = config.listeners(endpoint_it->second);
      return Error(path + ".port",
                   absl::StrCat(common::JoinHostPort(listener.bind_address(), listener.port()),
                                " is already used by listeners[", endpoint_it->second, "] ('",
                                first.name(), "')"));
    }
  }
  return absl::OkStatus();
}

absl::Status ConfigValidator::ValidateStreams(const v1::ServerConfig& config) const {
  if (config.streams_size() > static_cast<int>(kMaxStreams)) {
    return Error("streams", absl::StrCat(config.streams_size(), " streams; at most ", kMaxStreams));
  }
  absl::flat_hash_map<std::string, int> paths;  // mount path -> index
  for (int i = 0; i < config.streams_size(); ++i) {
    const v1::Stream& stream = config.streams(i);
    const std::string path = absl::StrCat("streams[", i, "]");
    if (absl::Status status = ValidateStream(config, stream, path); !status.ok()) return status;
    auto [path_it, new_path] = paths.emplace(stream.path(), i);
    if (!new_path) {
      return Error(path + ".path", absl::StrCat("duplicate path '", stream.path(),
                                                "' (also streams[", path_it->second, "])"));
    }
  }
  return absl::OkStatus();
}

absl::Status ConfigValidator::ValidateStream(const v1::ServerConfig& config,
                                             const v1::Stream& stream,
                                             absl::string_view field) const {
  const std::string path(field);
  const std::string& mount = stream.path();
  if (mount.empty()) return Error(path + ".path", "is empty (expected e.g. /cam1)");
  if (mount[0] != '/') {
    return Error(path + ".path", absl::StrCat("'", mount, "' must start with '/'"));
  }
  for (unsigned char c : mount) {
    // RTSP URLs carry the path verbatim: a space, '?' or '#' would change
    // what clients request.
    if (c <= 0x20 || c == 0x7f || c == '?' || c == '#') {
      return Error(path + ".path",
                   absl::StrCat("'", absl::CHexEscape(mount),
                                "' must not contain spaces, control characters, '?' or '#'"));
    }
  }
  if (stream.plugin().empty()) {
    return Error(path + ".plugin",
                 "is empty (name the plugin that serves this stream, "
                 "e.g. testpattern)");
  }
  if (!common::IsValidPluginName(stream.plugin())) {
    return Error(path + ".plugin", absl::StrCat("'", stream.plugin(), "' must match [a-z0-9_-]+"));
  }
  // Bounded, so that every answer carrying the streams (a health report of
  // all of them) stays far below what gRPC clients accept.
  for (const auto& [field, text, limit] :
       {std::tuple<const char*, const std::string*, size_t>{".path", &stream.path(), kMaxPathBytes},
        {".description", &stream.description(), kMaxDescriptionBytes}}) {
    if (text->size() > limit) {
      return Error(path + field, absl::StrCat(text->size(), " bytes; at most ", limit));
    }
  }
  if (stream.parameters_size() > static_cast<int>(kMaxParameters)) {
    return Error(path + ".parameters",
                 absl::StrCat(stream.parameters_size(), " parameters; at most ", kMaxParameters));
  }
  for (const auto& [key, value] : stream.parameters()) {
    if (key.empty()) return Error(path + ".parameters", "empty parameter name");
    if (key.size() > kMaxParameterNameBytes || value.size() > kMaxParameterValueBytes) {
      return Error(path + ".parameters",
                   absl::StrCat("'", absl::CHexEscape(key.substr(0, 64)), "': name ", key.size(),
                                " bytes, value ", value.size(), " bytes; at most ",
                                kMaxParameterNameBytes, " and ", kMaxParameterValueBytes));
    }
    if (!IsValidUtf8(key) || !IsValidUtf8(value)) {
      return Error(path + ".parameters",
                   absl::StrCat("'", absl::CHexEscape(key), "': not valid UTF-8"));
    }
  }
  // Protobuf strings must be UTF-8: anything else cannot be serialized, and
  // every answer carrying the stream (health reports included) would fail.
  for (const auto& [field, text] :
       {std::pair<const char*, const std::string*>{".path", &stream.path()},
        {".description", &stream.description()}}) {
    if (!IsValidUtf8(*text)) {
      return Error(path + field,
                   absl::StrCat("'", absl::CHexEscape(*text), "' is not valid UTF-8"));
    }
  }
  if (stream.has_auth()) {
    if (absl::Status status = ValidateStreamAuth(stream.auth(), path + ".auth"); !status.ok()) {
      return status;
    }
  }
  std::vector<std::string> listener_names;
  for (const v1::Listener& listener : config.listeners()) listener_names.push_back(listener.name());
  absl::flat_hash_set<std::string> listed;
  for (int j = 0; j < stream.listeners_size(); ++j) {
    const std::string& name = stream.listeners(j);
    const std::string entry = absl::StrCat(path, ".listeners[", j, "]");
    if (std::find(listener_names.begin(), listener_names.end(), name) == listener_names.end()) {
      return Error(entry, absl::StrCat("no listener named '", name,
                                       "' (have: ", absl::StrJoin(listener_names, ", "), ")"));
    }
    if (!listed.insert(name).second) {
      return Error(entry, absl::StrCat("listener '", name, "' is listed twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status ConfigValidator::ValidateStreamAuth(const v1::StreamAuth& auth,
                                                 const std::string& field) const {
  if (!v1::StreamAuth::Method_IsValid(auth.method())) {
    return Error(field + ".method", absl::StrCat(auth.method(), " is not BASIC or DIGEST"));
  }
  // The username is shown (errors, API answers); the password never is.
  const std::string& user = auth.username();
  if (user.empty()) return Error(field + ".username", "is empty");
  for (unsigned char c : user) {
    if (c < 0x21 || c > 0x7e || c == ':') {
      return Error(field + ".username",
                   absl::StrCat("'", absl::CHexEscape(user),
                                "' must be printable ASCII without spaces or ':'"));
    }
  }
  if (auth.password().empty()) return Error(field + ".password", "is empty");
  for (unsigned char c : auth.password()) {
    if (c < 0x20 || c > 0x7e) {
      return Error(field + ".password", "must be printable ASCII (the value is not shown)");
    }
  }
  return absl::OkStatus();
}

absl::Status ConfigValidator::ValidateGlobals(const v1::ServerConfig& config) const {
  for (int i = 0; i < config.plugin_dirs_size(); ++i) {
    if (config.plugin_dirs(i).empty()) {
      return Error(absl::StrCat("plugin_dirs[", i, "]"), "is empty");
    }
  }
  if (config.has_drain_timeout()) {
    const auto& proto = config.drain_timeout();
    // A hand-built proto could mix signs; the mapper never does.
    if (proto.nanos() <= -1000000000 || proto.nanos() >= 1000000000 ||
        (proto.seconds() > 0 && proto.nanos() < 0) || (proto.seconds() < 0 && proto.nanos() > 0)) {
      return Error("drain_timeout", absl::StrCat("malformed duration (seconds=", proto.seconds(),
                                                 ", nanos=", proto.nanos(), ")"));
    }
    absl::Duration drain = common::FromProtoDuration(proto);
    if (drain < absl::ZeroDuration()) {
      return Error("drain_timeout",
                   absl::StrCat(absl::FormatDuration(drain), " is negative (0 exits at once)"));
    }
    if (drain > kMaxDrainTimeout) {
      return Error("drain_timeout",
                   absl::StrCat(absl::FormatDuration(drain), " is longer than the maximum ",
                                absl::FormatDuration(kMaxDrainTimeout)));
    }
  }
  if (config.health().min_healthy_listeners() > static_cast<uint32_t>(config.listeners_size())) {
    return Error("health.min_healthy_listeners",
                 absl::StrCat(config.health().min_healthy_listeners(), " is more than the ",
                              config.listeners_size(), " listeners"));
  }
  struct ProbeTiming {
    const char* path;
    const google::protobuf::Duration* value;
    absl::Duration min;
  };
  for (const ProbeTiming& timing :
       {ProbeTiming{"health.probe_interval", &config.health().probe_interval(), kMinProbeInterval},
        ProbeTiming{"health.probe_timeout", &config.health().probe_timeout(), kMinProbeTimeout}}) {
    absl::Duration value = common::FromProtoDuration(*timing.value);
    if (value < timing.min || value > kMaxProbeTiming) {
      return Error(timing.path, absl::StrCat(absl::FormatDuration(value), " must be in [",
                                             absl::FormatDuration(timing.min), ", ",
                                             absl::FormatDuration(kMaxProbeTiming), "]"));
    }
  }
  if (config.health().has_stall_timeout()) {
    absl::Duration stall = common::FromProtoDuration(config.health().stall_timeout());
    if (stall < kMinStallTimeout || stall > kMaxStallTimeout) {
      return Error("health.stall_timeout",
                   absl::StrCat(absl::FormatDuration(stall), " must be in [",
                                absl::FormatDuration(kMinStallTimeout), ", ",
                                absl::FormatDuration(kMaxStallTimeout), "]"));
    }
  }
  if (config.control().port() > kMaxPort) {
    return Error("control.port",
                 absl::StrCat(config.control().port(), " is out of range (0..", kMaxPort, ")"));
  }
  if (!config.control().bind_address().empty() &&
      NormalizeAddress(config.control().bind_address()).empty()) {
    return Error("control.bind_address", absl::StrCat("'", config.control().bind_address(),
                                                      "' is not an IPv4 or IPv6 address"));
  }
  if (!config.state_file().empty()) {
    // The store writes a temporary file beside it and renames it over, so
    // the directory must exist; the file itself need not.
    const std::string& file = config.state_file();
    const size_t slash = file.rfind('/');
    const std::string dir = slash == std::string::npos ? "."
                            : slash == 0               ? "/"
                                                       : file.substr(0, slash);
    struct stat info;
    if (file.back() == '/') {
      return Error("state_file", absl::StrCat("'", file, "' names a directory, not a file"));
    }
    if (stat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
      return Error("state_file",
                   absl::StrCat("'", file, "': directory '", dir, "' does not exist"));
    }
  }
  if (!v1::Logging::Level_IsValid(config.logging().level())) {
    return Error("logging.level",
                 absl::StrCat(config.logging().level(), " is not a known log level"));
  }
  return absl::OkStatus();
}

absl::Status ConfigValidator::ValidateControlSecurity(const v1::ControlPlane& control) const {
  if (control.has_token()) {
    if (absl::Status status = CheckControlToken(control.token()); !status.ok()) {
      return Error("control.token", status.message());
    }
  }
  if (control.has_token_file()) {
    if (absl::Status status = ReadControlTokenFile(control.token_file()).status(); !status.ok()) {
      return Error("control.token_file", status.message());
    }
  }
  const v1::ControlTls& tls = control.tls();
  if (tls.cert_file().empty() != tls.key_file().empty()) {
    return tls.cert_file().empty()
               ? Error("control.tls.cert_file", "is required when control.tls.key_file is set")
               : Error("control.tls.key_file", "is required when control.tls.cert_file is set");
  }
  if (!tls.client_ca_file().empty() && tls.cert_file().empty()) {
    return Error("control.tls.cert_file",
                 "is required when control.tls.client_ca_file is set (mTLS needs TLS)");
  }
  for (const auto& [path, file, kind] :
       {std::tuple<const char*, const std::string*, PemKind>{
            "control.tls.cert_file", &tls.cert_file(), PemKind::kCertificate},
        {"control.tls.key_file", &tls.key_file(), PemKind::kPrivateKey},
        {"control.tls.client_ca_file", &tls.client_ca_file(), PemKind::kCertificate}}) {
    if (file->empty()) continue;
    if (absl::Status status = ReadPemFile(*file, kind).status(); !status.ok()) {
      return Error(path, status.message());
    }
  }
  return absl::OkStatus();
}

absl::Status ConfigValidator::Error(absl::string_view path, absl::string_view message) const {
  std::string location = locations_ != nullptr ? locations_->Locate(path) : "";
  return absl::InvalidArgumentError(common::FormatFieldError(location, path, message));
}

}  // namespace rtsptest::config
