// StreamAuth: per-stream RTSP authentication (basic and digest, RFC 2617
// over RTSP) on one GstRTSPAuth shared by every listener.
//
// How gst-rtsp-server 1.22 decides (rtsp-auth.c): a request's credentials
// map to a token (basic: by base64("user:pass"); digest: by user name),
// or to the default token ("anonymous" here) when none match; the token's
// "media.factory.role" is looked up in the factory's permissions, and a
// factory without permissions refuses everyone. Here every stream's
// factory is marked open or protected, and a small GstRTSPAuth subclass
// settles the factory checks first:
//
//   open stream        access and construct allowed to every client, with
//                      or without credentials (the stock check would
//                      answer 404 to credentials whose role it lacks)
//   protected stream   access allowed to all, so that the answer comes from
//                      the construct check: allowed only to a token whose
//                      role the factory lists, otherwise 401 + challenge
//
// Each distinct (method, user, password) gets one role,
// "rtsptest-auth-<n>", and a token with it; a protected factory lists the
// role of its own credentials only.
//
// A role belongs to credentials, not to a path, so one password never
// opens a stream configured with another, whatever the user names; two
// streams with identical credentials share a role. Digest entries are keyed
// by user name alone in GstRTSPAuth, so a digest user name already used by
// another stream with a different password is refused (AlreadyExists)
// rather than silently replacing the other stream's password.
//
// Challenges: the auth object supports basic and digest; a 401 for a
// stream carries only the WWW-Authenticate header of the stream's method
// (a digest stream never invites a client to send its password in clear).
// A 401 that is not about one stream (none today) carries both.
//
// Passwords are never logged; roles are numbered, not derived from them.
#ifndef RTSPTEST_CORE_RTSP_AUTH_STREAM_AUTH_H_
#define RTSPTEST_CORE_RTSP_AUTH_STREAM_AUTH_H_

#include <gst/rtsp-server/rtsp-server.h>

#include <map>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "rtsptest/config/v1/config.pb.h"

namespace rtsptest::core {

inline constexpr char kAnonymousRole[] = "anonymous";

class StreamAuth {
 public:
  StreamAuth();
  ~StreamAuth();

  StreamAuth(const StreamAuth&) = delete;
  StreamAuth& operator=(const StreamAuth&) = delete;

  // The shared auth object, for RtspListener::SetAuth (which takes its own
  // reference).
  GstRTSPAuth* auth() const { return auth_; }

  // Gives `factory` its permissions for `spec` (open, or spec.auth()) and
  // makes spec.auth()'s credentials open it, replacing whatever credentials
  // spec.path() had before (the old ones stop working unless another
  // stream uses them too). AlreadyExists: a digest user name that another
  // stream uses with another password; nothing changes then.
  absl::Status Protect(const config::v1::Stream& spec, GstRTSPMediaFactory* factory)
      ABSL_LOCKS_EXCLUDED(mutex_);
  // `path` is gone: its credentials stop working (unless another stream
  // uses the same ones). Unknown paths are ignored.
  void Release(absl::string_view path) ABSL_LOCKS_EXCLUDED(mutex_);

 private:
  struct Credential {
    config::v1::StreamAuth auth;
    std::string role;
    GstRTSPToken* token = nullptr;
    std::set<std::string> paths;
  };

  // Drops `path` from its credential; the last path removes it from auth_.
  void ReleaseLocked(const std::string& path) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  GstRTSPAuth* const auth_;
  absl::Mutex mutex_;
  // Key: method, user and password joined by '\0'; never logged.
  std::map<std::string, Credential> credentials_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, std::string, std::less<>> path_keys_ ABSL_GUARDED_BY(mutex_);
  int next_role_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_RTSP_AUTH_STREAM_AUTH_H_
