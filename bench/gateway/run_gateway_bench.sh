#!/usr/bin/env bash
# Gateway benchmark (not a test), one run, same machine, same moment:
#   1. nginx-light returning a fixed 200 vs health_gateway /health, each with
#      `wrk -t2 -c32 -d10s --latency` (keep-alive): requests/s and p99.
#   2. /health latency while rtsp_test_server streams to N RTSP readers
#      (TCP-interleaved, default 500) on a cheap stream: wrk at full load
#      (-t2 -c32) and as a lone health checker (-t1 -c1).
# Needs: nginx-light, wrk, curl (bazel/debian-packages.txt). Prints a summary
# (Markdown table rows) at the end; docs/benchmarks.md records one run.
#
#   bench/gateway/run_gateway_bench.sh [readers]
set -euo pipefail

READERS="${1:-500}"
DURATION="${WRK_DURATION:-10s}"
cd "$(dirname "$0")/../.."

for tool in nginx wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install nginx-light wrk curl)" >&2; exit 2; }
done

bazel build //app:rtsp_test_server //gateway:health_gateway //bench/gateway:reader_swarm >&2
BIN="$(bazel info bazel-bin 2>/dev/null)"

TMP="$(mktemp -d /tmp/gateway-bench.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "logs kept in $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Waits (up to 20 s) for a JSON log line with msg $2 in file $1, prints field $3.
log_field() {
  for _ in $(seq 200); do
    local v
    v="$(grep -m1 "\"msg\":\"$2\"" "$1" 2>/dev/null | sed -n "s/.*\"$3\":\([0-9]*\).*/\1/p")"
    if [ -n "$v" ]; then echo "$v"; return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}
# wrk output -> "<requests/s> <p99> <non-2xx responses>"
wrk_summary() {
  awk '/Requests\/sec:/ {rps=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$NF} END {print rps, p99, bad+0}' "$1"
}

# --- rtsp_test_server + health_gateway ------------------------------------
cat > "$TMP/server.yaml" <<EOF
listeners:
  - {name: a, bind_address: 127.0.0.1, port: 0}
  - {name: b, bind_address: 127.0.0.1, port: 0}
  - {name: c, bind_address: 127.0.0.1, port: 0}
  - {name: d, bind_address: 127.0.0.1, port: 0}
streams:
  - {path: /cheap, plugin: testpattern, description: bench stream, parameters: {codec: h264, width: 160, height: 120, fps: 5, gop: 10, bitrate_kbps: 64}}
drain_timeout: 0s
EOF
"$BIN/app/rtsp_test_server" --config="$TMP/server.yaml" --grpc_port=0 > "$TMP/server.log" 2>&1 &
PIDS+=($!)
GRPC_PORT="$(log_field "$TMP/server.log" "control plane serving" grpc_port)"
RTSP_PORT="$(grep -m1 '"listener":"a"' "$TMP/server.log" | sed -n 's/.*"port":\([0-9]*\).*/\1/p')"
"$BIN/gateway/health_gateway" --http_port=0 --bind=127.0.0.1 --grpc_addr="127.0.0.1:$GRPC_PORT" \
  > "$TMP/gateway.log" 2>&1 &
PIDS+=($!)
GW_PORT="$(log_field "$TMP/gateway.log" "http gateway serving" http_port)"
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW_PORT/health")" = 200 ] && break
  sleep 0.1
done
curl -s "http://127.0.0.1:$GW_PORT/health" >&2

# --- nginx-light, fixed 200 ------------------------------------------------
NGINX_PORT="$(free_port)"
mkdir -p "$TMP/nginx/logs"
USER_LINE=""
[ "$(id -u)" = 0 ] && USER_LINE="user root;"
cat > "$TMP/nginx/nginx.conf" <<EOF
$USER_LINE
worker_processes 2;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      default_type application/json;
      return 200 '{"status":"healthy","open_ports":4,"total_ports":4,"timestamp":1700000000.000}\n';
    }
  }
}
EOF
timeout 120 nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" &
PIDS+=($!)
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/health" && break
  sleep 0.1
done

