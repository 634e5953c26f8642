// ApplyUpdateMask (see header).
#include "control/services/stream_update.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace rtsptest::control {

absl::StatusOr<config::v1::Stream> ApplyUpdateMask(const config::v1::Stream& current,
                                                   const config::v1::Stream& update,
                                                   const google::protobuf::FieldMask& mask) {
  if (mask.paths().empty()) {
    config::v1::Stream merged = update;
    merged.set_path(current.path());
    return merged;
  }
  config::v1::Stream merged = current;
  for (int i = 0; i < mask.paths_size(); ++i) {
    const std::string& field = mask.paths(i);
    constexpr absl::string_view kParameter = "parameters.";
    if (field == "plugin") {
      merged.set_plugin(update.plugin());
    } else if (field == "parameters") {
      *merged.mutable_parameters() = update.parameters();
    } else if (absl::StartsWith(field, kParameter) && field.size() > kParameter.size()) {
      const std::string name = field.substr(kParameter.size());
      auto it = update.parameters().find(name);
      if (it == update.parameters().end()) {
        merged.mutable_parameters()->erase(name);
      } else {
        (*merged.mutable_parameters())[name] = it->second;
      }
    } else if (field == "listeners") {
      *merged.mutable_listeners() = update.listeners();
    } else if (field == "description") {
      merged.set_description(update.description());
    } else if (field == "auth") {
      // Whole: a stream's credentials change together (or go, when the
      // update has none).
      if (update.has_auth()) {
        *merged.mutable_auth() = update.auth();
      } else {
        merged.clear_auth();
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask.paths[", i, "]: unknown field '", field,
                       "' (have: plugin, parameters, parameters.<name>, listeners, "
                       "description, auth; the path cannot change)"));
    }
  }
  return merged;
}

}  // namespace rtsptest::control
