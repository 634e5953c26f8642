#!/usr/bin/env python3
"""Time to healthy (issue 11): from exec of rtsp_test_server with the shipped
config (config/default.yaml: five streams on four ports, loopback ports
substituted) to
  - `GET /health` answering 200,
  - every `stream:<path>` health name SERVING (`/health?detailed=true`),
  - the first RTP packet at a TCP reader of the first stream,
each the median and max of --runs runs, with a warm GStreamer registry (one
unmeasured start first). Target: <= 0.5 s.

  bench/capacity/time_to_healthy_bench.py --runs 10 --json_out tth.json
Run from the workspace root after `bazel build //...`.
"""
import argparse
import json
import os
import re
import socket
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
from capacity_util import Server, free_port

SERVER = "bazel-bin/app/rtsp_test_server"
CONFIG = "config/default.yaml"


def http_json(url):
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, None
    except (OSError, ValueError):
        return None, None


def first_packet(port, path, deadline):
    """Connects, DESCRIBEs until 200, SETUPs the first track over TCP, PLAYs;
    returns when the first `$` frame arrives."""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                url = f"rtsp://127.0.0.1:{port}{path}"
                s.sendall(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
                head = s.recv(65536)
                if not head.startswith(b"RTSP/1.0 200"):
                    time.sleep(0.005)
                    continue
                s.sendall(f"SETUP {url}/stream=0 RTSP/1.0\r\nCSeq: 2\r\n"
                          "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n".encode())
                reply = b""
                while b"\r\n\r\n" not in reply:
                    reply += s.recv(65536)
                session = re.search(rb"Session: *([^;\r]+)", reply).group(1).decode()
                s.sendall(f"PLAY {url} RTSP/1.0\r\nCSeq: 3\r\nSession: {session}\r\n\r\n".encode())
                data = b""
                while True:
                    data += s.recv(65536)
                    body = data.split(b"\r\n\r\n", 1)
                    if data.startswith(b"$") or (len(body) == 2 and body[1].startswith(b"$")):
                        return time.monotonic()
        except OSError:
            time.sleep(0.005)
    return None


def one_run(workdir, index):
    with open(CONFIG) as f:
        config = f.read()
    ports = {}
    for port in sorted(set(re.findall(r"port: (\d+)", config))):
        ports[port] = free_port()
        config = config.replace(f"port: {port}", f"port: {ports[port]}")
    first_port = ports[sorted(ports)[0]]
    path = re.search(r"- path: (\S+)", config).group(1)
    streams = re.findall(r"- path: (\S+)", config)
    config_path = os.path.join(workdir, "default.yaml")
    with open(config_path, "w") as f:
        f.write(config)
    http_port = free_port()
    start = time.monotonic()
    server = Server([SERVER, f"--config={config_path}", "--grpc_port=0",
                               "--bind=127.0.0.1", f"--http_port={http_port}"],
                    os.path.join(workdir, f"run-{index}.log"))
    try:
        deadline = start + 20
        healthy = streams_serving = None
        packet_at = []
        reader = threading.Thread(
            target=lambda: packet_at.append(first_packet(first_port, path, deadline)))
        reader.start()
        while time.monotonic() < deadline and (healthy is None or streams_serving is None):
            status, body = http_json(f"http://127.0.0.1:{http_port}/health?detailed=true")
            now = time.monotonic() - start
            if status == 200 and healthy is None:
                healthy = now
            if body and all(body.get("services", {}).get(f"stream:{p}") == "healthy"
                            for p in streams) and streams_serving is None:
                streams_serving = now
            time.sleep(0.002)
        reader.join()
        packet = packet_at[0] - start if packet_at and packet_at[0] else None
        return {"health_200": healthy, "streams_serving": streams_serving,
                "first_rtp_packet": packet}
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json_out")
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory(prefix="tth-") as workdir:
        one_run(workdir, "warm-up")  # warms the GStreamer registry and caches
        for i in range(args.runs):
            runs.append(one_run(workdir, i))
            print(json.dumps({k: round(v, 3) if v else v for k, v in runs[-1].items()}), flush=True)
    summary = {"runs": args.runs, "seconds": {}}
    for key in runs[0]:
        values = [r[key] for r in runs if r[key] is not None]
        summary["seconds"][key] = {"median": round(statistics.median(values), 3),
                                   "max": round(max(values), 3), "missing": len(runs) - len(values)}
    summary["target_0_5_s_met"] = all(v["max"] <= 0.5 for v in summary["seconds"].values())
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(summary, f, indent=2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
