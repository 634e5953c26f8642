// HttpConnection: request by request, head, body, handler, response.
#include "gateway/http_connection.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log/log.h"

namespace rtsptest::gateway {

HttpConnection::HttpConnection(const HttpConnectionLimits& limits, const HttpHandler* handler,
                               std::string remote)
    : limits_(limits), handler_(handler), remote_(std::move(remote)) {}

void HttpConnection::Receive(absl::string_view bytes) {
  if (phase_ == Phase::kClosing || phase_ == Phase::kResponding) return;
  input_.append(bytes.data(), bytes.size());
  Process();
}

void HttpConnection::Sent(size_t n) {
  sent_ = std::min(output_.size(), sent_ + n);
  if (sent_ < output_.size()) return;
  output_.clear();
  sent_ = 0;
  ++responses_;
  if (close_after_output_) {
    phase_ = Phase::kClosing;
    input_.clear();
    return;
  }
  phase_ = Phase::kHeaders;
  Process();
}

void HttpConnection::Process() {
  while (phase_ == Phase::kHeaders || phase_ == Phase::kBody) {
    if (phase_ == Phase::kHeaders && !TakeHead()) return;
    // kBody: read past what of the body has arrived.
    input_.erase(0, body_->Feed(input_));
    // The size first: where the bytes arrive in one read or in several,
    // a body both too large and malformed gets the same answer.
    if (body_->data_bytes() > limits_.max_body_bytes) return Refuse(413, "request body too large");
    if (body_->failed()) return Refuse(400, "malformed chunked body");
    if (!body_->done()) return;
    HttpRequest request = head_.request;
    request.remote = remote_;
    Respond((*handler_)(request), !head_.keep_alive);
  }
}

bool HttpConnection::TakeHead() {
  if (scanned_ == 0) input_.erase(0, LeadingBlankLineBytes(input_));
  const size_t end = FindHeadEnd(input_, &scanned_);
  if (end == std::string::npos || end > limits_.max_header_bytes) {
    // No request yet: what a refusal logs, and its response says, is its own.
    head_ = HttpRequestHead();
    // Only the bytes within the limit are judged, so that the verdict is
    // the same however the socket cut them into reads.
    const absl::string_view within = absl::string_view(input_).substr(0, limits_.max_header_bytes);
    const size_t seen = end == std::string::npos ? input_.size() : end;
    if (!CouldStartRequestHead(within)) {
      Refuse(400, "not an HTTP request");
    } else if (seen > limits_.max_header_bytes) {
      const bool line_too_long = within.find('\n') == absl::string_view::npos;
      Refuse(line_too_long ? 414 : 431,
             absl::StrCat(line_too_long ? "request line" : "request head", " over ",
                          limits_.max_header_bytes, " bytes"));
    }
    return false;
  }
  started_ = absl::Now();
  HttpRequestError error;
  const bool parsed = ParseRequestHead(absl::string_view(input_).substr(0, end), &head_, &error);
  input_.erase(0, end);
  scanned_ = 0;
  if (!parsed) {
    Refuse(error.status, error.detail);
    return false;
  }
  const bool bodiless = head_.request.method == "GET" || head_.request.method == "HEAD";
  if (bodiless && head_.body != HttpRequestHead::Body::kNone) {
    // Refused before a byte of it is read: a body trickled slowly would
    // otherwise hold the connection until the request timeout.
    Refuse(400, "GET and HEAD requests carry no body");
    return false;
  }
  if (head_.body == HttpRequestHead::Body::kLength &&
      head_.content_length > limits_.max_body_bytes) {
    Refuse(413, "request body too large");
    return false;
  }
  body_.emplace(head_);
  phase_ = Phase::kBody;
  return true;
}

void HttpConnection::Refuse(int status, absl::string_view detail) {
  if (started_ == absl::Time()) started_ = absl::Now();
  common::Log(common::LogLevel::kDebug, "http: request refused",
              {{"status", status}, {"detail", std::string(detail)}, {"remote", remote_}});
  HttpResponse response;
  response.status = status;
  response.body = absl::StrCat(detail, "\n");
  Respond(response, /*close=*/true);
}

void HttpConnection::Respond(const HttpResponse& response, bool close) {
  const bool head_only = head_.request.method == "HEAD";
  output_ = FormatResponseHead(response, close, head_.minor_version, absl::Now());
  if (!head_only) output_ += response.body;
  sent_ = 0;
  close_after_output_ = close;
  phase_ = Phase::kResponding;
  if (limits_.access_log) {
    common::Log(common::LogLevel::kInfo, "http request",
                {{"method", head_.request.method},
                 {"path", head_.request.path},
                 {"status", response.status},
                 {"bytes", static_cast<int64_t>(response.body.size())},
                 {"remote", remote_},
                 {"duration_ms", absl::ToDoubleMilliseconds(absl::Now() - started_)}});
  }
  started_ = absl::Time();
}

}  // namespace rtsptest::gateway
