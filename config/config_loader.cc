// Loading the server's configuration (see config_loader.h).
#include "config/config_loader.h"

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/proto_yaml/proto_yaml_mapper.h"
#include "common/proto_yaml/source_map.h"
#include "config/config_validator.h"
#include "config/control_files.h"

namespace rtsptest::config {
namespace {

// A config is a few kilobytes; the cap keeps a path like /dev/zero from
// eating memory before the parser can complain.
constexpr size_t kMaxConfigBytes = 4 << 20;

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (file == nullptr) return absl::ErrnoToStatus(errno, absl::StrCat("config file ", path));
  std::string contents;
  char buffer[8192];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) {
    contents.append(buffer, n);
    if (contents.size() > kMaxConfigBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("config file ", path, ": larger than ", kMaxConfigBytes, " bytes"));
    }
  }
  // fopen() succeeds on a directory on Linux; the read fails with EISDIR.
  if (std::ferror(file.get())) {
    return absl::ErrnoToStatus(errno, absl::StrCat("config file ", path));
  }
  return contents;
}

}  // namespace

v1::ServerConfig BuiltInServerConfig() {
  v1::ServerConfig config;
  for (uint32_t port = 8554; port <= 8557; ++port) {
    v1::Listener* listener = config.add_listeners();
    listener->set_name(DefaultListenerName(port, config.listeners_size() - 1));
    listener->set_bind_address(kDefaultBindAddress);
    listener->set_port(port);
  }
  return config;
}

std::optional<std::string> ChooseConfigPath(const ConfigOverrides& flags,
                                            const ConfigOverrides& env) {
  if (flags.config_path.has_value() && !flags.config_path->empty()) return flags.config_path;
  if (env.config_path.has_value() && !env.config_path->empty()) return env.config_path;
  return std::nullopt;
}

absl::StatusOr<v1::ServerConfig> ParseServerConfig(absl::string_view text,
                                                   absl::string_view source_name,
                                                   common::SourceMap* locations) {
  common::SourceMap own_locations{std::string(source_name)};
  if (locations == nullptr) {
    locations = &own_locations;
  } else {
    *locations = common::SourceMap(std::string(source_name));
  }
  absl::StatusOr<YAML::Node> document = common::ParseYaml(text, source_name);
  if (!document.ok()) return document.status();
  v1::ServerConfig config;
  absl::Status status = common::ProtoYamlMapper(locations).Map(*document, &config);
  if (!status.ok()) return status;
  return config;
}

absl::StatusOr<v1::ServerConfig> ReadServerConfigFile(const std::string& path,
                                                      common::SourceMap* locations) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseServerConfig(*text, path, locations);
}

absl::StatusOr<v1::ServerConfig> LoadServerConfig(const ConfigOverrides& flags,
                                                  const ConfigOverrides& env) {
  common::SourceMap locations;
  v1::ServerConfig config;
  if (std::optional<std::string> path = ChooseConfigPath(flags, env)) {
    absl::StatusOr<v1::ServerConfig> from_file = ReadServerConfigFile(*path, &locations);
    if (!from_file.ok()) return from_file.status();
    config = *std::move(from_file);
  }
  if (config.listeners_size() == 0) {
    *config.mutable_listeners() = BuiltInServerConfig().listeners();
  }
  for (const ConfigOverrides* overrides : {&env, &flags}) {
    ApplyOverrides(*overrides, &config, &locations);
  }
  ApplyDefaults(&config);
  absl::Status status = ConfigValidator(&locations).Validate(config);
  if (!status.ok()) return status;
  // The token file is read once, here: the loaded config carries the token.
  if (config.control().has_token_file()) {
    absl::StatusOr<std::string> token = ReadControlTokenFile(config.control().token_file());
    if (!token.ok()) return token.status();  // only if the file changed since Validate()
    config.mutable_control()->set_token(*std::move(token));
  }
  return config;
}

}  // namespace rtsptest::config