echo "== wrk -t2 -c32 -d$DURATION --latency: nginx-light fixed 200" >&2
wrk -t2 -c32 -d"$DURATION" --latency "http://127.0.0.1:$NGINX_PORT/health" | tee "$TMP/wrk-nginx.txt" >&2
echo "== wrk -t2 -c32 -d$DURATION --latency: health_gateway /health" >&2
wrk -t2 -c32 -d"$DURATION" --latency "http://127.0.0.1:$GW_PORT/health" | tee "$TMP/wrk-gateway.txt" >&2
kill "$(cat "$TMP/nginx/nginx.pid")" 2>/dev/null || true

read -r NGINX_RPS NGINX_P99 NGINX_BAD < <(wrk_summary "$TMP/wrk-nginx.txt")
read -r GW_RPS GW_P99 GW_BAD < <(wrk_summary "$TMP/wrk-gateway.txt")

# --- /health under N RTSP readers ------------------------------------------
echo "== starting $READERS RTSP readers (TCP-interleaved) on /cheap" >&2
timeout 150 "$BIN/bench/gateway/reader_swarm" --url="rtsp://127.0.0.1:$RTSP_PORT/cheap" \
  --readers="$READERS" --ramp=15s --duration=60s > "$TMP/swarm.log" 2>&1 &
SWARM_PID=$!
PIDS+=($SWARM_PID)
for _ in $(seq 400); do
  grep -q '"event":"up"' "$TMP/swarm.log" && break
  sleep 0.1
done
cat "$TMP/swarm.log" >&2
sleep 2
HELD="$(curl -s "http://127.0.0.1:$GW_PORT/metrics" | awk '/^rtsp_test_server_stream_readers\{path="\/cheap"\}/ {print $2}')"
echo "server reports ${HELD:-?} readers on /cheap; /health: $(curl -s "http://127.0.0.1:$GW_PORT/health")" >&2
if [ -z "$HELD" ]; then
  echo "the server stopped answering under the reader swarm; its log ends:" >&2
  tail -20 "$TMP/server.log" >&2
fi
echo "== wrk -t2 -c32 -d$DURATION --latency: /health with $HELD readers" >&2
wrk -t2 -c32 -d"$DURATION" --latency "http://127.0.0.1:$GW_PORT/health" | tee "$TMP/wrk-loaded.txt" >&2
echo "== wrk -t1 -c1 -d$DURATION --latency: /health with $HELD readers (a lone health checker)" >&2
wrk -t1 -c1 -d"$DURATION" --latency "http://127.0.0.1:$GW_PORT/health" | tee "$TMP/wrk-loaded-1.txt" >&2
HELD_AFTER="$(curl -s "http://127.0.0.1:$GW_PORT/metrics" | awk '/^rtsp_test_server_stream_readers\{path="\/cheap"\}/ {print $2}')"
read -r LOADED_RPS LOADED_P99 LOADED_BAD < <(wrk_summary "$TMP/wrk-loaded.txt")
read -r ONE_RPS ONE_P99 ONE_BAD < <(wrk_summary "$TMP/wrk-loaded-1.txt")
STATUS_AFTER="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW_PORT/health")"
SWARM_UP="$(grep -m1 '"event":"up"' "$TMP/swarm.log" || true)"

RATIO="$(python3 -c "print(f'{float(\"$GW_RPS\")/float(\"$NGINX_RPS\"):.2f}')")"
cat <<EOF

== summary ($(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ))
| target | wrk | requests/s | p99 | non-2xx |
|---|---|---|---|---|
| nginx-light fixed 200 | -t2 -c32 -d$DURATION | $NGINX_RPS | $NGINX_P99 | $NGINX_BAD |
| health_gateway /health | -t2 -c32 -d$DURATION | $GW_RPS | $GW_P99 | $GW_BAD |
| health_gateway /health, ${HELD:-?} readers | -t2 -c32 -d$DURATION | $LOADED_RPS | $LOADED_P99 | $LOADED_BAD |
| health_gateway /health, ${HELD:-?} readers | -t1 -c1 -d$DURATION | $ONE_RPS | $ONE_P99 | $ONE_BAD |
gateway/nginx throughput ratio: $RATIO (goal >= 0.5); reader swarm: $SWARM_UP
readers held before/after the /health runs: ${HELD:-?}/${HELD_AFTER:-?}; /health after: $STATUS_AFTER
EOF
