// Checks one stream spec from the control API with exactly the rules of the
// config file (config::ConfigValidator): the spec is validated as the only
// stream of the server's own config, so path, plugin name, parameter names
// and listener references follow one definition.
#ifndef RTSPTEST_CONTROL_SERVICES_STREAM_SPEC_VALIDATOR_H_
#define RTSPTEST_CONTROL_SERVICES_STREAM_SPEC_VALIDATOR_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::control {

class StreamSpecValidator {
 public:
  // `config` is the server's (validated) config; it must outlive this.
  explicit StreamSpecValidator(const config::v1::ServerConfig* config) : config_(config) {}

  // InvalidArgument naming `field` (e.g. "stream", "upsert[2]") and the
  // value: "stream.path: 'cam1' must start with '/'". Parameter values are
  // the plugin's business (checked against its schema when the stream is
  // built).
  absl::Status Validate(const config::v1::Stream& spec, absl::string_view field) const;

 private:
  const config::v1::ServerConfig* const config_;
};

}  // namespace rtsptest::control

#endif  // RTSPTEST_CONTROL_SERVICES_STREAM_SPEC_VALIDATOR_H_
