// Request guard: puts a RequestFramer between an RTSP connection's socket
// and gst-rtsp-server's reader of it.
//
// gst-rtsp-server reads a connection through the GIOStream that GIO makes
// for its socket (a GTcpConnection). A socket marked with GuardSocket() gets
// instead an input stream that reads the socket 4 KiB at a time, shows the
// bytes to a RequestFramer and hands them on; gst-rtsp-server's byte-wise
// reads of a request's head are then served from memory rather than by a
// recv() each. When the client breaks a limit, the guard answers the status
// the framer names ("RTSP/1.0 431 Request Header Fields Too Large"), fails
// the read, and gst-rtsp-server closes the connection.
//
// How: GTcpConnection's get_input_stream is wrapped once per process, so
// that a marked socket's connection returns the guarded stream; any other
// TCP connection in the process gets GIO's own, unchanged.
#ifndef RTSPTEST_CORE_LISTENER_REQUEST_GUARD_H_
#define RTSPTEST_CORE_LISTENER_REQUEST_GUARD_H_

#include <gio/gio.h>

#include <functional>
#include <memory>
#include <string>

#include "core/listener/request_framer.h"

namespace rtsptest::core {

// What a listener wants done for its guarded sockets. Shared by every
// socket of the listener; may outlive the listener (a connection closes
// after it).
struct RequestGuard {
  RequestLimits limits;
  // Called, on the connection's thread, when a client breaks a limit;
  // `remote` is "ip:port".
  std::function<void(const LimitViolation& violation, const std::string& remote)> on_violation;
};

// Marks `socket` so that the GIO connection made for it next reads through
// a RequestFramer with `guard`'s limits; `remote` ("ip:port") is what
// on_violation is told. Call before handing the socket to gst-rtsp-server.
void GuardSocket(GSocket* socket, std::shared_ptr<const RequestGuard> guard, std::string remote);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_LISTENER_REQUEST_GUARD_H_
