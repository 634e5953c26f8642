// Request guard: see request_guard.h.
#include "core/listener/request_guard.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/listener/batched_output.h"

namespace rtsptest::core {
namespace {

constexpr gsize kReadChunk = 4096;

GQuark GuardQuark() {
  static const GQuark quark = g_quark_from_static_string("rtsptest-request-guard");
  return quark;
}

GQuark GuardedStreamQuark() {
  static const GQuark quark = g_quark_from_static_string("rtsptest-guarded-input-stream");
  return quark;
}

// --- GuardedInput: the input stream gst-rtsp-server reads ---------------------

struct GuardedState {
  GInputStream* base = nullptr;  // owned reference: the socket's own stream
  GSocket* socket = nullptr;     // owned reference
  std::shared_ptr<const RequestGuard> guard;
  std::optional<RequestFramer> framer;
  std::string remote;
  std::string pending;     // read from the socket, not yet handed on
  size_t offset = 0;       // of the first byte of `pending` not handed on
  uint64_t handed_on = 0;  // bytes handed on so far
  bool refused = false;

  // Bytes that may be handed on now (not part of an unfinished head).
  uint64_t deliverable() const { return framer->releasable() - handed_on; }
  bool has_pending() const { return deliverable() > 0; }
};

struct GuardedInput {
  GInputStream parent;
  GuardedState* state;
};
struct GuardedInputClass {
  GInputStreamClass parent_class;
};

void guarded_input_pollable_init(GPollableInputStreamInterface* iface);

G_DEFINE_TYPE_WITH_CODE(GuardedInput, guarded_input, G_TYPE_INPUT_STREAM,
                        G_IMPLEMENT_INTERFACE(G_TYPE_POLLABLE_INPUT_STREAM,
                                              guarded_input_pollable_init))

GuardedState& StateOf(gpointer stream) { return *reinterpret_cast<GuardedInput*>(stream)->state; }

// Answers the violation on the socket (best effort, never blocking) and
// tells the listener.
void Refuse(GuardedState& state, const LimitViolation& violation) {
  state.refused = true;
  const std::string answer = absl::StrCat("RTSP/1.0 ", violation.status, " ", violation.reason,
                                          "\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  // After the answers gst-rtsp-server has queued for earlier requests.
  if (!SendAfterQueued(state.socket, answer)) {
    g_socket_send_with_blocking(state.socket, answer.data(), answer.size(), FALSE, nullptr,
                                nullptr);
  }
  if (state.guard->on_violation) state.guard->on_violation(violation, state.remote);
}

// Reads the next chunk of the socket onto `pending`. What the reads of the
// socket return: > 0, 0 at the end of the stream, or -1 with `error` set
// (G_IO_ERROR_WOULD_BLOCK included).
gssize Fill(GuardedState& state, bool blocking, GCancellable* cancellable, GError** error) {
  if (state.refused) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                        "connection refused for breaking the request limits");
    return -1;
  }
  char chunk[kReadChunk];
  const gssize n =
      blocking ? g_input_stream_read(state.base, chunk, sizeof(chunk), cancellable, error)
               : g_pollable_input_stream_read_nonblocking(G_POLLABLE_INPUT_STREAM(state.base),
                                                          chunk, sizeof(chunk), cancellable, error);
  if (n <= 0) return n;
  if (std::optional<LimitViolation> violation =
          state.framer->Feed(absl::string_view(chunk, static_cast<size_t>(n)))) {
    Refuse(state, *violation);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s", violation->detail.c_str());
    return -1;
  }
  state.pending.erase(0, state.offset);
  state.offset = 0;
  state.pending.append(chunk, static_cast<size_t>(n));
  return n;
}

gssize Serve(GuardedState& state, void* buffer, gsize count) {
  const size_t n = static_cast<size_t>(std::min<uint64_t>(count, state.deliverable()));
  std::memcpy(buffer, state.pending.data() + state.offset, n);
  state.offset += n;
  state.handed_on += n;
  return static_cast<gssize>(n);
}

// Reads the socket until something may be handed on: an unfinished head is
// held back (at most a head's worth, the framer's limit).
gssize Read(GuardedState& state, void* buffer, gsize count, bool blocking,
            GCancellable* cancellable, GError** error) {
  if (count == 0) return 0;
  while (!state.has_pending()) {
    const gssize n = Fill(state, blocking, cancellable, error);
    if (n <= 0) return n;
  }
  return Serve(state, buffer, count);
}

gssize ReadBlocking(GInputStream* stream, void* buffer, gsize count, GCancellable* cancellable,
                    GError** error) {
  return Read(StateOf(stream), buffer, count, true, cancellable, error);
}

gssize ReadNonblocking(GPollableInputStream* stream, void* buffer, gsize count, GError** error) {
  return Read(StateOf(stream), buffer, count, false, nullptr, error);
}

gboolean CanPoll(GPollableInputStream*) { return TRUE; }

gboolean IsReadable(GPollableInputStream* stream) {
  GuardedState& state = StateOf(stream);
  return state.has_pending() ||
         g_pollable_input_stream_is_readable(G_POLLABLE_INPUT_STREAM(state.base));
}

// The readable source: ready while bytes wait in `pending` (the socket may
// have nothing more to say), or when its child, the socket's own source, is.
struct GuardedSource {
  GSource source;
  GuardedInput* stream;  // owned reference
};

gboolean SourcePrepare(GSource* source, gint* timeout) {
  const bool ready = StateOf(reinterpret_cast<GuardedSource*>(source)->stream).has_pending();
  *timeout = ready ? 0 : -1;
  return ready;
}

gboolean SourceCheck(GSource* source) {
  return StateOf(reinterpret_cast<GuardedSource*>(source)->stream).has_pending();
}

gboolean SourceDispatch(GSource* source, GSourceFunc callback, gpointer user_data) {
  if (callback == nullptr) return G_SOURCE_CONTINUE;
  auto* guarded = reinterpret_cast<GuardedSource*>(source);
  return reinterpret_cast<GPollableSourceFunc>(callback)(G_OBJECT(guarded->stream), user_data);
}

void SourceFinalize(GSource* source) {
  g_object_unref(reinterpret_cast<GuardedSource*>(source)->stream);
}

GSourceFuncs kGuardedSourceFuncs = {&SourcePrepare,  &SourceCheck, &SourceDispatch,
                                    &SourceFinalize, nullptr,      nullptr};

GSource* CreateSource(GPollableInputStream* stream, GCancellable* cancellable) {
  GSource* source = g_source_new(&kGuardedSourceFuncs, sizeof(GuardedSource));
  g_source_set_name(source, "rtsptest guarded input");
  reinterpret_cast<GuardedSource*>(source)->stream =
      reinterpret_cast<GuardedInput*>(g_object_ref(stream));
  GSource* socket_source = g_pollable_input_stream_create_source(
      G_POLLABLE_INPUT_STREAM(StateOf(stream).base), cancellable);
  // A child is dispatched too; GLib's pollable sources call their callback
  // unchecked.
  g_source_set_dummy_callback(socket_source);
  g_source_add_child_source(source, socket_source);
  g_source_unref(socket_source);
  return source;
}

void guarded_input_pollable_init(GPollableInputStreamInterface* iface) {
  iface->can_poll = &CanPoll;
  iface->is_readable = &IsReadable;
  iface->create_source = &CreateSource;
  iface->read_nonblocking = &ReadNonblocking;
}

void guarded_input_finalize(GObject* object) {
  GuardedState* state = reinterpret_cast<GuardedInput*>(object)->state;
  g_clear_object(&state->base);
  g_clear_object(&state->socket);
  delete state;
  G_OBJECT_CLASS(guarded_input_parent_class)->finalize(object);
}

void guarded_input_class_init(GuardedInputClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = &guarded_input_finalize;
  // The base stream is the connection's: closing the connection closes it.
  G_INPUT_STREAM_CLASS(klass)->read_fn = &ReadBlocking;
}

void guarded_input_init(GuardedInput* self) { self->state = new GuardedState(); }

// What GuardSocket() leaves on the socket.
struct SocketMark {
  std::shared_ptr<const RequestGuard> guard;
  std::string remote;
};

GInputStream* NewGuardedInput(GInputStream* base, GSocket* socket, const SocketMark& mark) {
  auto* stream = static_cast<GuardedInput*>(g_object_new(guarded_input_get_type(), nullptr));
  GuardedState& state = *stream->state;
  state.base = G_INPUT_STREAM(g_object_ref(base));
  state.socket = G_SOCKET(g_object_ref(socket));
  state.framer.emplace(mark.guard->limits);
  state.guard = mark.guard;
  state.remote = mark.remote;
  return G_INPUT_STREAM(stream);
}

// --- The wrap of GTcpConnection's get_input_stream ---------------------------

GInputStream* (*gio_get_input_stream)(GIOStream* stream) = nullptr;

GInputStream* GetInputStream(GIOStream* stream) {
  GInputStream* base = gio_get_input_stream(stream);
  GSocket* socket = g_socket_connection_get_socket(G_SOCKET_CONNECTION(stream));
  auto* mark = static_cast<SocketMark*>(g_object_get_qdata(G_OBJECT(socket), GuardQuark()));
  if (mark == nullptr || base == nullptr) return base;
  if (gpointer existing = g_object_get_qdata(G_OBJECT(stream), GuardedStreamQuark())) {
    return G_INPUT_STREAM(existing);
  }
  GInputStream* guarded = NewGuardedInput(base, socket, *mark);
  g_object_set_qdata_full(G_OBJECT(stream), GuardedStreamQuark(), guarded, g_object_unref);
  return guarded;
}

void WrapTcpConnectionOnce() {
  static gsize done = 0;
  if (g_once_init_enter(&done)) {
    // The class reference is kept for the life of the process.
    auto* klass = G_IO_STREAM_CLASS(g_type_class_ref(G_TYPE_TCP_CONNECTION));
    gio_get_input_stream = klass->get_input_stream;
    klass->get_input_stream = &GetInputStream;
    g_once_init_leave(&done, 1);
  }
}

}  // namespace

void GuardSocket(GSocket* socket, std::shared_ptr<const RequestGuard> guard, std::string remote) {
  WrapTcpConnectionOnce();
  g_object_set_qdata_full(G_OBJECT(socket), GuardQuark(),
                          new SocketMark{std::move(guard), std::move(remote)},
                          [](gpointer data) { delete static_cast<SocketMark*>(data); });
}

}  // namespace rtsptest::core
