#!/bin/bash
# check_layers.py on small trees: downward includes pass, each kind of upward
# include fails and is named with its file and line.
set -euo pipefail
CHECK="$TEST_SRCDIR/rtsp_test_server/scripts/check_layers.py"
tree=$(mktemp -d "$TEST_TMPDIR/tree.XXXXXX")

write() {  # write <file> <include>...
  local file=$tree/$1; shift
  mkdir -p "$(dirname "$file")"
  : > "$file"
  for header in "$@"; do echo "#include \"$header\"" >> "$file"; done
}
expect_pass() {
  if ! out=$(python3 "$CHECK" "$tree" 2>&1); then
    echo "FAIL: expected a clean tree, got: $out"; exit 1
  fi
}
expect_violation() {  # expect_violation <text the report must contain>
  if out=$(python3 "$CHECK" "$tree" 2>&1); then
    echo "FAIL: expected a violation '$1', the check passed"; exit 1
  fi
  if [[ "$out" != *"$1"* ]]; then
    echo "FAIL: expected '$1' in: $out"; exit 1
  fi
}

write common/log/log.cc "common/log/log.h" "absl/strings/str_cat.h"
write core/media/media.cc "common/log/log.h" "plugins/sdk/rts_plugin.h" "rtsptest/config/v1/config.pb.h" "gst/gst.h"
write health/monitor/monitor.cc "common/rtsp/rtsp_prober.h"
write control/services/report.cc "core/server/server.h" "health/monitor/health_monitor.h"
write gateway/router.cc "common/json/json.h" "rtsptest/control/v1/control.pb.h"
write tools/probe/main.cc "common/flags/go_flags.h" "grpc/health/v1/health.grpc.pb.h"
write app/main.cc "control/services/report.h" "gateway/gateway.h"
expect_pass

write common/net/net.cc "core/glib/gst_ptr.h"
expect_violation "common/net/net.cc:1: includes core/glib/gst_ptr.h"
rm "$tree/common/net/net.cc"

write core/stream/stream.cc "control/services/report.h"
expect_violation "core/stream/stream.cc:1: includes control/services/report.h"
rm "$tree/core/stream/stream.cc"

write health/monitor/bad.h "common/log/log.h" "core/server/server.h"
expect_violation "health/monitor/bad.h:2: includes core/server/server.h"
rm "$tree/health/monitor/bad.h"

write gateway/bad.cc "core/server/server.h"
expect_violation "gateway/bad.cc:1"
rm "$tree/gateway/bad.cc"

write tools/bad.cc "health/monitor/health_monitor.h"
expect_violation "tools/bad.cc:1"
rm "$tree/tools/bad.cc"

write config/bad.cc "app/app.h"
expect_violation "config/bad.cc:1"
rm "$tree/config/bad.cc"

expect_pass
echo PASS
