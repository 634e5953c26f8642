// Session ids: see session_ids.h.
#include "core/listener/session_ids.h"

#include <sys/random.h>

#include <array>
#include <cstdint>

namespace rtsptest::core {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr size_t kAlphabetSize = sizeof(kAlphabet) - 1;  // 62
constexpr size_t kIdLength = 16;

struct AlphanumericPool {
  GstRTSPSessionPool parent;
};
struct AlphanumericPoolClass {
  GstRTSPSessionPoolClass parent_class;
};

G_DEFINE_TYPE(AlphanumericPool, alphanumeric_pool, GST_TYPE_RTSP_SESSION_POOL)

gchar* CreateSessionId(GstRTSPSessionPool*) { return g_strdup(NewSessionId().c_str()); }

void alphanumeric_pool_class_init(AlphanumericPoolClass* klass) {
  GST_RTSP_SESSION_POOL_CLASS(klass)->create_session_id = &CreateSessionId;
}

void alphanumeric_pool_init(AlphanumericPool*) {}

// One uniformly drawn byte below 248 (= 4 * 62), so that `% 62` is unbiased.
uint8_t RandomIndex(std::array<uint8_t, 64>& buffer, size_t& used) {
  for (;;) {
    if (used == buffer.size()) {
      size_t filled = 0;
      while (filled < buffer.size()) {
        ssize_t n = getrandom(buffer.data() + filled, buffer.size() - filled, 0);
        if (n > 0) filled += static_cast<size_t>(n);
      }
      used = 0;
    }
    uint8_t byte = buffer[used++];
    if (byte < 4 * kAlphabetSize) return byte % kAlphabetSize;
  }
}

}  // namespace

GstRTSPSessionPool* NewAlphanumericSessionPool() {
  return GST_RTSP_SESSION_POOL(g_object_new(alphanumeric_pool_get_type(), nullptr));
}

std::string NewSessionId() {
  std::array<uint8_t, 64> buffer;
  size_t used = buffer.size();
  std::string id;
  id.reserve(kIdLength);
  while (id.size() < kIdLength) id += kAlphabet[RandomIndex(buffer, used)];
  return id;
}

}  // namespace rtsptest::core
