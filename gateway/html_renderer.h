// The HTML status page served at "/": health, ports, streams with their
// URLs and readers, for people.
//
// Static HTML with inline CSS and no JavaScript (it must read the same in a
// text browser, a screenshot and a locked-down browser). It reloads itself
// every 5 s with <meta http-equiv="refresh">. Everything that comes from the
// server or the request is HTML-escaped.
#ifndef RTSPTEST_GATEWAY_HTML_RENDERER_H_
#define RTSPTEST_GATEWAY_HTML_RENDERER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gateway/control_plane_view.h"

namespace rtsptest::gateway {

// Escapes & < > " ' for text and attribute values.
std::string HtmlEscape(absl::string_view text);

std::string RenderStatusPage(const ControlPlaneView& view, const Verdict& health,
                             absl::string_view host, absl::Time now);

}  // namespace rtsptest::gateway

#endif  // RTSPTEST_GATEWAY_HTML_RENDERER_H_
