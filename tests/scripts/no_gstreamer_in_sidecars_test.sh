#!/bin/bash
# ldd of health_gateway and health_probe names no GStreamer or GLib library,
# and the check itself sees the libraries a binary does load (libc).
set -euo pipefail
status=0
for binary in gateway/health_gateway tools/health_probe/health_probe; do
  path="$TEST_SRCDIR/rtsp_test_server/$binary"
  libraries=$(ldd "$path")
  if ! grep -q 'libc\.so' <<<"$libraries"; then
    echo "FAIL: ldd $binary shows no libc; cannot judge: $libraries"; status=1
  fi
  if found=$(grep -E 'libgst|libglib|libgobject|libgio' <<<"$libraries"); then
    echo "FAIL: $binary links GStreamer/GLib:"; echo "$found"; status=1
  else
    echo "ok: $binary ($(wc -l <<<"$libraries") libraries, none of GStreamer or GLib)"
  fi
done
exit $status
