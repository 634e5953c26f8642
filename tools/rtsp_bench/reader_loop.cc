// The readers' event loop (see reader_loop.h).
//
// Every socket is non-blocking and registered level-triggered in one epoll
// set; an event's data names the reader (its index in this loop) and the
// socket (0: RTSP/TCP, 1 + 2k: track k's RTP over UDP, 2 + 2k: its RTCP).
// Timers (request time-outs, keepalives, churn, reconnects) are checked by a
// scan every 100 ms rather than one timer per reader: 10,000 readers cost
// 100,000 cheap comparisons a second, and no timer set to maintain.
#include "tools/rtsp_bench/reader_loop.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tools/rtsp_bench/auth.h"
#include "tools/rtsp_bench/rtp_stats.h"

namespace rtsptest::tools::bench {

int64_t SteadyNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

constexpr int64_t kScanIntervalUs = 100'000;
constexpr int64_t kReconnectSpreadUs = 100'000;
constexpr int64_t kMinRateWallUs = 500'000;  // a media rate needs this much wall time
constexpr size_t kReadBuffer = 256 * 1024;

enum class State {
  kWaiting,  // not started yet
  kConnecting,
  kOptions,
  kDescribe,
  kSetup,
  kPlay,
  kPlaying,
  kChurnWait,  // dropped on purpose, reconnecting soon
  kFailed,
  kDone,
};

const char* StateName(State state) {
  switch (state) {
    case State::kWaiting:
      return "not_started";
    case State::kConnecting:
      return "connect";
    case State::kOptions:
      return "options";
    case State::kDescribe:
      return "describe";
    case State::kSetup:
      return "setup";
    case State::kPlay:
      return "play";
    case State::kPlaying:
      return "playing";
    case State::kChurnWait:
      return "churn_wait";
    case State::kFailed:
      return "failed";
    case State::kDone:
      return "done";
  }
  return "?";
}

bool IsConnecting(State s) { return s >= State::kConnecting && s <= State::kPlay; }

struct SsrcStats {
  uint32_t ssrc = 0;
  SequenceTracker sequence;
};

struct Track {
  SdpTrack sdp;
  int channel = -1;  // interleaved RTP channel (RTCP is channel + 1)
  int rtp_fd = -1;
  int rtcp_fd = -1;
  std::vector<SsrcStats> ssrcs;
  bool clock_started = false;
  uint32_t clock_ssrc = 0;
  MediaClock clock;
};

struct Reader {
  int id = 0;
  const Target* target = nullptr;
  State state = State::kWaiting;
  int fd = -1;
  bool want_out = false;
  std::string out;
  InterleavedSplitter in;
  int cseq = 0;
  int pending_cseq = -1;
  std::string session;
  int64_t keepalive_interval_us = 30'000'000;
  int64_t next_keepalive_us = 0;
  bool keepalive_options = false;
  std::vector<Track> tracks;
  size_t setup_index = 0;
  std::string aggregate_url;
  // Authentication (this attempt): the challenge answered on every request
  // once a 401 brought one, and the last request, to repeat after a 401.
  bool has_challenge = false;
  AuthChallenge challenge;
  int nonce_count = 0;
  int auth_tries = 0;
  State last_state = State::kWaiting;
  std::string last_method, last_url, last_extra;
  int64_t start_us = 0;  // planned start (ramp)
  int64_t attempt_start_us = 0;
  int64_t deadline_us = 0;
  int64_t first_packet_us = -1;
  int64_t last_packet_us = -1;
  // This attempt's churn plan.
  bool churn = false;
  State churn_stage = State::kWaiting;
  bool churn_reset = false;
  bool churn_every = false;  // planned by --churn_every
  int64_t churn_at_us = 0;
  int64_t reconnect_at_us = 0;
  ReaderResult result;
};

class Loop {
 public:
  Loop(const BenchConfig& config, int loop_index, int64_t start_us, int64_t end_us,
       LiveCounters* live, const std::atomic<bool>* stop)
      : config_(config),
        end_us_(end_us),
        live_(live),
        stop_(stop),
        random_(config.seed * 7919 + static_cast<uint64_t>(loop_index)),
        buffer_(new char[kReadBuffer]) {
    const int loops = std::max(1, config.threads);
    for (int i = loop_index; i < config.readers; i += loops) {
      Reader reader;
      reader.id = i;
      reader.target = &config.targets[static_cast<size_t>(i) % config.targets.size()];
      reader.start_us =
          config.ramp > 0 ? start_us + static_cast<int64_t>(i / config.ramp * 1e6) : start_us;
      reader.keepalive_options = config.keepalive_options;
      reader.result.id = i;
      reader.result.url = reader.target->url.url;
      readers_.push_back(std::move(reader));
    }
  }

