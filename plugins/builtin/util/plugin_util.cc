// Helpers shared by the built-in source plugins; see plugin_util.h.
#include "plugins/builtin/util/plugin_util.h"

#include <cstdio>
#include <cstring>

namespace rtsptest {
namespace plugins {

void ErrorSink::Set(const std::string& message) const {
  if (error != nullptr && error_size > 0) {
    std::snprintf(error, error_size, "%s", message.c_str());
  }
}

const char* DebianPackageOf(const char* factory) {
  // Checked with `dpkg -S` on Debian 12 (GStreamer 1.22).
  static const struct {
    const char* factory;
    const char* package;
  } kPackages[] = {
      {"x264enc", "gstreamer1.0-plugins-ugly"},  {"x265enc", "gstreamer1.0-plugins-bad"},
      {"voaacenc", "gstreamer1.0-plugins-bad"},  {"h264parse", "gstreamer1.0-plugins-bad"},
      {"h265parse", "gstreamer1.0-plugins-bad"}, {"opusparse", "gstreamer1.0-plugins-bad"},
      {"avenc_aac", "gstreamer1.0-libav"},       {"textoverlay", "gstreamer1.0-x"},
      {"clockoverlay", "gstreamer1.0-x"},        {"jpegenc", "gstreamer1.0-plugins-good"},
      {"mulawenc", "gstreamer1.0-plugins-good"}, {"alawenc", "gstreamer1.0-plugins-good"},
      {"aacparse", "gstreamer1.0-plugins-good"}, {"queue", "libgstreamer1.0-0"},
      {"capsfilter", "libgstreamer1.0-0"},       {"filesrc", "libgstreamer1.0-0"},
  };
  for (const auto& entry : kPackages) {
    if (std::strcmp(entry.factory, factory) == 0) return entry.package;
  }
  // rtp*pay live in -good; the rest of what the plugins use is in -base.
  if (std::strncmp(factory, "rtp", 3) == 0) return "gstreamer1.0-plugins-good";
  return "gstreamer1.0-plugins-base";
}

namespace {

std::string MissingMessage(const char* factory) {
  return std::string("missing GStreamer element \"") + factory + "\" (install the Debian package " +
         DebianPackageOf(factory) + ")";
}

}  // namespace

GstElement* MakeElement(const char* factory, const char* name, const ErrorSink& error) {
  GstElement* element = gst_element_factory_make(factory, name);
  if (element == nullptr) error.Set(MissingMessage(factory));
  return element;
}

bool RequireElements(const char* const* factories, const ErrorSink& error) {
  for (; *factories != nullptr; ++factories) {
    GstElementFactory* factory = gst_element_factory_find(*factories);
    if (factory == nullptr) {
      error.Set(MissingMessage(*factories));
      return false;
    }
    gst_object_unref(factory);
  }
  return true;
}

bool AddAndLink(GstBin* bin, GstElement* const* elements, size_t count, const ErrorSink& error) {
  for (size_t i = 0; i < count; ++i) gst_bin_add(bin, elements[i]);
  for (size_t i = 1; i < count; ++i) {
    if (!gst_element_link(elements[i - 1], elements[i])) {
      error.Set(std::string("cannot link ") + GST_ELEMENT_NAME(elements[i - 1]) + " to " +
                GST_ELEMENT_NAME(elements[i]));
      return false;
    }
  }
  return true;
}

}  // namespace plugins
}  // namespace rtsptest
