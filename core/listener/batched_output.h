// Batched output: RTSP connections whose writes go through a SendQueue
// (send_queue.h), written out by SendWorkers::Shared() (send_workers.h).
//
// gst-rtsp-server writes a connection through the GIOStream that GIO makes
// for its socket (a GTcpConnection). For a socket marked with
// BatchSocketOutput(), that connection's output stream queues what it is
// given and always reports it written; a worker writes it to the socket at
// the end of each frame. The connection's close flushes what it can, then
// stops the worker from ever using the descriptor again.
//
// How: GTcpConnection's get_output_stream and close_fn are wrapped once per
// process (as the request guard wraps get_input_stream); an unmarked TCP
// connection gets GIO's own behaviour.
#ifndef RTSPTEST_CORE_LISTENER_BATCHED_OUTPUT_H_
#define RTSPTEST_CORE_LISTENER_BATCHED_OUTPUT_H_

#include <gio/gio.h>

#include <memory>

#include "absl/strings/string_view.h"

namespace rtsptest::core {

class SendQueue;
class SendWorkers;

// Marks `socket` so that the GIO connection made for it next writes through
// a SendQueue flushed by `workers` (borrowed; must outlive the connection).
// Call before handing the socket to gst-rtsp-server.
void BatchSocketOutput(GSocket* socket, SendWorkers* workers);

// Writes `bytes` after everything already queued on `socket`'s connection,
// at once, so that an answer the connection's reader gives outside
// gst-rtsp-server (the request guard's refusals) keeps its place. False,
// writing nothing, for a socket without a batched connection.
bool SendAfterQueued(GSocket* socket, absl::string_view bytes);

// The queue of `socket`'s batched connection, or null (not batched, or
// closed).
std::shared_ptr<SendQueue> BatchedQueueOf(GSocket* socket);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_LISTENER_BATCHED_OUTPUT_H_
