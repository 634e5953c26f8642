// StreamAuth (see header), and the GstRTSPAuth subclass that sends only the
// protected stream's own challenge.
#include "core/rtsp_auth/stream_auth.h"

#include <string.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace {

// What StreamAuth made of a factory, as qdata (0: not one of ours).
constexpr char kKindKey[] = "rtsptest-auth-kind";
enum FactoryKind { kUnknown = 0, kOpen = 1, kBasic = 2, kDigest = 3 };

FactoryKind KindOf(GstRTSPMediaFactory* factory) {
  if (factory == nullptr) return kUnknown;
  return static_cast<FactoryKind>(GPOINTER_TO_INT(g_object_get_data(G_OBJECT(factory), kKindKey)));
}

struct RtsStreamRtspAuth {
  GstRTSPAuth parent;
};
struct RtsStreamRtspAuthClass {
  GstRTSPAuthClass parent_class;
};

}  // namespace

extern "C" {
GType rts_stream_rtsp_auth_get_type(void);
}
G_DEFINE_TYPE(RtsStreamRtspAuth, rts_stream_rtsp_auth, GST_TYPE_RTSP_AUTH)

namespace {

// Removes every WWW-Authenticate header of `scheme` ("Basic ", "Digest ").
void RemoveChallenges(GstRTSPMessage* response, const char* scheme) {
  gchar* value = nullptr;
  for (gint i = 0; gst_rtsp_message_get_header(response, GST_RTSP_HDR_WWW_AUTHENTICATE, &value,
                                               i) == GST_RTSP_OK;) {
    if (g_ascii_strncasecmp(value, scheme, strlen(scheme)) == 0) {
      gst_rtsp_message_remove_header(response, GST_RTSP_HDR_WWW_AUTHENTICATE, i);
    } else {
      ++i;
    }
  }
}

// Runs on the client's thread for every 401: the parent adds a Basic and a
// Digest challenge (and records the digest nonce); for a request about one
// stream, keep only that stream's method.
void GenerateChallenge(GstRTSPAuth* auth, GstRTSPContext* ctx) {
  GST_RTSP_AUTH_CLASS(rts_stream_rtsp_auth_parent_class)->generate_authenticate_header(auth, ctx);
  const FactoryKind kind = KindOf(ctx->factory);
  if (kind == kBasic) RemoveChallenges(ctx->response, "Digest ");
  if (kind == kDigest) RemoveChallenges(ctx->response, "Basic ");
}

// The factory checks, before the parent's role lookup: an open stream is
// open to every client, whatever credentials it sends (the parent would
// answer 404 to a token whose role the factory does not list); a protected
// stream may be looked up by anyone, so that the answer to missing or
// wrong credentials is 401 with a challenge at the construct check, not
// 404.
gboolean Check(GstRTSPAuth* auth, GstRTSPContext* ctx, const gchar* check) {
  const FactoryKind kind = KindOf(ctx->factory);
  if (kind != kUnknown && g_str_has_prefix(check, "auth.check.media.factory.")) {
    if (kind == kOpen) return TRUE;
    if (g_str_equal(check, GST_RTSP_AUTH_CHECK_MEDIA_FACTORY_ACCESS)) return TRUE;
  }
  return GST_RTSP_AUTH_CLASS(rts_stream_rtsp_auth_parent_class)->check(auth, ctx, check);
}

}  // namespace

static void rts_stream_rtsp_auth_init(RtsStreamRtspAuth*) {}

static void rts_stream_rtsp_auth_class_init(RtsStreamRtspAuthClass* klass) {
  GST_RTSP_AUTH_CLASS(klass)->generate_authenticate_header = GenerateChallenge;
  GST_RTSP_AUTH_CLASS(klass)->check = Check;
}

namespace rtsptest::core {
namespace {

std::string KeyOf(const config::v1::StreamAuth& auth, config::v1::StreamAuth::Method method) {
  return absl::StrCat(static_cast<int>(method), std::string(1, '\0'), auth.username(),
                      std::string(1, '\0'), auth.password());
}

config::v1::StreamAuth::Method MethodOf(const config::v1::StreamAuth& auth) {
  return auth.method() == config::v1::StreamAuth::BASIC ? config::v1::StreamAuth::BASIC
                                                        : config::v1::StreamAuth::DIGEST;
}

}  // namespace

StreamAuth::StreamAuth()
    : auth_(GST_RTSP_AUTH(g_object_new(rts_stream_rtsp_auth_get_type(), nullptr))) {
  // Clients without (matching) credentials get the anonymous role.
  GstRTSPToken* anonymous =
      gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, kAnonymousRole, nullptr);
  gst_rtsp_auth_set_default_token(auth_, anonymous);
  gst_rtsp_token_unref(anonymous);
  gst_rtsp_auth_set_supported_methods(
      auth_, static_cast<GstRTSPAuthMethod>(GST_RTSP_AUTH_BASIC | GST_RTSP_AUTH_DIGEST));
}

