#!/usr/bin/env bash
# `make bench`: every benchmark scenario in turn, each bounded in time by its
# own script, on loopback. Figures go to stdout; docs/benchmarks.md records
# runs with their commands. Prefer a quiet machine: other work changes them.
#
#   bench/run_all.sh
set -euo pipefail
cd "$(dirname "$0")/.."

run() {
  echo
  echo "=================== $*"
  "$@"
}

run bench/run_health_bench.sh
run bench/probe_startup_bench.sh
run bench/gateway/run_gateway_bench.sh
run bench/run_control_bench.sh
run bench/idle_cpu_bench.sh
run bench/exhaustion/exhaustion_bench.py
run bench/capacity/fanout_bench.py --json_out /tmp/fanout.json --svg docs/img/fanout.svg
run bench/capacity/live_encode_bench.py --json_out /tmp/live_encode.json
run bench/capacity/time_to_healthy_bench.py --json_out /tmp/time_to_healthy.json
run bench/capacity/idle_rss_bench.py --json_out /tmp/idle_rss.json
