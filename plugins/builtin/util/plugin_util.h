// Helpers shared by the built-in source plugins (not part of the plugin ABI).
//
// Each built-in plugin is its own lib<name>.so built with hidden visibility,
// so this library is linked statically into every one of them and never
// crosses the ABI boundary.
#ifndef RTSPTEST_PLUGINS_BUILTIN_UTIL_PLUGIN_UTIL_H_
#define RTSPTEST_PLUGINS_BUILTIN_UTIL_PLUGIN_UTIL_H_

#include <gst/gst.h>

#include <cstddef>
#include <string>

namespace rtsptest {
namespace plugins {

// Where an error message goes: the create function's (error, error_size).
struct ErrorSink {
  char* error;
  size_t error_size;
  void Set(const std::string& message) const;
};

// The Debian package that ships `factory`, for "missing element" messages.
const char* DebianPackageOf(const char* factory);

// Makes an element, or writes "missing GStreamer element \"x264enc\" (install
// the Debian package gstreamer1.0-plugins-ugly)" and returns nullptr. The
// element is floating, as gst_element_factory_make returns it.
GstElement* MakeElement(const char* factory, const char* name, const ErrorSink& error);

// Checks that every factory in the NULL-terminated list exists; writes the
// message for the first missing one. Used before building anything so that a
// half-built bin never has to be torn down.
bool RequireElements(const char* const* factories, const ErrorSink& error);

// Adds `elements` (floating, none NULL) to `bin` and links them in order.
// Returns false with a message if a link fails (caps never match).
bool AddAndLink(GstBin* bin, GstElement* const* elements, size_t count, const ErrorSink& error);

}  // namespace plugins
}  // namespace rtsptest

#endif  // RTSPTEST_PLUGINS_BUILTIN_UTIL_PLUGIN_UTIL_H_
