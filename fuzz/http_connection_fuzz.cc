// libFuzzer target: the gateway's HTTP protocol (gateway/http_connection,
// gateway/http_wire), fed any bytes a client might send, as a socket that
// takes every answer at once. Besides memory errors, it checks that what the
// client gets does not depend on how the socket cut the bytes into reads:
// the same answers' status lines, the same handler calls and the same final
// phase, all at once or in pieces whose size the first byte picks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "gateway/http_connection.h"

namespace {

using rtsptest::gateway::HttpConnection;
using rtsptest::gateway::HttpConnectionLimits;
using rtsptest::gateway::HttpHandler;
using rtsptest::gateway::HttpRequest;
using rtsptest::gateway::HttpResponse;

struct Outcome {
  std::string status_lines;
  std::string requests;
  HttpConnection::Phase phase;
  bool operator!=(const Outcome& other) const {
    return status_lines != other.status_lines || requests != other.requests ||
           phase != other.phase;
  }
};

Outcome Run(absl::string_view bytes, size_t piece) {
  Outcome outcome;
  const HttpHandler handler = [&outcome](const HttpRequest& request) {
    outcome.requests += request.method + " " + request.path + "\n";
    HttpResponse response;
    response.body = request.path;
    return response;
  };
  // Small limits, so that short inputs reach every verdict.
  HttpConnection connection(HttpConnectionLimits{1024, 64, false}, &handler, "192.0.2.1");
  for (size_t i = 0; i < bytes.size(); i += piece) {
    connection.Receive(bytes.substr(i, piece));
    while (!connection.output().empty()) {
      const absl::string_view out = connection.output();
      if (out.substr(0, 9) != "HTTP/1.1 ") std::abort();
      outcome.status_lines += std::string(out.substr(0, out.find('\r'))) + "\n";
      // Half of it, then the rest: a partial send must not lose or repeat.
      connection.Sent(out.size() / 2);
      connection.Sent(connection.output().size());
    }
  }
  outcome.phase = connection.phase();
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 16;
  absl::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (Run(bytes, bytes.size() + 1) != Run(bytes, piece)) std::abort();
  return 0;
}
