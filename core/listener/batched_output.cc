// Batched output: see batched_output.h.
#include "core/listener/batched_output.h"

#include <memory>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "core/listener/send_queue.h"
#include "core/listener/send_workers.h"

namespace rtsptest::core {
namespace {

GQuark MarkQuark() {
  static const GQuark quark = g_quark_from_static_string("rtsptest-batched-output");
  return quark;
}

GQuark QueueQuark() {
  static const GQuark quark = g_quark_from_static_string("rtsptest-batched-output-queue");
  return quark;
}

GQuark StreamQuark() {
  static const GQuark quark = g_quark_from_static_string("rtsptest-batched-output-stream");
  return quark;
}

// --- BatchedOutput: the output stream gst-rtsp-server writes -----------------

struct BatchedState {
  GSocket* socket = nullptr;  // owned reference: keeps the descriptor's owner
  SendWorkers* workers = nullptr;
  std::shared_ptr<SendQueue> queue;
};

struct BatchedOutput {
  GOutputStream parent;
  BatchedState* state;
};
struct BatchedOutputClass {
  GOutputStreamClass parent_class;
};

void batched_output_pollable_init(GPollableOutputStreamInterface* iface);

G_DEFINE_TYPE_WITH_CODE(BatchedOutput, batched_output, G_TYPE_OUTPUT_STREAM,
                        G_IMPLEMENT_INTERFACE(G_TYPE_POLLABLE_OUTPUT_STREAM,
                                              batched_output_pollable_init))

BatchedState& StateOf(gpointer stream) { return *reinterpret_cast<BatchedOutput*>(stream)->state; }

// Queues one write of gst-rtsp-server and has it flushed. Never blocks and
// never fails: a reader that cannot keep up is cut off by its queue.
gsize Queue(gpointer stream, const GOutputVector* vectors, gsize count) {
  BatchedState& state = StateOf(stream);
  absl::InlinedVector<absl::string_view, 8> parts;
  gsize total = 0;
  for (gsize i = 0; i < count; ++i) {
    parts.emplace_back(static_cast<const char*>(vectors[i].buffer), vectors[i].size);
    total += vectors[i].size;
  }
  const bool urgent = state.queue->Append(parts);
  state.workers->Schedule(state.queue, urgent);
  return total;
}

gssize Write(GOutputStream* stream, const void* buffer, gsize count, GCancellable*, GError**) {
  const GOutputVector vector{buffer, count};
  return static_cast<gssize>(Queue(stream, &vector, 1));
}

gboolean Writev(GOutputStream* stream, const GOutputVector* vectors, gsize count,
                gsize* bytes_written, GCancellable*, GError**) {
  const gsize total = Queue(stream, vectors, count);
  if (bytes_written != nullptr) *bytes_written = total;
  return TRUE;
}

gssize WriteNonblocking(GPollableOutputStream* stream, const void* buffer, gsize count, GError**) {
  const GOutputVector vector{buffer, count};
  return static_cast<gssize>(Queue(stream, &vector, 1));
}

GPollableReturn WritevNonblocking(GPollableOutputStream* stream, const GOutputVector* vectors,
                                  gsize count, gsize* bytes_written, GError**) {
  const gsize total = Queue(stream, vectors, count);
  if (bytes_written != nullptr) *bytes_written = total;
  return G_POLLABLE_RETURN_OK;
}

gboolean CanPoll(GPollableOutputStream*) { return TRUE; }
gboolean IsWritable(GPollableOutputStream*) { return TRUE; }

// Always writable; a source that is ready at once, for completeness (writes
// never report WOULD_BLOCK, so gst-rtsp-server does not ask for one).
GSource* CreateSource(GPollableOutputStream* stream, GCancellable*) {
  GSource* source = g_pollable_source_new(G_OBJECT(stream));
  GSource* ready = g_timeout_source_new(0);
  g_source_set_dummy_callback(ready);
  g_source_add_child_source(source, ready);
  g_source_unref(ready);
  return source;
}

void batched_output_pollable_init(GPollableOutputStreamInterface* iface) {
  iface->can_poll = &CanPoll;
  iface->is_writable = &IsWritable;
  iface->create_source = &CreateSource;
  iface->write_nonblocking = &WriteNonblocking;
  iface->writev_nonblocking = &WritevNonblocking;
}

void batched_output_finalize(GObject* object) {
  BatchedState* state = reinterpret_cast<BatchedOutput*>(object)->state;
  state->queue->Close();
  g_clear_object(&state->socket);
  delete state;
  G_OBJECT_CLASS(batched_output_parent_class)->finalize(object);
}

void batched_output_class_init(BatchedOutputClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = &batched_output_finalize;
  G_OUTPUT_STREAM_CLASS(klass)->write_fn = &Write;
  G_OUTPUT_STREAM_CLASS(klass)->writev_fn = &Writev;
}

void batched_output_init(BatchedOutput* self) { self->state = new BatchedState(); }

GOutputStream* NewBatchedOutput(GSocket* socket, SendWorkers* workers) {
  auto* stream = static_cast<BatchedOutput*>(g_object_new(batched_output_get_type(), nullptr));
  BatchedState& state = *stream->state;
  state.socket = G_SOCKET(g_object_ref(socket));
  state.workers = workers;
  state.queue = std::make_shared<SendQueue>(g_socket_get_fd(socket));
  g_object_set_qdata_full(G_OBJECT(socket), QueueQuark(), new std::weak_ptr<SendQueue>(state.queue),
                          [](gpointer p) { delete static_cast<std::weak_ptr<SendQueue>*>(p); });
  return G_OUTPUT_STREAM(stream);
}

// --- The wraps of GTcpConnection's get_output_stream and close_fn -------------

GOutputStream* (*gio_get_output_stream)(GIOStream* stream) = nullptr;
gboolean (*gio_close)(GIOStream* stream, GCancellable* cancellable, GError** error) = nullptr;

GOutputStream* GetOutputStream(GIOStream* stream) {
  if (gpointer existing = g_object_get_qdata(G_OBJECT(stream), StreamQuark())) {
    return G_OUTPUT_STREAM(existing);
  }
  GSocket* socket = g_socket_connection_get_socket(G_SOCKET_CONNECTION(stream));
  auto* workers = static_cast<SendWorkers*>(g_object_get_qdata(G_OBJECT(socket), MarkQuark()));
  if (workers == nullptr) return gio_get_output_stream(stream);
  GOutputStream* batched = NewBatchedOutput(socket, workers);
  g_object_set_qdata_full(G_OBJECT(stream), StreamQuark(), batched, g_object_unref);
  return batched;
}

// Runs before GIO closes the socket (an explicit close, or the connection's
// last unref): after it, no worker uses the descriptor.
gboolean Close(GIOStream* stream, GCancellable* cancellable, GError** error) {
  if (gpointer batched = g_object_get_qdata(G_OBJECT(stream), StreamQuark())) {
    StateOf(batched).queue->Close();
  }
  return gio_close(stream, cancellable, error);
}

void WrapTcpConnectionOnce() {
  static gsize done = 0;
  if (g_once_init_enter(&done)) {
    // The class reference is kept for the life of the process.
    auto* klass = G_IO_STREAM_CLASS(g_type_class_ref(G_TYPE_TCP_CONNECTION));
    gio_get_output_stream = klass->get_output_stream;
    klass->get_output_stream = &GetOutputStream;
    gio_close = klass->close_fn;
    klass->close_fn = &Close;
    g_once_init_leave(&done, 1);
  }
}

}  // namespace

std::shared_ptr<SendQueue> BatchedQueueOf(GSocket* socket) {
  auto* weak =
      static_cast<std::weak_ptr<SendQueue>*>(g_object_get_qdata(G_OBJECT(socket), QueueQuark()));
  return weak != nullptr ? weak->lock() : nullptr;
}

bool SendAfterQueued(GSocket* socket, absl::string_view bytes) {
  std::shared_ptr<SendQueue> queue = BatchedQueueOf(socket);
  if (queue == nullptr) return false;
  queue->Append({bytes});
  queue->Flush();
  return true;
}

void BatchSocketOutput(GSocket* socket, SendWorkers* workers) {
  WrapTcpConnectionOnce();
  g_object_set_qdata(G_OBJECT(socket), MarkQuark(), workers);
}

}  // namespace rtsptest::core