StreamAuth::~StreamAuth() {
  for (auto& [key, credential] : credentials_) gst_rtsp_token_unref(credential.token);
  g_object_unref(auth_);
}

absl::Status StreamAuth::Protect(const config::v1::Stream& spec, GstRTSPMediaFactory* factory) {
  const std::string& path = spec.path();
  const bool open = !spec.has_auth();
  const config::v1::StreamAuth::Method method =
      open ? config::v1::StreamAuth::METHOD_UNSPECIFIED : MethodOf(spec.auth());
  absl::MutexLock lock(&mutex_);
  std::string role;
  if (!open) {
    const std::string key = KeyOf(spec.auth(), method);
    if (method == config::v1::StreamAuth::DIGEST) {
      for (const auto& [other_key, other] : credentials_) {
        if (other_key == key || MethodOf(other.auth) != config::v1::StreamAuth::DIGEST ||
            other.auth.username() != spec.auth().username()) {
          continue;
        }
        std::set<std::string> others = other.paths;
        others.erase(path);
        if (!others.empty()) {
          return absl::AlreadyExistsError(absl::StrCat(
              "stream ", path, ": auth.username '", spec.auth().username(),
              "' is a digest user of stream ", *others.begin(),
              " with another password (digest users are known by name alone; use another "
              "name or the same password)"));
        }
      }
    }
    auto path_key = path_keys_.find(path);
    if (path_key != path_keys_.end() && path_key->second != key) ReleaseLocked(path);
    auto [it, inserted] = credentials_.try_emplace(key);
    Credential& credential = it->second;
    if (inserted) {
      credential.auth = spec.auth();
      credential.role = absl::StrCat("rtsptest-auth-", next_role_++);
      credential.token = gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING,
                                            credential.role.c_str(), nullptr);
      if (method == config::v1::StreamAuth::BASIC) {
        gchar* basic = gst_rtsp_auth_make_basic(spec.auth().username().c_str(),
                                                spec.auth().password().c_str());
        gst_rtsp_auth_add_basic(auth_, basic, credential.token);
        g_free(basic);
      } else {
        gst_rtsp_auth_add_digest(auth_, spec.auth().username().c_str(),
                                 spec.auth().password().c_str(), credential.token);
      }
    }
    credential.paths.insert(path);
    path_keys_[path] = key;
    role = credential.role;
  } else {
    ReleaseLocked(path);
  }
  gst_rtsp_media_factory_add_role(factory, kAnonymousRole, GST_RTSP_PERM_MEDIA_FACTORY_ACCESS,
                                  G_TYPE_BOOLEAN, TRUE, GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT,
                                  G_TYPE_BOOLEAN, open ? TRUE : FALSE, nullptr);
  if (!open) {
    gst_rtsp_media_factory_add_role(factory, role.c_str(), GST_RTSP_PERM_MEDIA_FACTORY_ACCESS,
                                    G_TYPE_BOOLEAN, TRUE, GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT,
                                    G_TYPE_BOOLEAN, TRUE, nullptr);
  }
  const FactoryKind kind = open                                      ? kOpen
                           : method == config::v1::StreamAuth::BASIC ? kBasic
                                                                     : kDigest;
  g_object_set_data(G_OBJECT(factory), kKindKey, GINT_TO_POINTER(static_cast<int>(kind)));
  return absl::OkStatus();
}

void StreamAuth::Release(absl::string_view path) {
  absl::MutexLock lock(&mutex_);
  ReleaseLocked(std::string(path));
}

void StreamAuth::ReleaseLocked(const std::string& path) {
  auto path_key = path_keys_.find(path);
  if (path_key == path_keys_.end()) return;
  auto it = credentials_.find(path_key->second);
  path_keys_.erase(path_key);
  if (it == credentials_.end()) return;
  Credential& credential = it->second;
  credential.paths.erase(path);
  if (!credential.paths.empty()) return;
  if (MethodOf(credential.auth) == config::v1::StreamAuth::BASIC) {
    gchar* basic = gst_rtsp_auth_make_basic(credential.auth.username().c_str(),
                                            credential.auth.password().c_str());
    gst_rtsp_auth_remove_basic(auth_, basic);
    g_free(basic);
  } else {
    gst_rtsp_auth_remove_digest(auth_, credential.auth.username().c_str());
  }
  gst_rtsp_token_unref(credential.token);
  credentials_.erase(it);
}

}  // namespace rtsptest::core