  LoopResult Run() {
    const int64_t began = SteadyNowUs();
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    std::vector<epoll_event> events(1024);
    int64_t next_scan = 0;
    while (true) {
      int64_t now = SteadyNowUs();
      if (now >= end_us_ || stop_->load(std::memory_order_relaxed)) break;
      while (next_start_ < readers_.size() && readers_[next_start_].start_us <= now) {
        StartAttempt(readers_[next_start_++], now);
        ++started_;
      }
      if (now >= next_scan) {
        Scan(now);
        Publish();
        next_scan = now + kScanIntervalUs;
      }
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 10);
      for (int i = 0; i < n; ++i) {
        const uint64_t data = events[static_cast<size_t>(i)].data.u64;
        Reader& reader = readers_[data >> 16];
        HandleEvent(reader, static_cast<int>(data & 0xffff), events[static_cast<size_t>(i)].events);
      }
    }
    const int64_t now = SteadyNowUs();
    for (Reader& reader : readers_) Finish(reader, now);
    Publish();
    close(epoll_);
    rusage usage{};
    getrusage(RUSAGE_THREAD, &usage);
    result_.cpu_seconds =
        static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
        static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    result_.wall_seconds = static_cast<double>(now - began) / 1e6;
    for (Reader& reader : readers_) result_.readers.push_back(std::move(reader.result));
    return std::move(result_);
  }

