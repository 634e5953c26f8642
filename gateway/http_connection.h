// HttpConnection: the protocol side of one HTTP/1.1 connection of the
// gateway's HttpServer, without the socket. Bytes the client sent go in;
// the handler runs once per request; response bytes come out.
//
// One request at a time: while a response is being sent (kResponding) the
// connection takes no input, so a pipelining client waits in its socket
// buffer, not in our memory. Input is held only up to max_header_bytes (a
// request head) plus what one read brings; bodies are counted and dropped.
//
// Refused at once, with a response that closes the connection:
//   - a head over max_header_bytes: 414 if the request line alone is, else
//     431;
//   - bytes that cannot start a request (a TLS handshake, binary), and
//     malformed heads (http_wire.h): 400, or 501 / 505;
//   - GET or HEAD with a body (Content-Length > 0 or Transfer-Encoding):
//     400, before a byte of the body is read;
//   - a body over max_body_bytes, declared or counted: 413.
// The time limits belong to the server, which sees the phase().
#ifndef RTSPTEST_GATEWAY_HTTP_CONNECTION_H_
#define RTSPTEST_GATEWAY_HTTP_CONNECTION_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gateway/http_wire.h"

namespace rtsptest::gateway {

// Runs once per request, after its head (and any body) arrived. Must not
// block: it runs on the server's event-loop threads.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpConnectionLimits {
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024;
  // One JSON log line per request.
  bool access_log = false;
};

class HttpConnection {
 public:
  enum class Phase {
    kHeaders,     // Waiting for (the rest of) a request line and headers.
    kBody,        // Headers complete; reading past the body.
    kResponding,  // output() holds a response not yet sent.
    kClosing,     // The last response is out; the server closes its side.
  };

  // `handler` outlives the connection. `remote` is the client's address.
  HttpConnection(const HttpConnectionLimits& limits, const HttpHandler* handler,
                 std::string remote);

  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Takes bytes read from the socket (not while kResponding); may run the
  // handler and queue output. Ignored once kClosing.
  void Receive(absl::string_view bytes);

  // What is left to send.
  absl::string_view output() const { return absl::string_view(output_).substr(sent_); }
  // `n` bytes of output() were sent. Once all are, the connection goes on
  // to the next request (kHeaders, with any bytes already received), or to
  // kClosing.
  void Sent(size_t n);

  Phase phase() const { return phase_; }
  // Responses sent in full so far.
  uint64_t responses() const { return responses_; }

 private:
  // Parses and answers what input_ holds, request by request, until it
  // needs more bytes or has output to send.
  void Process();
  // kHeaders: parses a complete head, or refuses one that cannot become
  // one. False when there is not enough input yet, or a refusal was queued.
  bool TakeHead();
  void Refuse(int status, absl::string_view detail);
  void Respond(const HttpResponse& response, bool close);

  const HttpConnectionLimits limits_;
  const HttpHandler* const handler_;
  const std::string remote_;

  Phase phase_ = Phase::kHeaders;
  std::string input_;
  size_t scanned_ = 0;  // FindHeadEnd's progress in input_.
  HttpRequestHead head_;
  std::optional<BodySkipper> body_;
  absl::Time started_;  // When the current request's head was complete.
  std::string output_;
  size_t sent_ = 0;
  bool close_after_output_ = false;
  uint64_t responses_ = 0;
};

}  // namespace rtsptest::gateway

#endif  // RTSPTEST_GATEWAY_HTTP_CONNECTION_H_
