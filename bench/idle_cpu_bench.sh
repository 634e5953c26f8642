#!/usr/bin/env bash
# What the default config costs with nobody watching: the server's CPU (in %
# of one core) and each stream's media rate against the wall clock, read
# from /metrics over a measured window after a warm-up.
#
#   bench/idle_cpu_bench.sh [server binary] [warm-up s] [window s]
#
# Binds 127.0.0.1 on ports 18554-18557 (gRPC and HTTP: 18551, 18580), so it
# can run beside a `make run`. Prints one line per stream and a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-bazel-bin/app/rtsp_test_server}
WARMUP=${2:-20}
WINDOW=${3:-30}
HTTP=18580
LOG=$(mktemp)
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -f "$LOG"' EXIT

RTSP_TEST_RTSP_PORTS=18554,18555,18556,18557 "$BIN" --config=config/default.yaml \
  --bind=127.0.0.1 --grpc_port=18551 --http_port=$HTTP >"$LOG" 2>&1 &
PID=$!

bytes() {  # path -> produced bytes
  curl -sf "http://127.0.0.1:$HTTP/metrics" |
    awk -v p="$1" '$1 == "rtsp_test_server_stream_bytes_produced_total{path=\"" p "\"}" {print $2}'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }

sleep "$WARMUP"
declare -A B0
PATHS=(/cam1 /cam2 /cam3 /lobby /cam4)
for p in "${PATHS[@]}"; do B0[$p]=$(bytes "$p"); done
T0=$(date +%s.%N); C0=$(cpu_ticks)
sleep "$WINDOW"
T1=$(date +%s.%N); C1=$(cpu_ticks)
HZ=$(getconf CLK_TCK)
for p in "${PATHS[@]}"; do
  b1=$(bytes "$p")
  awk -v p="$p" -v b0="${B0[$p]:-0}" -v b1="${b1:-0}" -v t0="$T0" -v t1="$T1" \
    'BEGIN {printf "%-6s %8.0f kbit/s of RTP over %.1f s%s\n", p, (b1 - b0) * 8 / 1000 / (t1 - t0), t1 - t0, (b1 == b0 ? "  FROZEN" : "")}'
done
awk -v c0="$C0" -v c1="$C1" -v hz="$HZ" -v t0="$T0" -v t1="$T1" \
  'BEGIN {printf "server CPU: %.0f %% of one core (%d cores here)\n", (c1 - c0) / hz / (t1 - t0) * 100, '"$(nproc)"'}'
