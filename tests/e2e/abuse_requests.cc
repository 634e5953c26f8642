// Raw hostile connections and request generators (see abuse_requests.h).
#include "tests/e2e/abuse_requests.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/util/loopback.h"

namespace rtsptest::testing {
namespace {

constexpr size_t kKeptBytes = 200;

int PollMillis(absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout)));
}

}  // namespace

std::string AbuseOutcome::Describe() const {
  return absl::StrCat("statuses [", absl::StrJoin(statuses, ","), "], ",
                      closed ? "closed" : "still open", " after ", absl::FormatDuration(elapsed),
                      ", first bytes: ", absl::CEscape(head));
}

std::string HeaderValue(absl::string_view head, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(':', 1));
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(kv.first), name)) {
      return std::string(absl::StripAsciiWhitespace(kv.second));
    }
  }
  return "";
}

int StatusOf(absl::string_view head) {
  if (!absl::StartsWith(head, "RTSP/") && !absl::StartsWith(head, "HTTP/")) return 0;
  std::vector<absl::string_view> parts = absl::StrSplit(head.substr(0, head.find('\r')), ' ');
  int status = 0;
  if (parts.size() < 2 || parts[1].size() != 3 || !absl::SimpleAtoi(parts[1], &status)) return 0;
  return status;
}

RawConnection::RawConnection(int port) : fd_(ConnectLoopback(port)) {}

RawConnection::~RawConnection() {
  if (fd_ >= 0) close(fd_);
}

bool RawConnection::Fill(absl::Duration timeout) {
  if (fd_ < 0 || closed_) return false;
  pollfd pfd{fd_, POLLIN, 0};
  if (poll(&pfd, 1, PollMillis(timeout)) <= 0) return false;
  char chunk[65536];
  ssize_t n = recv(fd_, chunk, sizeof(chunk), MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
  if (n <= 0) {
    closed_ = true;  // end of stream, or a reset
    return false;
  }
  if (received_.size() < kKeptBytes) {
    received_.append(chunk, std::min(static_cast<size_t>(n), kKeptBytes - received_.size()));
  }
  buffer_.append(chunk, static_cast<size_t>(n));
  Consume();
  return true;
}

void RawConnection::Consume() {
  while (!buffer_.empty()) {
    if (buffer_[0] == '$') {
      if (buffer_.size() < 4) return;
      const size_t length =
          (static_cast<unsigned char>(buffer_[2]) << 8) | static_cast<unsigned char>(buffer_[3]);
      if (buffer_.size() < 4 + length) return;
      if (buffer_[1] == 0) ++rtp_packets_;
      buffer_.erase(0, 4 + length);
      continue;
    }
    const size_t end = buffer_.find("\r\n\r\n");
    if (end == std::string::npos) return;
    std::string head = buffer_.substr(0, end);
    size_t body = 0;
    if (!absl::SimpleAtoi(HeaderValue(head, "Content-Length"), &body)) body = 0;
    if (buffer_.size() < end + 4 + body) return;
    buffer_.erase(0, end + 4 + body);
    statuses_.push_back(StatusOf(head));
    answers_.push_back(std::move(head));
  }
}

bool RawConnection::Send(absl::string_view bytes, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  size_t sent = 0;
  while (sent < bytes.size()) {
    if (fd_ < 0 || closed_) return false;
    ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      // EPIPE or ECONNRESET: the server is gone; what it said is still
      // queued for reading.
      while (Fill(absl::ZeroDuration())) {
      }
      return false;
    }
    // The server is not reading: take what it says meanwhile.
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd pfd{fd_, POLLIN | POLLOUT, 0};
    if (poll(&pfd, 1, PollMillis(left)) < 0) return false;
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) Fill(absl::ZeroDuration());
  }
  return true;
}

void RawConnection::ShutdownWrite() {
  if (fd_ >= 0) shutdown(fd_, SHUT_WR);
}

std::string RawConnection::ReadAnswer(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (answers_read_ == answers_.size()) {
    if (!Fill(deadline - absl::Now())) {
      if (closed_ || absl::Now() >= deadline) return "";
    }
  }
  return answers_[answers_read_++];
}

bool RawConnection::WaitForEnd(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!closed_ && absl::Now() < deadline) Fill(deadline - absl::Now());
  answers_read_ = answers_.size();
  return closed_;
}

bool RawConnection::ReadRtp(int packets, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const int target = rtp_packets_ + packets;
  while (rtp_packets_ < target) {
    if (closed_ || absl::Now() >= deadline) return false;
    Fill(deadline - absl::Now());
  }
  return true;
}

AbuseOutcome Exchange(int port, absl::string_view bytes, bool server_must_close,
                      absl::Duration bound) {
  AbuseOutcome outcome;
  const absl::Time start = absl::Now();
  RawConnection connection(port);
  if (!connection.connected()) {
    outcome.head = "<connect failed>";
    return outcome;
  }
  if (connection.Send(bytes, bound) && !server_must_close) connection.ShutdownWrite();
  outcome.closed = connection.WaitForEnd(bound - (absl::Now() - start));
  outcome.elapsed = absl::Now() - start;
  outcome.statuses = connection.statuses();
  outcome.head = connection.received();
  return outcome;
}

std::string RandomBytes(std::mt19937& rng, size_t size) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(byte(rng));
  return bytes;
}

std::string Mutate(std::mt19937& rng, absl::string_view request) {
  std::string bytes(request);
  std::uniform_int_distribution<int> byte(0, 255);
  const int edits = std::uniform_int_distribution<int>(1, 8)(rng);
  for (int i = 0; i < edits && !bytes.empty(); ++i) {
    const size_t at = std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng);
    switch (std::uniform_int_distribution<int>(0, 2)(rng)) {
      case 0:
        bytes[at] =
            static_cast<char>(bytes[at] ^ (1 << std::uniform_int_distribution<int>(0, 7)(rng)));
        break;
      case 1:
        bytes.insert(at, 1, static_cast<char>(byte(rng)));
        break;
      default:
        bytes.erase(at, 1);
        break;
    }
  }
  return bytes;
}

}  // namespace rtsptest::testing
