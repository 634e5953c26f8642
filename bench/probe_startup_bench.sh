#!/usr/bin/env bash
# Start-up + one healthy check of health_probe, measured with hyperfine
# against a bare gRPC C++ client, in one run, against a real rtsp_test_server
# on loopback.
#
#   bench/probe_startup_bench.sh            # RUNS=200 WARMUP=20 by default
#   RUNS=500 bench/probe_startup_bench.sh
#
# Each command is fork/exec + its whole run until exit, as Docker and the
# ECS agent pay it (minus their own exec overhead):
#   health_probe grpc            the shipped binary (gRPC, protobuf and
#                                Abseil linked statically)
#   health_probe grpc, shared    the same code linked as before, against
#                                Debian's shared libraries
#                                (//bench:health_probe_dynamic)
#   bare_health_client           channel + Check + print, ~30 lines, linked
#                                the Bazel default way (shared), and again
#                                linked like health_probe
#   health_probe ports           TCP + RTSP OPTIONS on the 4 RTSP ports, and
#                                with -describe-path (the deep check)
#   health_probe -version        start-up alone: exec, load, exit
# http mode is not measured: there is no HTTP gateway in this tree yet.
# The Go grpc_health_probe is not measured: it is not a Debian package and
# this machine has no other network source for it.
#
# Then the server's CPU time per probe round, shallow against deep.
#
# Needs hyperfine (Debian package, listed in bazel/debian-packages.txt).
# Builds what it needs (SKIP_BUILD=1 skips that). Bounded: a fixed number of
# runs, every probe has a 1 s timeout, and the whole run is under `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-200}"
WARMUP="${WARMUP:-20}"

if ! command -v hyperfine >/dev/null; then
  echo "hyperfine not found: apt-get install hyperfine (see bazel/debian-packages.txt)" >&2
  exit 1
fi
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  bazel build //app:rtsp_test_server //tools/health_probe:health_probe \
    //bench:health_probe_dynamic //bench:bare_health_client //bench:bare_health_client_static
fi
SERVER=bazel-bin/app/rtsp_test_server
PROBE=bazel-bin/tools/health_probe/health_probe
PROBE_SHARED=bazel-bin/bench/health_probe_dynamic
BARE=bazel-bin/bench/bare_health_client
BARE_STATIC=bazel-bin/bench/bare_health_client_static

TMP="$(mktemp -d /tmp/probe_startup_bench.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

cat >"$TMP/bench.yaml" <<'YAML'
listeners:
  - {name: rtsp-a, bind_address: 127.0.0.1, port: 0}
  - {name: rtsp-b, bind_address: 127.0.0.1, port: 0}
  - {name: rtsp-c, bind_address: 127.0.0.1, port: 0}
  - {name: rtsp-d, bind_address: 127.0.0.1, port: 0}
streams:
  - path: /bench
    plugin: testpattern
    parameters: {width: 160, height: 120, fps: 5, codec: mjpeg, audio: none}
control: {bind_address: 127.0.0.1, port: 0}
YAML
"$SERVER" --config="$TMP/bench.yaml" --drain_timeout=0 >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do
  grep -q '"msg":"server started"' "$TMP/server.log" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.log" >&2; exit 1; }
  sleep 0.1
done
GRPC_PORT="$(grep '"msg":"control plane serving"' "$TMP/server.log" | sed -E 's/.*"grpc_port":([0-9]+).*/\1/')"
RTSP_PORTS="$(grep '"msg":"listener serving"' "$TMP/server.log" | sed -E 's/.*"port":([0-9]+).*/\1/' | paste -sd, -)"
# "" turns SERVING after the first probe round.
for _ in $(seq 100); do
  "$PROBE" -addr "127.0.0.1:$GRPC_PORT" >/dev/null 2>&1 && break
  sleep 0.1
done
"$PROBE" -addr "127.0.0.1:$GRPC_PORT"

