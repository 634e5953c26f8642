// Owning smart pointers for GLib/GStreamer objects, and GError -> absl::Status.
//
// GStreamer objects are reference counted; these wrappers hold exactly one
// reference and drop it with the right unref function, so that ownership is
// visible in types instead of comments.
#ifndef RTSPTEST_CORE_GLIB_GST_PTR_H_
#define RTSPTEST_CORE_GLIB_GST_PTR_H_

#include <glib.h>
#include <gst/gst.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rtsptest::core {

struct GObjectUnref {
  void operator()(gpointer object) const { g_object_unref(object); }
};
struct GstObjectUnref {
  void operator()(gpointer object) const { gst_object_unref(object); }
};
struct GErrorFree {
  void operator()(GError* error) const { g_error_free(error); }
};
struct GFree {
  void operator()(gpointer p) const { g_free(p); }
};

// Holds one reference to a GstObject (element, bin, pad, bus, ...).
template <typename T>
using GstPtr = std::unique_ptr<T, GstObjectUnref>;
// Holds one reference to a plain GObject (rtsp-server objects, GSocket, ...).
template <typename T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;
using GErrorPtr = std::unique_ptr<GError, GErrorFree>;
using GCharPtr = std::unique_ptr<gchar, GFree>;

// Takes ownership of a possibly floating GstObject: sinks a floating ref,
// otherwise adopts the full ref the caller passed in.
template <typename T>
GstPtr<T> AdoptGst(T* object) {
  if (object != nullptr && g_object_is_floating(object)) gst_object_ref_sink(object);
  return GstPtr<T>(object);
}

// Converts a GError at the GLib edge into a Status that names what failed.
// `context` says what was being done, e.g. "stream /cam1: parse pipeline".
// Consumes nothing: the caller still owns `error`.
absl::Status StatusFromGError(absl::string_view context, const GError* error);

}  // namespace rtsptest::core

#endif  // RTSPTEST_CORE_GLIB_GST_PTR_H_
