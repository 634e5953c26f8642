// --check_config's stream check (see stream_check.h).
#include "core/plugin_host/stream_check.h"

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace rtsptest::core {

std::vector<std::string> CheckStreams(const config::v1::ServerConfig& config,
                                      PluginLoader& loader) {
  // Every stream at once, as the server builds them: a create that blocks
  // costs its time-out once (Plugin::CreateElement), not once per stream.
  std::vector<absl::Status> results(config.streams_size());
  std::vector<std::thread> checks;
  for (int i = 0; i < config.streams_size(); ++i) {
    checks.emplace_back([&config, &loader, &results, i] {
      const config::v1::Stream& stream = config.streams(i);
      absl::StatusOr<std::shared_ptr<const Plugin>> plugin = loader.Load(stream.plugin());
      absl::Status status = plugin.status();
      if (plugin.ok()) {
        std::map<std::string, std::string> raw(stream.parameters().begin(),
                                               stream.parameters().end());
        // The element is dropped at once: building it is the check.
        status = (*plugin)->CreateElement(stream.path(), raw).status();
      }
      results[i] = status;
    });
  }
  for (std::thread& check : checks) check.join();
  std::vector<std::string> errors;
  for (int i = 0; i < config.streams_size(); ++i) {
    if (results[i].ok()) continue;
    // Plugin errors at stream time already name the stream; load errors not.
    std::string message(results[i].message());
    std::string prefix = absl::StrCat("stream ", config.streams(i).path(), ": ");
    errors.push_back(absl::StartsWith(message, prefix) ? message : prefix + message);
  }
  return errors;
}

}  // namespace rtsptest::core