 private:
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(random_); }

  // --- state and counters ---------------------------------------------------

  void SetState(Reader& reader, State state) {
    const State old = reader.state;
    if (IsConnecting(old)) --connecting_;
    if (old == State::kPlaying) --playing_;
    if (old == State::kFailed) --failed_;
    if (IsConnecting(state)) ++connecting_;
    if (state == State::kPlaying) ++playing_;
    if (state == State::kFailed) ++failed_;
    reader.state = state;
  }

  void Publish() {
    live_->started.fetch_add(started_ - published_started_, std::memory_order_relaxed);
    published_started_ = started_;
    live_->connecting.fetch_add(connecting_ - published_connecting_, std::memory_order_relaxed);
    published_connecting_ = connecting_;
    live_->playing.fetch_add(playing_ - published_playing_, std::memory_order_relaxed);
    published_playing_ = playing_;
    live_->failed.fetch_add(failed_ - published_failed_, std::memory_order_relaxed);
    published_failed_ = failed_;
    live_->churn_drops.fetch_add(churn_drops_ - published_churn_, std::memory_order_relaxed);
    published_churn_ = churn_drops_;
    live_->bytes.fetch_add(bytes_, std::memory_order_relaxed);
    live_->packets.fetch_add(packets_, std::memory_order_relaxed);
    bytes_ = packets_ = 0;
  }

  size_t Index(const Reader& reader) const {
    return static_cast<size_t>(&reader - readers_.data());
  }

  void Watch(Reader& reader, int fd, int slot, uint32_t events, int op = EPOLL_CTL_ADD) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = (static_cast<uint64_t>(Index(reader)) << 16) | static_cast<uint64_t>(slot);
    epoll_ctl(epoll_, op, fd, &event);
  }

  // --- attempts ------------------------------------------------------------

  void StartAttempt(Reader& reader, int64_t now) {
    ++reader.result.attempts;
    reader.attempt_start_us = now;
    reader.deadline_us = now + absl::ToInt64Microseconds(config_.timeout);
    reader.out.clear();
    reader.in = InterleavedSplitter();
    reader.session.clear();
    reader.tracks.clear();
    reader.setup_index = 0;
    reader.pending_cseq = -1;
    reader.has_challenge = false;
    reader.nonce_count = 0;
    reader.auth_tries = 0;
    reader.first_packet_us = reader.last_packet_us = -1;
    reader.want_out = false;
    reader.churn = config_.churn > 0 && Uniform() < config_.churn;
    if (reader.churn) {
      std::vector<State> stages = {State::kConnecting, State::kDescribe, State::kSetup,
                                   State::kPlay, State::kPlaying};
      if (config_.options) stages.push_back(State::kOptions);
      reader.churn_stage = stages[static_cast<size_t>(Uniform() * stages.size()) % stages.size()];
      reader.churn_reset = Uniform() < config_.churn_reset;
    }
    reader.churn_every = !reader.churn && config_.churn_every > absl::ZeroDuration();
    if (reader.churn_every) {
      reader.churn = true;
      reader.churn_stage = State::kPlaying;
      reader.churn_reset = Uniform() < config_.churn_reset;
    }
    const sockaddr* address = reinterpret_cast<const sockaddr*>(&reader.target->address);
    reader.fd = socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    SetState(reader, State::kConnecting);
    if (reader.fd < 0) {
      Fail(reader, SocketError("socket", errno), now);
      return;
    }
    const int one = 1;
    setsockopt(reader.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(reader.fd, address, reader.target->address_length) == 0) {
      Watch(reader, reader.fd, 0, EPOLLIN);
      OnConnected(reader, now);
      return;
    }
    if (errno != EINPROGRESS) {
      Fail(reader, SocketError("connect", errno), now);
      return;
    }
    Watch(reader, reader.fd, 0, EPOLLOUT);
  }

  static std::string SocketError(const char* call, int error) {
    std::string message = absl::StrCat(call, ": ", strerror(error));
    if (error == EMFILE || error == ENFILE) {
      absl::StrAppend(&message, " (raise the open files limit: ulimit -n, or fewer --readers)");
    } else if (error == EADDRNOTAVAIL) {
      absl::StrAppend(&message, " (out of local ports: more target addresses or fewer readers)");
    }
    return message;
  }

  void OnConnected(Reader& reader, int64_t now) {
    ++reader.result.connects;
    Record(&result_.connect_ms, &reader.result.connect_ms, reader, now);
    if (ChurnNow(reader, State::kConnecting, now)) return;
    if (config_.options) {
      Request(reader, State::kOptions, "OPTIONS", reader.target->url.url, "", now);
    } else {
      Describe(reader, now);
    }
  }

  void Record(std::vector<double>* samples, double* last, const Reader& reader, int64_t now) {
    const double ms = static_cast<double>(now - reader.attempt_start_us) / 1000.0;
    samples->push_back(ms);
    *last = ms;
  }

  // Drops the connection if this attempt's churn plan says so at `stage`.
  bool ChurnNow(Reader& reader, State stage, int64_t now) {
    if (!reader.churn || reader.churn_stage != stage) return false;
    Drop(reader, StateName(stage), now);
    return true;
  }

  void Drop(Reader& reader, const std::string& stage, int64_t now) {
    ++result_.churn_drops[stage];
    ++reader.result.churn_drops;
    ++churn_drops_;
    if (reader.churn_reset) ++result_.churn_resets;
    CloseAll(reader, reader.churn_reset);
    EndAttempt(reader);
    SetState(reader, State::kChurnWait);
    reader.reconnect_at_us = now + static_cast<int64_t>(Uniform() * kReconnectSpreadUs);
  }

  void Fail(Reader& reader, const std::string& error, int64_t now) {
    std::string stage = StateName(reader.state);
    if (reader.state == State::kPlaying)
      stage = reader.first_packet_us < 0 ? "first_packet" : "media";
    FailureStat& stat = result_.failures[stage];
    if (stat.count++ == 0) stat.sample_error = error;
    reader.result.failure_stage = stage;
    reader.result.error = error;
    CloseAll(reader, false);
    EndAttempt(reader);
    SetState(reader, State::kFailed);
  }

  void CloseAll(Reader& reader, bool reset) {
    if (reader.fd >= 0) {
      if (reset) {
        // SO_LINGER with a zero timeout: close() sends RST, not FIN.
        linger option{1, 0};
        setsockopt(reader.fd, SOL_SOCKET, SO_LINGER, &option, sizeof(option));
      }
      close(reader.fd);  // also leaves the epoll set
      reader.fd = -1;
    }
    for (Track& track : reader.tracks) {
      if (track.rtp_fd >= 0) close(track.rtp_fd);
      if (track.rtcp_fd >= 0) close(track.rtcp_fd);
      track.rtp_fd = track.rtcp_fd = -1;
    }
  }

  // Folds this attempt's RTP accounting into the reader's totals.
  void EndAttempt(Reader& reader) {
    ReaderResult& r = reader.result;
    double rate = 0;
    int64_t span = 0;
    bool any = false;
    for (Track& track : reader.tracks) {
      for (const SsrcStats& s : track.ssrcs) {
        r.lost += s.sequence.missing();
        r.gap_events += s.sequence.gap_events();
        r.late += s.sequence.late();
        r.duplicates += s.sequence.duplicates();
        r.resyncs += s.sequence.resyncs();
      }
      const double track_rate = track.clock.Rate(track.sdp.clock_rate, kMinRateWallUs);
      if (track_rate > 0) {
        rate = any ? std::min(rate, track_rate) : track_rate;
        span = std::max(span, track.clock.wall_span_us());
        any = true;
      }
    }
    if (any && static_cast<double>(span) / 1e6 >= r.media_seconds) {
      r.media_rate = rate;
      r.media_seconds = static_cast<double>(span) / 1e6;
    }
    reader.tracks.clear();
  }

  void Finish(Reader& reader, int64_t now) {
    reader.result.state = StateName(reader.state);
    if (reader.state == State::kFailed || reader.state == State::kWaiting) return;
    if (reader.fd >= 0 && config_.teardown && !reader.session.empty()) {
      // Best effort: one write, no wait for the reply.
      const std::string request = RequestText(reader, "TEARDOWN", reader.aggregate_url, "");
      (void)send(reader.fd, request.data(), request.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    CloseAll(reader, false);
    EndAttempt(reader);
    SetState(reader, State::kDone);
  }

  // --- requests --------------------------------------------------------------

  std::string RequestText(Reader& reader, const char* method, const std::string& url,
                          const std::string& extra) {
    reader.pending_cseq = ++reader.cseq;
    std::string text = absl::StrCat(method, " ", url, " RTSP/1.0\r\nCSeq: ", reader.cseq,
                                    "\r\nUser-Agent: ", config_.user_agent, "\r\n");
    if (!reader.session.empty()) absl::StrAppend(&text, "Session: ", reader.session, "\r\n");
    if (reader.has_challenge) {
      const RtspUrl& u = reader.target->url;
      absl::StrAppend(&text, "Authorization: ",
                      AuthorizationValue(reader.challenge, u.user, u.password, method, url,
                                         ++reader.nonce_count,
                                         absl::StrCat(absl::Hex(random_(), absl::kZeroPad16))),
                      "\r\n");
    }
    absl::StrAppend(&text, extra, "\r\n");
    return text;
  }

  void Request(Reader& reader, State state, const char* method, const std::string& url,
               const std::string& extra, int64_t now) {
    reader.out += RequestText(reader, method, url, extra);
    if (state != State::kPlaying) {
      reader.last_state = state;
      reader.last_method = method;
      reader.last_url = url;
      reader.last_extra = extra;
      SetState(reader, state);
      reader.deadline_us = now + absl::ToInt64Microseconds(config_.timeout);
    }
    if (!Flush(reader, now)) return;
    if (state != State::kPlaying) ChurnNow(reader, state, now);
  }

  // Writes what is queued; false when the reader failed.
  bool Flush(Reader& reader, int64_t now) {
    while (!reader.out.empty()) {
      const ssize_t n = send(reader.fd, reader.out.data(), reader.out.size(), MSG_NOSIGNAL);
      if (n > 0) {
        reader.out.erase(0, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0 && errno == EINTR) continue;
      Fail(reader, SocketError("send", errno), now);
      return false;
    }
    const bool want_out = !reader.out.empty();
    if (want_out != reader.want_out) {
      reader.want_out = want_out;
      Watch(reader, reader.fd, 0, EPOLLIN | (want_out ? EPOLLOUT : 0u), EPOLL_CTL_MOD);
    }
    return true;
  }

  void Describe(Reader& reader, int64_t now) {
    Request(reader, State::kDescribe, "DESCRIBE", reader.target->url.url,
            "Accept: application/sdp\r\n", now);
  }

  void SetupNext(Reader& reader, int64_t now) {
    Track& track = reader.tracks[reader.setup_index];
    std::string transport;
    if (config_.transport == TransportMode::kTcp) {
      track.channel = static_cast<int>(reader.setup_index) * 2;
      transport = absl::StrCat("Transport: RTP/AVP/TCP;unicast;interleaved=", track.channel, "-",
                               track.channel + 1, "\r\n");
    } else {
      absl::StatusOr<int> port = OpenUdpPair(reader, static_cast<int>(reader.setup_index), now);
      if (!port.ok()) {
        SetState(reader, State::kSetup);
        Fail(reader, std::string(port.status().message()), now);
        return;
      }
      transport =
          absl::StrCat("Transport: RTP/AVP;unicast;client_port=", *port, "-", *port + 1, "\r\n");
    }
    Request(reader, State::kSetup, "SETUP", track.sdp.control_url, transport, now);
  }

  // Binds track `index`'s RTP and RTCP sockets on an even/odd port pair and
  // watches them; returns the RTP port.
  absl::StatusOr<int> OpenUdpPair(Reader& reader, int index, int64_t now) {
    const int family = reader.target->address.ss_family;
    Track& track = reader.tracks[static_cast<size_t>(index)];
    for (int attempt = 0; attempt < 16; ++attempt) {
      int rtp = OpenUdp(family, 0);
      if (rtp < 0) return absl::UnavailableError(SocketError("udp socket", errno));
      const int port = LocalPort(rtp);
      if (port % 2 != 0 || port >= 65535) {
        close(rtp);
        continue;
      }
      int rtcp = OpenUdp(family, port + 1);
      if (rtcp < 0) {
        const int error = errno;
        close(rtp);
        if (error == EMFILE || error == ENFILE) {
          return absl::UnavailableError(SocketError("udp socket", error));
        }
        continue;
      }
      track.rtp_fd = rtp;
      track.rtcp_fd = rtcp;
      Watch(reader, rtp, 1 + 2 * index, EPOLLIN);
      Watch(reader, rtcp, 2 + 2 * index, EPOLLIN);
      return port;
    }
    return absl::UnavailableError("no free even/odd UDP port pair after 16 tries");
  }

  int OpenUdp(int family, int port) {
    const int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_storage address{};
    socklen_t length = 0;
    if (family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&address);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(static_cast<uint16_t>(port));
      a->sin6_addr = in6addr_any;
      if (!config_.udp_bind.empty()) inet_pton(AF_INET6, config_.udp_bind.c_str(), &a->sin6_addr);
      length = sizeof(sockaddr_in6);
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&address);
      a->sin_family = AF_INET;
      a->sin_port = htons(static_cast<uint16_t>(port));
      a->sin_addr.s_addr = htonl(INADDR_ANY);
      if (!config_.udp_bind.empty()) inet_pton(AF_INET, config_.udp_bind.c_str(), &a->sin_addr);
      length = sizeof(sockaddr_in);
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
      const int error = errno;
      close(fd);
      errno = error;
      return -1;
    }
    return fd;
  }

  static int LocalPort(int fd) {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    if (address.ss_family == AF_INET6) {
      return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
    }
    return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  }

  // --- events ----------------------------------------------------------------

  void HandleEvent(Reader& reader, int slot, uint32_t events) {
    const int64_t now = SteadyNowUs();
    if (slot == 0) {
      if (reader.fd < 0) return;  // closed earlier in this batch
      if (reader.state == State::kConnecting) {
        int error = 0;
        socklen_t length = sizeof(error);
        getsockopt(reader.fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
          Fail(reader, SocketError("connect", error), now);
          return;
        }
        reader.want_out = false;
        Watch(reader, reader.fd, 0, EPOLLIN, EPOLL_CTL_MOD);
        OnConnected(reader, now);
        return;
      }
      if ((events & EPOLLOUT) && !Flush(reader, now)) return;
      if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) ReadTcp(reader, now);
      return;
    }
    const size_t index = static_cast<size_t>((slot - 1) / 2);
    if (index >= reader.tracks.size()) return;
    Track& track = reader.tracks[index];
    const int fd = slot % 2 == 1 ? track.rtp_fd : track.rtcp_fd;
    if (fd < 0) return;
    for (int i = 0; i < 64; ++i) {
      const ssize_t n = recv(fd, buffer_.get(), kReadBuffer, 0);
      if (n < 0) break;
      if (slot % 2 == 1 && Receiving(reader)) {
        OnRtp(reader, track, absl::string_view(buffer_.get(), static_cast<size_t>(n)), now);
      }
    }
  }

  void ReadTcp(Reader& reader, int64_t now) {
    for (int i = 0; i < 4; ++i) {
      const ssize_t n = recv(reader.fd, buffer_.get(), kReadBuffer, 0);
      if (n == 0) {
        Fail(reader, "connection closed by the server", now);
        return;
      }
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        Fail(reader, SocketError("recv", errno), now);
        return;
      }
      reader.in.Append(absl::string_view(buffer_.get(), static_cast<size_t>(n)));
      if (!Consume(reader, now)) return;
      if (static_cast<size_t>(n) < kReadBuffer) return;
    }
  }

  // Handles every complete unit read; false when the reader left its attempt.
  bool Consume(Reader& reader, int64_t now) {
    while (true) {
      InterleavedSplitter::Unit unit = reader.in.Next();
      switch (unit.kind) {
        case InterleavedSplitter::Kind::kNeedMore:
          reader.in.Compact();
          return true;
        case InterleavedSplitter::Kind::kError:
          Fail(reader, unit.error, now);
          return false;
        case InterleavedSplitter::Kind::kRequest:
          // A server's own request (some cameras send GET_PARAMETER or
          // OPTIONS as keepalives): answered, so that it does not time out.
          reader.out += ReplyToServer(unit.payload);
          if (!Flush(reader, now)) return false;
          break;
        case InterleavedSplitter::Kind::kFrame:
          if (Receiving(reader)) {
            for (Track& track : reader.tracks) {
              if (unit.channel == track.channel) OnRtp(reader, track, unit.payload, now);
            }
          }
          break;
        case InterleavedSplitter::Kind::kResponse: {
          const int fd = reader.fd;
          OnResponse(reader, unit.response, now);
          if (reader.fd != fd || reader.state == State::kFailed ||
              reader.state == State::kChurnWait) {
            return false;
          }
          break;
        }
      }
    }
  }

  // Media is taken from PLAY on: over UDP the first datagram may come
  // before PLAY's reply on the TCP connection.
  static bool Receiving(const Reader& reader) {
    return reader.state == State::kPlay || reader.state == State::kPlaying;
  }

  void OnRtp(Reader& reader, Track& track, absl::string_view packet, int64_t now) {
    RtpHeader header;
    if (!ParseRtpHeader(packet, &header)) return;
    ++packets_;
    bytes_ += static_cast<int64_t>(packet.size());
    ++reader.result.packets;
    reader.result.bytes += static_cast<int64_t>(packet.size());
    if (reader.first_packet_us < 0) {
      reader.first_packet_us = now;
      Record(&result_.first_packet_ms, &reader.result.first_packet_ms, reader, now);
    } else {
      const double gap = static_cast<double>(now - reader.last_packet_us) / 1000.0;
      reader.result.longest_gap_ms = std::max(reader.result.longest_gap_ms, gap);
    }
    reader.last_packet_us = now;
    SsrcStats* stats = nullptr;
    for (SsrcStats& s : track.ssrcs) {
      if (s.ssrc == header.ssrc) stats = &s;
    }
    if (stats == nullptr) {
      track.ssrcs.emplace_back();
      stats = &track.ssrcs.back();
      stats->ssrc = header.ssrc;
    }
    stats->sequence.Add(header.sequence);
    if (!track.clock_started) {
      track.clock_started = true;
      track.clock_ssrc = header.ssrc;
    }
    if (track.clock_ssrc == header.ssrc) track.clock.Add(header.timestamp, now);
  }

  // Answers a 401 by repeating the request with credentials: once per
  // request (a refused answer fails the reader). False when it cannot.
  bool Authenticate(Reader& reader, const common::RtspResponse& response, int64_t now) {
    if (reader.target->url.user.empty() || reader.auth_tries > 0) return false;
    auto it = response.headers.find("www-authenticate");
    if (it == response.headers.end()) return false;
    absl::StatusOr<AuthChallenge> challenge = ParseAuthChallenge(it->second);
    if (!challenge.ok()) {
      Fail(reader, absl::StrCat(response.status_line, ": ", challenge.status().message()), now);
      return true;
    }
    ++reader.auth_tries;
    reader.has_challenge = true;
    reader.challenge = *std::move(challenge);
    reader.nonce_count = 0;
    const std::string method = reader.last_method, url = reader.last_url, extra = reader.last_extra;
    Request(reader, reader.last_state, method.c_str(), url, extra, now);
    return true;
  }

  void OnResponse(Reader& reader, const common::RtspResponse& response, int64_t now) {
    const std::optional<int64_t> cseq = response.CSeq();
    if (!cseq.has_value() || *cseq != reader.pending_cseq) return;  // a stale or foreign reply
    reader.pending_cseq = -1;
    if (reader.state == State::kPlaying) {
      // A keepalive's reply: servers without GET_PARAMETER get OPTIONS.
      if (response.status_code == 405 || response.status_code == 501 ||
          response.status_code == 551) {
        reader.keepalive_options = true;
      }
      return;
    }
    if (response.status_code == 401 && Authenticate(reader, response, now)) return;
    if (response.status_code != 200) {
      std::string error = response.status_line;
      if (response.status_code == 401) {
        absl::StrAppend(&error, reader.target->url.user.empty()
                                    ? " (give user:password@ in the URL)"
                                    : " (the credentials were refused)");
      }
      Fail(reader, error, now);
      return;
    }
    reader.auth_tries = 0;
    switch (reader.state) {
      case State::kOptions:
        Describe(reader, now);
        return;
      case State::kDescribe: {
        Record(&result_.describe_ms, &reader.result.describe_ms, reader, now);
        std::string base = reader.target->url.url;
        if (auto it = response.headers.find("content-base"); it != response.headers.end()) {
          base = it->second;
        } else if (auto loc = response.headers.find("content-location");
                   loc != response.headers.end()) {
          base = loc->second;
        }
        absl::StatusOr<SdpDescription> sdp = ParseSdp(response.body, base);
        if (!sdp.ok()) {
          Fail(reader, std::string(sdp.status().message()), now);
          return;
        }
        reader.aggregate_url = sdp->aggregate_url;
        // PLAY goes to the URL asked for unless the SDP names an aggregate.
        if (reader.aggregate_url == base) reader.aggregate_url = reader.target->url.url;
        for (const SdpTrack& t : sdp->tracks) {
          Track track;
          track.sdp = t;
          reader.tracks.push_back(std::move(track));
        }
        reader.setup_index = 0;
        SetupNext(reader, now);
        return;
      }
      case State::kSetup: {
        if (reader.session.empty()) {
          auto it = response.headers.find("session");
          absl::StatusOr<SessionHeader> session =
              it == response.headers.end()
                  ? absl::StatusOr<SessionHeader>(absl::InvalidArgumentError("no Session header"))
                  : ParseSession(it->second);
          if (!session.ok()) {
            Fail(reader, std::string(session.status().message()), now);
            return;
          }
          reader.session = session->id;
          reader.keepalive_interval_us = int64_t{session->timeout_seconds} * 1'000'000 / 2;
        }
        if (auto it = response.headers.find("transport"); it != response.headers.end()) {
          absl::StatusOr<TransportReply> transport = ParseTransport(it->second);
          if (transport.ok() && transport->interleaved_rtp >= 0 &&
              config_.transport == TransportMode::kTcp) {
            reader.tracks[reader.setup_index].channel = transport->interleaved_rtp;
          }
        }
        if (++reader.setup_index < reader.tracks.size()) {
          SetupNext(reader, now);
          return;
        }
        Request(reader, State::kPlay, "PLAY", reader.aggregate_url, "Range: npt=0.000-\r\n", now);
        return;
      }
      case State::kPlay:
        Record(&result_.play_ms, &reader.result.play_ms, reader, now);
        ++reader.result.plays;
        SetState(reader, State::kPlaying);
        reader.deadline_us = now + absl::ToInt64Microseconds(config_.timeout);
        reader.next_keepalive_us = now + reader.keepalive_interval_us;
        if (reader.churn && reader.churn_stage == State::kPlaying) {
          const absl::Duration hold =
              reader.churn_every ? 2 * config_.churn_every : config_.churn_hold;
          reader.churn_at_us =
              now + static_cast<int64_t>(Uniform() * absl::ToDoubleMicroseconds(hold));
        }
        return;
      default:
        return;
    }
  }

  // --- timers ----------------------------------------------------------------

  void Scan(int64_t now) {
    for (Reader& reader : readers_) {
      switch (reader.state) {
        case State::kConnecting:
        case State::kOptions:
        case State::kDescribe:
        case State::kSetup:
        case State::kPlay:
          if (now > reader.deadline_us) {
            Fail(reader,
                 reader.state == State::kConnecting
                     ? absl::StrCat("connect timed out after ",
                                    absl::FormatDuration(config_.timeout))
                     : absl::StrCat("no reply within ", absl::FormatDuration(config_.timeout)),
                 now);
          }
          break;
        case State::kPlaying:
          if (reader.first_packet_us < 0 && now > reader.deadline_us) {
            Fail(reader,
                 absl::StrCat("no RTP packet within ", absl::FormatDuration(config_.timeout),
                              " of PLAY"),
                 now);
            break;
          }
          if (reader.churn && reader.churn_stage == State::kPlaying && now >= reader.churn_at_us) {
            Drop(reader, "playing", now);
            break;
          }
          if (now >= reader.next_keepalive_us) {
            reader.next_keepalive_us = now + reader.keepalive_interval_us;
            Request(reader, State::kPlaying, reader.keepalive_options ? "OPTIONS" : "GET_PARAMETER",
                    reader.aggregate_url, "", now);
          }
          break;
        case State::kChurnWait:
          if (now >= reader.reconnect_at_us) StartAttempt(reader, now);
          break;
        default:
          break;
      }
    }
  }

  const BenchConfig& config_;
  const int64_t end_us_;
  LiveCounters* live_;
  const std::atomic<bool>* stop_;
  std::mt19937_64 random_;
  std::unique_ptr<char[]> buffer_;
  std::vector<Reader> readers_;
  size_t next_start_ = 0;
  int epoll_ = -1;
  LoopResult result_;
  int64_t started_ = 0, connecting_ = 0, playing_ = 0, failed_ = 0, churn_drops_ = 0;
  int64_t published_started_ = 0, published_connecting_ = 0, published_playing_ = 0,
          published_failed_ = 0, published_churn_ = 0;
  int64_t bytes_ = 0, packets_ = 0;
};

}  // namespace

LoopResult RunLoop(const BenchConfig& config, int loop_index, int64_t start_us, int64_t end_us,
                   LiveCounters* live, const std::atomic<bool>* stop) {
  Loop loop(config, loop_index, start_us, end_us, live, stop);
  return loop.Run();
}

}  // namespace rtsptest::tools::bench
