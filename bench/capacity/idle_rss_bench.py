#!/usr/bin/env python3
"""Idle RSS (issue 11): the resident memory of rtsp_test_server serving the
fan-out scenario's stream (one 640x360 25 fps H.264 stream, the embedded
HTTP gateway on) with no reader, --settle seconds after /health first
answers 200: VmRSS, and its file-backed (library code) and anonymous parts
from /proc/<pid>/status. The median of --runs starts, after one unmeasured
start that warms the GStreamer registry and the page cache.
Target: <= 40 MB.

  bench/capacity/idle_rss_bench.py --runs 5 --json_out idle_rss.json
  bench/capacity/idle_rss_bench.py --smoke      # seconds; what `make test` runs
Run from the workspace root after `bazel build //...`.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request

from capacity_util import Server, free_port
from fanout_bench import ours_command

TARGET_BYTES = 40 * 1000 * 1000


def status_kib(pid):
    """VmRSS, RssFile and RssAnon of `pid`, KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key = line.split(":")[0]
            if key in ("VmRSS", "RssFile", "RssAnon"):
                out[key] = int(line.split()[1])
    return out


def wait_healthy(url, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.exited():
            raise RuntimeError(f"server exited:\n{proc.log()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} not 200 within {timeout} s")


def one_start(workdir, settle):
    cmd, health = ours_command(os.path.join(workdir, "idle.yaml"), free_port())
    proc = Server(cmd, os.path.join(workdir, "server.log"))
    try:
        wait_healthy(f"http://127.0.0.1:{health['http']}/health", proc, 10)
        # The stream encodes from the start; what it allocates, it has by now.
        time.sleep(settle)
        return status_kib(proc.pid)
    finally:
        proc.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="measured starts (default 5)")
    parser.add_argument("--settle", type=float, default=10,
                        help="seconds from /health 200 to the reading (default 10)")
    parser.add_argument("--json_out", help="write the figures here as JSON")
    parser.add_argument("--smoke", action="store_true",
                        help="one start, 1 s settle: checks the tool, not the figure")
    args = parser.parse_args()
    if args.smoke:
        args.runs, args.settle = 1, 1
    if args.runs < 1 or args.settle < 0:
        parser.error(f"--runs must be >= 1 and --settle >= 0 (got {args.runs}, {args.settle})")
    with tempfile.TemporaryDirectory() as workdir:
        if not args.smoke:
            one_start(workdir, 0)
        runs = [one_start(workdir, args.settle) for _ in range(args.runs)]
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    met = median["VmRSS"] * 1024 <= TARGET_BYTES
    for r in runs:
        print(f"VmRSS {r['VmRSS']} KiB (file {r['RssFile']}, anon {r['RssAnon']})")
    print(f"median VmRSS {median['VmRSS']:.0f} KiB = {median['VmRSS'] / 1024:.1f} MiB = "
          f"{median['VmRSS'] * 1024 / 1e6:.1f} MB (file {median['RssFile']:.0f} KiB, anon "
          f"{median['RssAnon']:.0f} KiB); target <= 40 MB: {'met' if met else 'MISSED'}")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"runs": runs, "median_kib": median, "settle_s": args.settle,
                       "target_bytes": TARGET_BYTES, "met": met}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
