// PadProbe, Interruptible, FilterPackets.
#include "core/media/pad_probe.h"

#include <utility>
#include <vector>

namespace rtsptest::core {

PadProbe::PadProbe(GstPad* pad, GstPadProbeType type, Fn fn) : pad_(GST_PAD(gst_object_ref(pad))) {
  id_ = gst_pad_add_probe(
      pad, type,
      [](GstPad* probed, GstPadProbeInfo* info, gpointer data) {
        return (*static_cast<Fn*>(data))(probed, info);
      },
      new Fn(std::move(fn)), [](gpointer data) { delete static_cast<Fn*>(data); });
}

PadProbe::~PadProbe() {
  if (id_ != 0 && !released_) gst_pad_remove_probe(pad_, id_);
  gst_object_unref(pad_);
}

bool Interruptible::SleepUntil(absl::Time until) {
  absl::MutexLock lock(&mu_);
  return !mu_.AwaitWithDeadline(absl::Condition(&cancelled_), until);
}

void Interruptible::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
}

bool Interruptible::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

GstPadProbeReturn FilterPackets(GstPadProbeInfo* info,
                                const std::function<bool(GstBuffer*)>& keep) {
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    return keep(GST_PAD_PROBE_INFO_BUFFER(info)) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
  }
  if (!(GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST)) return GST_PAD_PROBE_OK;
  GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
  std::vector<guint> dropped;
  for (guint i = 0; i < gst_buffer_list_length(list); ++i) {
    if (!keep(gst_buffer_list_get(list, i))) dropped.push_back(i);
  }
  if (dropped.empty()) return GST_PAD_PROBE_OK;
  if (dropped.size() == gst_buffer_list_length(list)) return GST_PAD_PROBE_DROP;
  list = gst_buffer_list_make_writable(list);
  for (auto it = dropped.rbegin(); it != dropped.rend(); ++it) gst_buffer_list_remove(list, *it, 1);
  GST_PAD_PROBE_INFO_DATA(info) = list;
  return GST_PAD_PROBE_OK;
}

}  // namespace rtsptest::core
