#!/usr/bin/env bash
# Control API -> media latency: CreateStream -> first RTP packet at a reader,
# and InjectFault(stall) -> the reader's gap, against the real
# rtsp_test_server on loopback.
#
#   bench/run_control_bench.sh [control_plane_bench flags...]
#   e.g. bench/run_control_bench.sh --creates=40 --stalls=40
#
# Builds what it needs (SKIP_BUILD=1 skips that), prints the machine facts
# that docs/benchmarks.md records, then runs //bench:control_plane_bench,
# bounded by its --deadline (240 s by default). Not a test: prefer a quiet
# machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  bazel build //bench:control_plane_bench //app:rtsp_test_server
fi

echo "== machine"
echo "nproc: $(nproc)"
echo "uptime: $(uptime)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
echo
echo "== bazel-bin/bench/control_plane_bench $*"
exec timeout 300 bazel-bin/bench/control_plane_bench "$@"
