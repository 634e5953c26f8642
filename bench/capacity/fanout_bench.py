#!/usr/bin/env python3
"""Fan-out scenario (issue 11): TCP readers on one shared 500 kbit/s H.264
stream, rtsp_test_server against stock gst-rtsp-server (bench/baseline),
both serving the same pipeline and measured by rtsp_bench in one run.

For each server, reader counts are tried in increasing steps (readers ramped
at --ramp per second, then held for --hold); a step passes when every reader
plays, no RTP sequence number is missing, and every reader's media rate is
within 1.0 +- 0.05. The figures: readers sustained, the server's CPU (total,
and its busiest threads, so a one-thread fan-out shows), RSS per reader, and
a plot of readers against CPU (--svg).

  bench/capacity/fanout_bench.py --steps 500,1000,2000 --json_out fanout.json
  bench/capacity/fanout_bench.py --smoke     # seconds; what `make test` runs
Run from the workspace root after `bazel build //...`.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from test_health_checks import GrpcHealthConnection, grpc_health_check  # noqa: E402  (stdlib)
from capacity_util import Server, free_port, rss_kib, thread_cpu

BIN = {
    "ours": "bazel-bin/app/rtsp_test_server",
    "baseline": "bazel-bin/bench/baseline/baseline_rtsp_server",
    "bench": "bazel-bin/tools/rtsp_bench/rtsp_bench",
    "wakeup": "bazel-bin/bench/wakeup_latency",
}
PATH = "/fan"
# The same stream for both servers: what the testpattern plugin builds for
# these parameters (plugins/builtin/testpattern/testpattern.cc).
PARAMS = {"pattern": "ball", "width": 640, "height": 360, "fps": 25, "codec": "h264",
          "bitrate_kbps": 500, "gop": 50, "overlay": False, "audio": "none"}
LAUNCH = ("( videotestsrc is-live=true pattern=ball "
          "! video/x-raw,format=I420,width=640,height=360,framerate=25/1 "
          "! x264enc tune=zerolatency speed-preset=ultrafast sliced-threads=false threads=1 "
          "key-int-max=50 bitrate=500 vbv-buf-capacity=1000 pass=cbr option-string=nal-hrd=cbr "
          "! rtph264pay name=pay0 pt=96 config-interval=0 )")


def wait_stream(port, timeout=30.0):
    """Until a DESCRIBE of the stream is answered 200."""
    request = (f"DESCRIBE rtsp://127.0.0.1:{port}{PATH} RTSP/1.0\r\nCSeq: 1\r\n"
               "Accept: application/sdp\r\n\r\n").encode()
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(request)
                if s.recv(64).startswith(b"RTSP/1.0 200"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"rtsp://127.0.0.1:{port}{PATH} not served after {timeout} s")


def ours_command(config, port):
    """rtsp_test_server serving the scenario's stream on `port` (config
    written to `config`), with its gRPC port and embedded gateway on free
    loopback ports: the command, and {"http": port, "grpc": port}."""
    params = ", ".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}"
                       for k, v in PARAMS.items())
    with open(config, "w") as f:
        f.write(f"listeners:\n  - {{name: rtsp, bind_address: 127.0.0.1, port: {port}}}\n"
                f"streams:\n  - path: {PATH}\n    plugin: testpattern\n"
                f"    parameters: {{{params}}}\n")
    health = {"http": free_port(), "grpc": free_port()}
    return [BIN["ours"], f"--config={config}", f"--grpc_port={health['grpc']}",
            "--bind=127.0.0.1", f"--http_port={health['http']}"], health


def start_server(kind, workdir):
    """Returns (process, RTSP port, health endpoints or None)."""
    port = free_port()
    health = None
    env = dict(os.environ)
    if kind == "ours-unbatched":  # ours with gst-rtsp-server's own writes
        env["RTSP_TEST_SEND_BATCHING"] = "off"
    if kind == "ours-no-fanout":  # batched, but every reader on gst's send thread
        env["RTSP_TEST_FANOUT"] = "off"
    if kind in ("ours", "ours-unbatched", "ours-no-fanout"):
        cmd, health = ours_command(os.path.join(workdir, f"{kind}.yaml"), port)
    else:
        cmd = [BIN["baseline"], str(port), PATH, LAUNCH]
    proc = Server(cmd, os.path.join(workdir, f"{kind}.log"), env)
    try:
        wait_stream(port)
    except RuntimeError:
        proc.stop()
        raise
    return proc, port, health


class HealthSampler:
    """While the readers play, every --health_interval: `GET /health` and a
    grpc.health.v1 Check, each on a new connection as a load balancer and
    health_probe make them, and a Check on one kept connection, as a gRPC
    client with a channel makes it; their latencies, and every answer that is
    not healthy."""

    def __init__(self, health, interval, nice=0):
        self.health, self.interval, self.nice = health, interval, nice
        self.http_ms, self.check_ms, self.kept_check_ms, self.not_healthy = [], [], [], 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        if self.nice:
            # This thread only: a checker on another machine is not starved
            # by the load generator that shares these cores.
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
        kept = None  # one connection for all samples, as a gRPC client keeps its channel
        while not self.stop.wait(self.interval):
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.health['http']}/health",
                                            timeout=5) as r:
                    ok = r.status == 200
            except OSError:
                ok = False
            t1 = time.perf_counter()
            try:
                ok = grpc_health_check(f"127.0.0.1:{self.health['grpc']}", "", 5) == "SERVING" and ok
            except (OSError, ValueError):
                ok = False
            t2 = time.perf_counter()
            try:
                kept = kept or GrpcHealthConnection(f"127.0.0.1:{self.health['grpc']}", 5)
                t3 = time.perf_counter()
                ok = kept.check("") == "SERVING" and ok
            except (OSError, ValueError):
                kept, ok, t3 = None, False, time.perf_counter()
            t4 = time.perf_counter()
            self.http_ms.append((t1 - t0) * 1000)
            self.check_ms.append((t2 - t1) * 1000)
            self.kept_check_ms.append((t4 - t3) * 1000)
            self.not_healthy += 0 if ok else 1
        if kept:
            kept.close()

    @staticmethod
    def p99(values):
        values = sorted(values)
        return round(values[min(len(values) - 1, int(len(values) * 0.99))], 2) if values else None

    def result(self):
        return {"samples": len(self.http_ms), "health_http_p99_ms": self.p99(self.http_ms),
                "grpc_check_p99_ms": self.p99(self.check_ms),
                "grpc_check_kept_channel_p99_ms": self.p99(self.kept_check_ms),
                "not_healthy_answers": self.not_healthy}


def wakeup_probe(count):
    """bench/wakeup_latency under the load: how late (microseconds) a thread
    runs after its timer fires, as a normal thread and as SCHED_FIFO. The
    first is the floor under every hop of a health check here; the second
    shows what of it is the scheduler's doing (or the error, where the
    process may not use SCHED_FIFO)."""
    out = {}
    for policy in ("other", "fifo"):
        run = subprocess.run([BIN["wakeup"], f"--count={count}", f"--policy={policy}"],
                             capture_output=True, text=True, timeout=count / 1000 * 5 + 10)
        out[policy] = json.loads(run.stdout)["late_us"] if run.returncode == 0 else run.stderr.strip()
    return out


def run_step(kind, proc, port, health, readers, args, workdir):
    report_path = os.path.join(workdir, f"{kind}-{readers}.json")
    ramp_s = readers / args.ramp if args.ramp > 0 else 0
    cmd = [BIN["bench"], f"--url=rtsp://127.0.0.1:{port}{PATH}", f"--readers={readers}",
           f"--ramp={args.ramp}", f"--duration={args.hold}s", f"--threads={args.bench_threads}",
           f"--json_out={report_path}", "--quiet"]
    rss_before = rss_kib(proc.pid)
    nice = args.bench_nice
    bench = subprocess.Popen(cmd, preexec_fn=(lambda: os.nice(nice)) if nice else None)
    sampler = HealthSampler(health, args.health_interval, args.health_nice) if health else None
    if sampler:
        sampler.thread.start()
    # CPU over the hold only: after the ramp, until just before the end.
    time.sleep(ramp_s + 2)
    cpu0, t0 = thread_cpu(proc.pid), time.time()
    wakeup = wakeup_probe(args.wakeup_probe) if args.wakeup_probe and health else None
    time.sleep(max(0.0, t0 + max(1.0, args.hold - 3) - time.time()))
    cpu1, t1 = thread_cpu(proc.pid), time.time()
    rss_loaded = rss_kib(proc.pid)
    bench.wait(timeout=ramp_s + args.hold + 60)
    if sampler:
        sampler.stop.set()
        sampler.thread.join()
    with open(report_path) as f:
        report = json.load(f)
    wall = t1 - t0
    per_thread = sorted(((cpu1[k] - cpu0.get(k, 0)) / wall * 100, k[0]) for k in cpu1)[::-1]
    totals, seq, rate = report["totals"], report["sequence"], report["media_rate"]
    realtime = (totals["playing_at_end"] == readers and rate["count"] == readers
                and rate["min"] >= 0.95 and rate["max"] <= 1.05)
    return {
        "readers": readers,
        "passed": realtime and seq["lost_packets"] == 0,
        "realtime": realtime,
        "readers_with_loss": seq["readers_with_loss"],
        "playing_at_end": totals["playing_at_end"],
        "lost_packets": seq["lost_packets"],
        "media_rate_min": rate["min"],
        "media_rate_max": rate["max"],
        "mbit_per_second": totals["mbit_per_second"],
        "server_cpu_percent": round(sum(p for p, _ in per_thread), 1),
        "busiest_threads": [{"name": n, "cpu_percent": round(p, 1)} for p, n in per_thread[:4]],
        "rss_kib_before": rss_before,
        "rss_kib_loaded": rss_loaded,
        "rss_kib_per_reader": round((rss_loaded - rss_before) / readers, 1),
        "bench_cpu_percent": report["bench"]["percent_of_one_core"],
        "bench_warnings": report.get("warnings", []),
        "first_packet_ms_p99": report["latency_ms"]["first_packet"].get("p99"),
        "health_under_load": sampler.result() if sampler else None,
        "wakeup_late_us": wakeup,
    }


def svg(results, path):
    """Readers (x) against server CPU % (y), one line per server."""
    width, height, pad = 640, 360, 50
    points = [(s["readers"], s["server_cpu_percent"]) for r in results.values() for s in r["steps"]]
    if not points:
        return
    xmax = max(x for x, _ in points) * 1.05 or 1
    ymax = max(max(y for _, y in points) * 1.1, 100)
    sx = lambda x: pad + x / xmax * (width - 2 * pad)
    sy = lambda y: height - pad - y / ymax * (height - 2 * pad)
    colors = {"ours": "#1f77b4", "ours-unbatched": "#2ca02c", "ours-no-fanout": "#ff7f0e",
              "baseline": "#d62728"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>',
           f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>',
           f'<text x="{width / 2}" y="{height - 10}" text-anchor="middle">TCP readers (500 kbit/s H.264, one stream)</text>',
           f'<text x="15" y="{height / 2}" transform="rotate(-90 15 {height / 2})" text-anchor="middle">server CPU, % of one core</text>']
    for y in range(0, int(ymax) + 1, 50):
        out.append(f'<text x="{pad - 5}" y="{sy(y) + 4}" text-anchor="end">{y}</text>')
    for i, (kind, result) in enumerate(results.items()):
        steps = result["steps"]
        color = colors.get(kind, "black")
        line = " ".join(f"{sx(s['readers']):.1f},{sy(s['server_cpu_percent']):.1f}" for s in steps)
        out.append(f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"/>')
        for s in steps:
            fill = color if s["passed"] else "white"
            out.append(f'<circle cx="{sx(s["readers"]):.1f}" cy="{sy(s["server_cpu_percent"]):.1f}" '
                       f'r="4" fill="{fill}" stroke="{color}"/>')
            out.append(f'<text x="{sx(s["readers"]):.1f}" y="{height - pad + 15}" text-anchor="middle">{s["readers"]}</text>')
        out.append(f'<text x="{pad + 10}" y="{pad + 15 * i}" fill="{color}">{kind}: sustained '
                   f'{result["sustained"]}, in real time {result["realtime"]} '
                   f'(filled: every criterion; hollow: behind or lost packets)</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", default="ours,baseline",
                        help="any of ours, ours-no-fanout (RTSP_TEST_FANOUT=off), "
                             "ours-unbatched (RTSP_TEST_SEND_BATCHING=off), baseline")
    parser.add_argument("--steps", default="500,1000,1500,2000,3000,4000,5000,6000")
    parser.add_argument("--ramp", type=float, default=100, help="readers started per second")
    parser.add_argument("--hold", type=float, default=15, help="seconds of play after the ramp")
    parser.add_argument("--bench_threads", type=int, default=1)
    parser.add_argument("--health_interval", type=float, default=0.05,
                        help="seconds between health samples on our server")
    parser.add_argument("--health_nice", type=int, default=0,
                        help="nice value of the health sampler's thread (e.g. -10: the checker "
                             "as if on another machine, not queued behind rtsp_bench)")
    parser.add_argument("--bench_nice", type=int, default=0,
                        help="nice value of rtsp_bench (e.g. 10: the readers as if on other "
                             "machines, second to the server for these cores)")
    parser.add_argument("--wakeup_probe", type=int, default=0, metavar="N",
                        help="during each hold on our server, N 1 ms sleeps of "
                             "bench/wakeup_latency as a normal thread, then N as SCHED_FIFO: "
                             "how late this machine runs a woken thread under the load "
                             "(needs --hold >= 2N/1000 + 4)")
    parser.add_argument("--json_out")
    parser.add_argument("--svg")
    parser.add_argument("--smoke", action="store_true",
                        help="20 readers (ramped over 2 s, held 3 s) on each server; fails "
                             "unless readers play everywhere and ours meets the criterion")
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    if args.smoke:
        steps, args.ramp, args.hold = [20], 10, 3
    probe_s = 2 * args.wakeup_probe / 1000  # both policies, 1 ms a sleep
    if args.wakeup_probe and args.hold < probe_s + 4:
        parser.error(f"--wakeup_probe {args.wakeup_probe} takes {probe_s:.0f} s: "
                     f"--hold must be at least {probe_s + 4:.0f} s")
    results = {}
    with tempfile.TemporaryDirectory(prefix="fanout-") as workdir:
        for kind in args.servers.split(","):
            proc, port, health = start_server(kind, workdir)
            try:
                # sustained: every criterion; realtime: every reader playing in
                # real time, whatever it lost. Steps go on while real time holds.
                result = {"steps": [], "sustained": 0, "realtime": 0}
                for readers in steps:
                    step = run_step(kind, proc, port, health, readers, args, workdir)
                    result["steps"].append(step)
                    print(json.dumps({"server": kind, **step}), flush=True)
                    if step["passed"] and result["sustained"] == result["realtime"]:
                        result["sustained"] = readers
                    if not step["realtime"]:
                        break
                    result["realtime"] = readers
                results[kind] = result
                if health:
                    log = proc.log()
                    result["not_serving_transitions"] = log.count("-> NOT_SERVING")
                    # Why a listener was seen down (the drain at the end is not logged).
                    result["listener_down_reasons"] = [
                        json.loads(line).get("reason", "") for line in log.splitlines()
                        if line.startswith("{") and " is down: " in line]
            finally:
                if proc.exited():
                    print(f"{kind} server exited with {proc.proc.returncode}; its log:",
                          file=sys.stderr)
                    sys.stderr.write(proc.log()[-3000:])
                proc.stop()
    summary = {"machine": {"cpus": os.cpu_count()}, "results": results}
    if "ours" in results and "baseline" in results and results["baseline"]["sustained"]:
        summary["ratio_sustained"] = round(results["ours"]["sustained"] /
                                           results["baseline"]["sustained"], 2)
    if "ours" in results and "baseline" in results and results["baseline"]["realtime"]:
        summary["ratio_realtime"] = round(results["ours"]["realtime"] /
                                          results["baseline"]["realtime"], 2)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(summary, f, indent=2)
    if args.svg:
        svg(results, args.svg)
    print(json.dumps({k: {"sustained": v["sustained"], "realtime": v["realtime"]}
                      for k, v in results.items()}))
    # The smoke checks the tools: readers play on every server, and ours
    # meets the criterion (stock gst-rtsp-server loses packets of readers
    # that join one by one, even at 20, and may stall: docs/benchmarks.md).
    if args.smoke and not all(r["steps"][0]["playing_at_end"] > 0 for r in results.values()):
        sys.exit(1)
    if args.smoke and "ours" in results and results["ours"]["sustained"] != steps[0]:
        sys.exit(1)


if __name__ == "__main__":
    main()