echo "== machine"
echo "nproc: $(nproc)"
lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core|Socket|Hypervisor vendor)' || true
grep PRETTY_NAME /etc/os-release || true
echo "kernel: $(uname -r); $(hyperfine --version)"
echo "uptime (before): $(uptime)"
for b in "$PROBE" "$PROBE_SHARED" "$BARE" "$BARE_STATIC"; do
  echo "$b: $(ldd "$b" | wc -l) shared objects mapped, $(stat -c %s "$b") bytes"
done
echo "server: grpc 127.0.0.1:$GRPC_PORT, rtsp 127.0.0.1:{$RTSP_PORTS}"
echo

timeout 900 hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --time-unit millisecond \
  --export-csv "$TMP/results.csv" \
  -n "health_probe grpc (static gRPC; shipped)" "$PROBE -addr 127.0.0.1:$GRPC_PORT" \
  -n "health_probe grpc (shared libs; before)" "$PROBE_SHARED -addr 127.0.0.1:$GRPC_PORT" \
  -n "bare_health_client (shared libs; Bazel default)" "$BARE 127.0.0.1:$GRPC_PORT" \
  -n "bare_health_client (static gRPC)" "$BARE_STATIC 127.0.0.1:$GRPC_PORT" \
  -n "health_probe ports (static gRPC; shipped)" "$PROBE -mode=ports -ports $RTSP_PORTS" \
  -n "health_probe ports (shared libs; before)" "$PROBE_SHARED -mode=ports -ports $RTSP_PORTS" \
  -n "health_probe ports + DESCRIBE (static gRPC; shipped)" "$PROBE -mode=ports -ports $RTSP_PORTS -describe-path bench" \
  -n "health_probe -version (static gRPC; shipped)" "$PROBE -version" \
  -n "health_probe -version (shared libs; before)" "$PROBE_SHARED -version"

# Server-side cost of a probe round, shallow (OPTIONS) against deep
# (OPTIONS + DESCRIBE /bench): the server's CPU time (user + system, from
# /proc, 10 ms ticks) over ROUNDS_CPU rounds of 4 probes each.
ROUNDS_CPU="${ROUNDS_CPU:-300}"
TICK="$(getconf CLK_TCK)"
server_cpu_ms() { awk -v t="$TICK" '{ sub(/.*\) /, ""); split($0, f, " "); print (f[12] + f[13]) * 1000 / t }' "/proc/$SERVER_PID/stat"; }
probe_rounds() {
  local start end
  start="$(server_cpu_ms)"
  for _ in $(seq "$ROUNDS_CPU"); do "$PROBE" -mode=ports -ports "$RTSP_PORTS" "$@" >/dev/null; done
  end="$(server_cpu_ms)"
  awk -v a="$start" -v b="$end" -v n="$ROUNDS_CPU" \
    'BEGIN { printf "%.0f ms server CPU over %d rounds = %.0f us per round of 4 probes\n", b - a, n, (b - a) * 1000 / n }'
}
echo
echo "== server CPU per probe round ($ROUNDS_CPU rounds each, 4 listeners)"
echo "shallow (OPTIONS):           $(probe_rounds)"
echo "deep (OPTIONS + DESCRIBE):   $(probe_rounds -describe-path bench)"
"$PROBE" -mode=ports -ports "$RTSP_PORTS" -describe-path bench

echo
echo "uptime (after): $(uptime)"
echo
# The median resists the bursts of outside load that a shared machine has.
echo "| command | median (ms) | mean ± σ (ms) | min (ms) | CPU user+sys (ms) |"
echo "|---|---:|---:|---:|---:|"
awk -F, 'NR > 1 {
  printf "| %s | %.1f | %.1f ± %.1f | %.1f | %.1f |\n", $1, $4 * 1000, $2 * 1000, $3 * 1000, $7 * 1000, ($5 + $6) * 1000
}' "$TMP/results.csv"
