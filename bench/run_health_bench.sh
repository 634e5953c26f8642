#!/usr/bin/env bash
# Check latency/throughput benchmark: rtsp_test_server's grpc.health.v1
# against a plain grpc++ server with a fixed status, in one run.
#
#   bench/run_health_bench.sh [health_check_bench flags...]
#   e.g. bench/run_health_bench.sh --latency_calls=20000 --rounds=8 --round_time=1s
#
# Builds what it needs (SKIP_BUILD=1 skips that), prints the machine facts
# that docs/benchmarks.md records, then runs //bench:health_check_bench. Loopback
# only; the run is bounded by the binary's --deadline (150 s by default).
# Not a test: other work on the machine changes the figures, so look at the
# load average it prints and prefer a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  bazel build //bench:health_check_bench //bench:baseline_health_server //app:rtsp_test_server
fi

echo "== machine"
echo "nproc: $(nproc)"
lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core|Socket|Hypervisor vendor)' || true
grep PRETTY_NAME /etc/os-release || true
echo "kernel: $(uname -r)"
echo "uptime: $(uptime)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
echo
echo "== bazel-bin/bench/health_check_bench $*"
exec timeout 300 bazel-bin/bench/health_check_bench "$@"
