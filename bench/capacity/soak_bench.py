#!/usr/bin/env python3
"""Soak scenario (issue 11): the server under reader churn, faults and
control API calls for --minutes (30 by default; on demand with `make soak`,
not part of `make test`).

The load, all at once and for the whole run:
  - TCP readers (rtsp_bench --churn: half of the connection attempts drop at
    a random RTSP stage, some with a reset, and reconnect; --churn_every: the
    others drop about a minute into play, for the whole run) over three
    streams: H.264 with Opus audio, H.265, MJPEG;
  - UDP readers, churning the same way;
  - a control client (rtspctl) that, once a second, takes the next step of
    a cycle: create a stream, read it back, list streams and sessions,
    inject a fault with a duration (stall, drop, freeze, black, jitter,
    rtsp_error, disconnect), kick a session, delete the stream.

Every 5 s it samples the server's RSS, open descriptors and threads, and
GET /health. It passes when the server never exits, every /health request
is answered (200 or 503: faults make it 503 at times), the control client
got no unexpected error, and after warm-up (the first --warmup share of the
run) RSS and descriptors stay flat: the median of the last quarter within
--rss_growth (default 10 %) and --fd_growth (default 25 %) of the median of
the quarter after warm-up.

  bench/capacity/soak_bench.py --minutes 30 --json_out soak.json
Run from the workspace root after `bazel build //...`.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capacity_util import Server, free_port, rss_kib  # noqa: E402

BIN = {
    "ours": "bazel-bin/app/rtsp_test_server",
    "bench": "bazel-bin/tools/rtsp_bench/rtsp_bench",
    "rtspctl": "bazel-bin/tools/rtspctl/rtspctl",
}
STREAMS = {
    "/h264": "codec: h264, audio: opus",
    "/h265": "codec: h265",
    "/mjpeg": "codec: mjpeg",
}
# The control client's cycle: (name, rtspctl arguments, exit codes expected).
# A fault lasts 2 s (disconnect acts once); the cycle takes as many seconds
# as it has steps.
FAULTS = [["stall", "--duration", "2s"], ["drop", "--percent", "20", "--duration", "2s"],
          ["freeze", "--duration", "2s"], ["black", "--duration", "2s"],
          ["jitter", "--delay", "50ms", "--duration", "2s"],
          ["rtsp_error", "--status", "503", "--duration", "2s"], ["disconnect"]]


def control_cycle(n):
    fault = FAULTS[n % len(FAULTS)]
    path = f"/soak{n}"
    return [
        ("create", ["streams", "create", "--path", path, "--plugin", "testpattern",
                    "--param", "codec=mjpeg", "--param", "width=160", "--param", "height=120",
                    "--param", "fps=5"], {0}),
        ("get", ["streams", "get", path, "-o", "json"], {0}),
        ("list streams", ["streams", "ls", "-o", "json"], {0}),
        ("fault", ["fault", "inject", *fault, "--stream", "/h264"], {0}),
        ("list sessions", ["sessions", "ls", "--stream", "/h264", "-o", "json"], {0}),
        ("list faults", ["fault", "ls", "-o", "json"], {0}),
        # The session may have gone meanwhile (churn): not found is fine.
        ("kick", None, {0, 3}),
        ("delete", ["streams", "rm", path], {0}),
    ]


class Controller:
    """Runs the control cycle once a second until stopped."""

    def __init__(self, grpc_port):
        self.addr = f"127.0.0.1:{grpc_port}"
        self.calls = 0
        self.errors = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def rtspctl(self, args):
        return subprocess.run([BIN["rtspctl"], "--addr", self.addr, *args],
                              capture_output=True, text=True, timeout=30)

    def run(self):
        n = 0
        while not self.stop.is_set():
            for name, args, expected in control_cycle(n):
                if self.stop.wait(1.0):
                    return
                if args is None:  # kick the first session of /h264, if any
                    ls = self.rtspctl(["sessions", "ls", "--stream", "/h264", "-o", "json"])
                    sessions = json.loads(ls.stdout or "{}").get("sessions", [])
                    if not sessions:
                        continue
                    args = ["sessions", "kick", sessions[0]["id"]]
                done = self.rtspctl(args)
                self.calls += 1
                if done.returncode not in expected:
                    self.errors.append({"step": name, "args": args, "exit": done.returncode,
                                        "stderr": done.stderr.strip()[:300]})
            n += 1


def health_status(http_port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/health", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def median_of(samples, key, lo, hi):
    """Median of `key` over the samples whose time share lies in [lo, hi)."""
    end = samples[-1]["t"] or 1
    values = [s[key] for s in samples if lo <= s["t"] / end < hi]
    return statistics.median(values) if values else None


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--tcp_readers", type=int, default=120)
    parser.add_argument("--udp_readers", type=int, default=30)
    parser.add_argument("--warmup", type=float, default=0.2,
                        help="share of the run before RSS and descriptors must be flat")
    parser.add_argument("--rss_growth", type=float, default=0.10)
    parser.add_argument("--fd_growth", type=float, default=0.25)
    parser.add_argument("--json_out")
    args = parser.parse_args()
    duration = args.minutes * 60

    with tempfile.TemporaryDirectory(prefix="soak-") as workdir:
        rtsp, http, grpc = free_port(), free_port(), free_port()
        config = os.path.join(workdir, "soak.yaml")
        with open(config, "w") as f:
            f.write(f"listeners:\n  - {{name: rtsp, bind_address: 127.0.0.1, port: {rtsp}}}\n"
                    "streams:\n")
            for path, params in STREAMS.items():
                f.write(f"  - {{path: {path}, plugin: testpattern, parameters: "
                        f"{{{params}, width: 320, height: 240, fps: 25, overlay: false}}}}\n")
        server = Server([BIN["ours"], f"--config={config}", f"--grpc_port={grpc}",
                         "--bind=127.0.0.1", f"--http_port={http}"],
                        os.path.join(workdir, "server.log"))
        deadline = time.time() + 30
        while health_status(http) != 200:
            if time.time() > deadline or server.exited():
                print(server.log(), file=sys.stderr)
                raise SystemExit("soak: the server did not become healthy")
            time.sleep(0.2)

        urls = ",".join(f"rtsp://127.0.0.1:{rtsp}{p}" for p in STREAMS)
        common = [f"--url={urls}", "--churn=0.5", "--churn_hold=5s", "--churn_every=60s",
                  "--quiet", f"--duration={int(duration)}s"]
        loads = [subprocess.Popen([BIN["bench"], *common, f"--readers={args.tcp_readers}",
                                   "--ramp=20", f"--json_out={workdir}/tcp.json"]),
                 subprocess.Popen([BIN["bench"], *common, f"--readers={args.udp_readers}",
                                   "--ramp=10", "--transport=udp", "--udp_bind=127.0.0.1",
                                   f"--json_out={workdir}/udp.json"])]
        controller = Controller(grpc)
        controller.thread.start()

        samples, unanswered, start = [], 0, time.time()
        while time.time() - start < duration and not server.exited():
            status = health_status(http)
            unanswered += status is None
            try:
                samples.append({"t": round(time.time() - start, 1), "rss_kib": rss_kib(server.pid),
                                "fds": open_fds(server.pid), "threads": threads(server.pid),
                                "health": status})
            except OSError:
                break
            time.sleep(5)
        survived = not server.exited()
        controller.stop.set()
        controller.thread.join(timeout=60)
        for load in loads:
            try:
                load.wait(timeout=120)
            except subprocess.TimeoutExpired:
                load.kill()
        reports = {}
        for kind in ("tcp", "udp"):
            try:
                with open(f"{workdir}/{kind}.json") as f:
                    r = json.load(f)
                reports[kind] = {"attempts": r["totals"]["attempts"], "plays": r["totals"]["plays"],
                                 "failed": r["totals"]["failed"], "churn": r.get("churn")}
            except (OSError, ValueError, KeyError):
                reports[kind] = None
        log_tail = server.log()[-2000:]
        if survived:
            server.stop()

    after_warmup = args.warmup + (1 - args.warmup) / 4
    rss0 = median_of(samples, "rss_kib", args.warmup, after_warmup)
    rss1 = median_of(samples, "rss_kib", 0.75, 1.01)
    fd0 = median_of(samples, "fds", args.warmup, after_warmup)
    fd1 = median_of(samples, "fds", 0.75, 1.01)
    rss_flat = rss0 is not None and rss1 is not None and rss1 <= rss0 * (1 + args.rss_growth)
    fd_flat = fd0 is not None and fd1 is not None and fd1 <= fd0 * (1 + args.fd_growth)
    result = {
        "minutes": args.minutes,
        "survived": survived,
        "samples": len(samples),
        "health_unanswered": unanswered,
        "health_503_samples": sum(1 for s in samples if s["health"] == 503),
        "control_calls": controller.calls,
        "control_errors": controller.errors[:10],
        "control_error_count": len(controller.errors),
        "rss_kib_after_warmup": rss0, "rss_kib_at_end": rss1, "rss_flat": rss_flat,
        "fds_after_warmup": fd0, "fds_at_end": fd1, "fds_flat": fd_flat,
        "threads_max": max((s["threads"] for s in samples), default=None),
        "readers": reports,
        "passed": survived and unanswered == 0 and not controller.errors and rss_flat and fd_flat,
        "timeline": samples,
    }
    if not survived:
        result["server_log_tail"] = log_tail
    text = json.dumps(result, indent=1)
    if args.json_out:
        with open(args.json_out, "w") as f:
            f.write(text + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "timeline"}))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
