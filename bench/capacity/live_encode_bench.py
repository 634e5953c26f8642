#!/usr/bin/env python3
"""Live-encode capacity (issue 11): how many distinct 720p30 H.264 test
patterns rtsp_test_server encodes at once in real time, with no reader and
with one TCP reader each.

For each count N, a server is started with N streams (each its own pattern,
so no two encoders share work), left to settle, and then:
  - no reader: every stream's frame rate from the gateway's /metrics
    (rtsp_test_server_stream_fps, read every second of --window) must
    average >= 29.4;
  - one reader each: rtsp_bench plays every stream; each reader's media
    rate must be within 1.0 +- 0.02 and no packet may be lost.
The result is the largest N that passes, with the server's CPU.

  bench/capacity/live_encode_bench.py --counts 2,4,6,8 --json_out encode.json
Run from the workspace root after `bazel build //...`.
"""
import argparse
import json
import os
import re
import subprocess
import tempfile
import time
import urllib.request
from capacity_util import Server, cpu_seconds, free_port

SERVER = "bazel-bin/app/rtsp_test_server"
BENCH = "bazel-bin/tools/rtsp_bench/rtsp_bench"
PATTERNS = ["ball", "smpte", "gradient", "pinwheel", "spokes", "zone-plate",
            "circular", "checkers-8", "colors", "smpte75", "bar", "smpte100"]
MIN_FPS = 29.4


def metrics(http_port):
    """Each stream's `rtsp_test_server_stream_fps` (frames a second over the
    last 5 s, measured at its payloader)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=5) as r:
        text = r.read().decode()
    return {m.group(1): float(m.group(2)) for m in re.finditer(
        r'^rtsp_test_server_stream_fps\{path="([^"]+)"\} (\S+)$', text, re.M)}


def run_count(n, args, workdir):
    rtsp_port, http_port = free_port(), free_port()
    config = os.path.join(workdir, f"encode-{n}.yaml")
    with open(config, "w") as f:
        f.write(f"listeners:\n  - {{name: rtsp, bind_address: 127.0.0.1, port: {rtsp_port}}}\n"
                "streams:\n")
        for i in range(n):
            f.write(f"  - path: /enc{i}\n    plugin: testpattern\n    parameters: "
                    f"{{pattern: {PATTERNS[i % len(PATTERNS)]}, width: 1280, height: 720, "
                    "fps: 30, codec: h264, bitrate_kbps: 2000, gop: 60, audio: none}\n")
    server = Server([SERVER, f"--config={config}", "--grpc_port=0",
                               "--bind=127.0.0.1", f"--http_port={http_port}"],
                    os.path.join(workdir, f"encode-{n}.log"))
    try:
        deadline = time.time() + 30
        while True:
            try:
                if len(metrics(http_port)) == n:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"{n} streams: not all mounted after 30 s (see {server.log_path})")
            time.sleep(0.2)
        time.sleep(args.settle)
        c0, t0 = cpu_seconds(server.pid), time.time()
        samples = []
        while time.time() - t0 < args.window:
            time.sleep(1)
            samples.append(metrics(http_port))
        c1, t1 = cpu_seconds(server.pid), time.time()
        fps = {p: sum(sample[p] for sample in samples) / len(samples) for p in samples[0]}
        idle = {"fps_min": round(min(fps.values()), 2),
                "cpu_percent": round((c1 - c0) / (t1 - t0) * 100, 1)}
        idle["passed"] = idle["fps_min"] >= MIN_FPS
        report_path = os.path.join(workdir, f"encode-{n}.json")
        urls = ",".join(f"rtsp://127.0.0.1:{rtsp_port}/enc{i}" for i in range(n))
        c0, t0 = cpu_seconds(server.pid), time.time()
        subprocess.run([BENCH, f"--url={urls}", f"--readers={n}", "--ramp=0",
                        f"--duration={args.window}s", f"--json_out={report_path}", "--quiet"],
                       check=True, timeout=args.window + 60)
        c1, t1 = cpu_seconds(server.pid), time.time()
        with open(report_path) as f:
            report = json.load(f)
        rate = report["media_rate"]
        read = {"media_rate_min": rate["min"], "media_rate_max": rate["max"],
                "lost_packets": report["sequence"]["lost_packets"],
                "cpu_percent": round((c1 - c0) / (t1 - t0) * 100, 1)}
        read["passed"] = (report["totals"]["playing_at_end"] == n and read["lost_packets"] == 0
                          and rate["min"] >= 0.98 and rate["max"] <= 1.02)
        return {"streams": n, "no_reader": idle, "one_reader_each": read}
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", default="2,4,6,7,8,10")
    parser.add_argument("--settle", type=float, default=5, help="seconds before measuring")
    parser.add_argument("--window", type=float, default=10, help="seconds measured")
    parser.add_argument("--json_out")
    args = parser.parse_args()
    results, best = [], {"no_reader": 0, "one_reader_each": 0}
    with tempfile.TemporaryDirectory(prefix="encode-") as workdir:
        for n in (int(c) for c in args.counts.split(",")):
            result = run_count(n, args, workdir)
            results.append(result)
            print(json.dumps(result), flush=True)
            for mode in best:
                if result[mode]["passed"]:
                    best[mode] = max(best[mode], n)
            if not result["no_reader"]["passed"] and not result["one_reader_each"]["passed"]:
                break
    summary = {"machine": {"cpus": os.cpu_count()}, "streams_in_real_time": best,
               "results": results}
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(summary, f, indent=2)
    print(json.dumps(best))


if __name__ == "__main__":
    main()
