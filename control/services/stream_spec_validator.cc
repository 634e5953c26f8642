// StreamSpecValidator (see header).
#include "control/services/stream_spec_validator.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "config/config_validator.h"

namespace rtsptest::control {

absl::Status StreamSpecValidator::Validate(const config::v1::Stream& spec,
                                           absl::string_view field) const {
  // The server's own config, which passed at start, with `spec` as its
  // only stream: whatever fails is the spec's fault.
  config::v1::ServerConfig one = *config_;
  one.clear_streams();
  *one.add_streams() = spec;
  absl::Status status = config::ConfigValidator().Validate(one);
  if (status.ok()) return status;
  // The validator names the field as in a file ("streams[0].path: ...").
  constexpr absl::string_view kFileField = "streams[0]";
  std::string message(status.message());
  if (absl::StartsWith(message, kFileField)) {
    message = absl::StrCat(field, message.substr(kFileField.size()));
  }
  return absl::Status(status.code(), message);
}

}  // namespace rtsptest::control
