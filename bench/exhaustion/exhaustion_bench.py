#!/usr/bin/env python3
"""Descriptor exhaustion and idle connections, with the default config.

    bench/exhaustion/exhaustion_bench.py [--bin PATH] [--trials N] [--rss-n N]

Starts bazel-bin/app/rtsp_test_server --config=config/default.yaml on
127.0.0.1 (every port ephemeral, read from its JSON log) and measures:

  1. how many idle connections (each sent one OPTIONS, then stays open) one
     RTSP port holds before a new one is refused (503, or OPTIONS fails),
     while the other ports and /health are checked; once with the server's
     descriptor limit as found here, once under `prlimit --nofile=1024:1024`;
  2. the server's VmRSS per idle connection (before/after --rss-n of them);
  3. under `prlimit --nofile=1024:1024`: every RTSP port filled to its
     limit, then idle TCP connections to the gRPC port until the server's
     descriptor table is full; held, released; the time until (a) every RTSP
     port answers OPTIONS, (b) health_probe (gRPC Check of "") exits 0,
     (c) /health answers 200; and the server's log lines per second while
     exhausted. --trials times on the same server; the median is printed.

Every phase has its own deadline and the whole run is cut at 170 s; the
servers started here are killed on any exit. python3 stdlib only.
"""
import argparse
import http.client
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HOST = "127.0.0.1"
PROBE = os.path.join(ROOT, "bazel-bin/tools/health_probe/health_probe")
WHOLE_RUN_S = 170

SERVERS = []  # Popen objects started here; killed on exit


def now():
    return time.monotonic()


def log(msg):
    print(msg, flush=True)


class Deadline(Exception):
    pass


def check_deadline(deadline, what):
    if now() > deadline:
        raise Deadline(what)


# ---------------------------------------------------------------- server
class Server:
    def __init__(self, binary, nofile=None):
        cmd = [binary, "--config=config/default.yaml", "--bind=" + HOST,
               "--rtsp_ports=0,0,0,0", "--grpc_port=0", "--http_port=0"]
        if nofile:
            cmd = ["prlimit", "--nofile=%d:%d" % (nofile, nofile), "--"] + cmd
        self.cmd = cmd
        self.lines = []  # (monotonic time, stream, text)
        self.lock = threading.Lock()
        self.rtsp = []
        self.max_conn = []
        self.grpc = None
        self.http = None
        self.fd_limit = None
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE,
                                     start_new_session=True)
        SERVERS.append(self.proc)
        self.pid = self.proc.pid
        for name, f in (("out", self.proc.stdout), ("err", self.proc.stderr)):
            threading.Thread(target=self._read, args=(name, f),
                             daemon=True).start()

    def _read(self, name, f):
        for raw in f:
            text = raw.decode("utf-8", "replace").rstrip("\n")
            with self.lock:
                self.lines.append((now(), name, text))
            if name != "out":
                continue
            try:
                j = json.loads(text)
            except ValueError:
                continue
            msg = j.get("msg")
            if msg == "listener serving":
                self.rtsp.append(int(j["port"]))
                self.max_conn.append(int(j["max_connections"]))
            elif msg == "control plane serving":
                self.grpc = int(j["grpc_port"])
            elif msg == "http gateway serving":
                self.http = int(j["http_port"])
            elif msg == "file descriptor limit raised to the hard limit":
                self.fd_limit = int(j["soft"])

    def wait_ready(self, timeout):
        end = now() + timeout
        while now() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %s" % self.proc.returncode)
            if len(self.rtsp) == 4 and self.grpc and self.http:
                if http_health(self.http) == 200 and grpc_health(self.grpc) == 0:
                    return
            time.sleep(0.1)
        raise Deadline("server not healthy within %ss" % timeout)

    def rss_kib(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def nofile(self):
        with open("/proc/%d/limits" % self.pid) as f:
            for line in f:
                if line.startswith("Max open files"):
                    return int(line.split()[3])
        return None

    def lines_between(self, t0, t1):
        with self.lock:
            return [l for l in self.lines if t0 <= l[0] < t1]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def kill_all():
    for p in SERVERS:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(5)
            except Exception:
                pass


# ---------------------------------------------------------------- probes
def rtsp_options(port, timeout=1.0):
    """One OPTIONS on a new connection -> (status code or error text, socket)."""
    s = None
    try:
        s = socket.create_connection((HOST, port), timeout=timeout)
        s.sendall(b"OPTIONS rtsp://%s:%d/ RTSP/1.0\r\nCSeq: 1\r\n\r\n"
                  % (HOST.encode(), port))
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                s.close()
                return ("closed", None)
            buf += chunk
        code = int(buf.split(b" ", 2)[1])
        return (code, s)
    except (OSError, ValueError, IndexError) as e:
        if s:
            s.close()
        return (type(e).__name__ if not isinstance(e, OSError) or not e.strerror
                else e.strerror, None)


def options_ok(port, timeout=1.0):
    code, s = rtsp_options(port, timeout)
    if s:
        s.close()
    return code


def http_health(port, timeout=1.0):
    try:
        c = http.client.HTTPConnection(HOST, port, timeout=timeout)
        c.request("GET", "/health")
        r = c.getresponse()
        r.read()
        c.close()
        return r.status
    except (OSError, http.client.HTTPException) as e:
        return type(e).__name__


def grpc_health(port, timeout="500ms"):
    try:
        return subprocess.run(
            [PROBE, "-addr=%s:%d" % (HOST, port), "-connect-timeout=" + timeout,
             "-rpc-timeout=" + timeout],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=5).returncode
    except subprocess.TimeoutExpired:
        return "timeout"


def raise_own_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


# ---------------------------------------------------------------- phase 1+2
def fill_port(srv, port, limit_s, batch, rss_at=None, check_others=True):
    """Idle connections to `port` until refused. Returns a dict."""
    deadline = now() + limit_s
    held = []
    others = [p for p in srv.rtsp if p != port]
    res = {"port": port, "refusal": None, "others_bad": [], "health_bad": [],
           "rss": {}, "batches": 0, "nofile": srv.nofile(),
           "max_conn": list(srv.max_conn)}
    res["rss"][0] = srv.rss_kib()
    t0 = now()
    try:
        while True:
            check_deadline(deadline, "fill of port %d" % port)
            for _ in range(batch):
                code, s = rtsp_options(port)
                if code == 200:
                    held.append(s)
                    if rss_at and len(held) == rss_at:
                        time.sleep(1.0)
                        res["rss"][rss_at] = srv.rss_kib()
                    continue
                if s:
                    s.close()
                res["refusal"] = code
                break
            res["batches"] += 1
            res.setdefault("batch_t", []).append((len(held), now() - t0))
            if check_others:
                for p in others:
                    c = options_ok(p)
                    if c != 200:
                        res["others_bad"].append((len(held), p, c))
                h = http_health(srv.http)
                if h != 200:
                    res["health_bad"].append((len(held), h))
            if res["refusal"] is not None:
                break
        res["held"] = len(held)
        res["fill_s"] = now() - t0
        time.sleep(1.0)
        res["rss"][len(held)] = srv.rss_kib()
        # A second refusal, then room again once one connection closes.
        res["refusal2"] = options_ok(port)
        held.pop().close()
        t1 = now()
        res["after_close"] = None
        while now() - t1 < 3:
            c = options_ok(port)
            if c == 200:
                res["after_close"] = (c, now() - t1)
                break
            time.sleep(0.01)
        if res["after_close"] is None:
            res["after_close"] = (c, None)
        res["fds_at_limit"] = srv.fds()
    finally:
        for s in held:
            s.close()
    return res


def report_fill(name, srv, r):
    log("  %s: server RLIMIT_NOFILE %s, max_connections per port %s"
        % (name, srv.nofile(), srv.max_conn))
    log("    held %d idle connections on port %d in %.1f s; next one: %s; "
        "again: %s; after closing one: %s in %s"
        % (r["held"], r["port"], r["fill_s"], r["refusal"], r["refusal2"],
           r["after_close"][0],
           "-" if r["after_close"][1] is None
           else "%.0f ms" % (r["after_close"][1] * 1000)))
    log("    other ports / /health checked after each batch (%d): %s"
        % (r["batches"],
           "all answered" if not r["others_bad"] and not r["health_bad"]
           else "FAILURES others=%s health=%s"
           % (r["others_bad"][:5], r["health_bad"][:5])))
    log("    server descriptors open at the limit: %d" % r["fds_at_limit"])
    bt = r["batch_t"]
    if len(bt) >= 3:
        (n0, t0), (n1, t1) = bt[0], bt[1]
        (n2, t2), (n3, t3) = bt[-3], bt[-2]
        log("    accept+OPTIONS rate: %.0f connections/s in the 2nd batch, "
            "%.0f/s in the last full one" % ((n1 - n0) / (t1 - t0),
                                             (n3 - n2) / (t3 - t2)))


# ---------------------------------------------------------------- phase 3
def exhaust_and_recover(srv, hold_s, limit_s):
    deadline = now() + limit_s
    held = []
    out = {}
    try:
        base_fds = srv.fds()
        for p in srv.rtsp:
            while True:
                check_deadline(deadline, "RTSP fill")
                code, s = rtsp_options(p)
                if code != 200:
                    break
                held.append(s)
        out["rtsp_held"] = len(held)
        out["fds_after_rtsp"] = srv.fds()
        # Then idle TCP to the gRPC port until the table is full (the
        # server's count stops growing) or the limit is reached.
        limit = srv.nofile()
        stuck = 0
        last = srv.fds()
        grpc_conns = 0
        while stuck < 3 and last < limit:
            check_deadline(deadline, "gRPC fill")
            for _ in range(25):
                try:
                    s = socket.create_connection((HOST, srv.grpc), timeout=1)
                    held.append(s)
                    grpc_conns += 1
                except OSError:
                    break
            time.sleep(0.05)
            cur = srv.fds()
            stuck = stuck + 1 if cur <= last else 0
            last = cur
        out["grpc_conns"] = grpc_conns
        out["fds_full"] = srv.fds()
        out["base_fds"] = base_fds
        t_ex = now()
        # While exhausted: what answers?
        time.sleep(min(1.0, hold_s / 2))
        out["during"] = {
            "rtsp": options_ok(srv.rtsp[1], timeout=0.5),
            "grpc": grpc_health(srv.grpc),
            "http": http_health(srv.http, timeout=0.5),
        }
        rest = hold_s - (now() - t_ex)
        if rest > 0:
            time.sleep(rest)
        t_rel = now()
        out["hold_s"] = t_rel - t_ex
        ex_lines = srv.lines_between(t_ex, t_rel)
        out["log_lines"] = len(ex_lines)
        out["log_rate"] = len(ex_lines) / (t_rel - t_ex)
        out["log_sample"] = sorted({l[2][:160] for l in ex_lines})[:6]
    finally:
        for s in held:
            s.close()
    t0 = now()
    held = []
    # Release: poll each target on its own thread.
    res = {}

    def poll(key, fn):
        end = t0 + 10
        while now() < end:
            if fn():
                res[key] = now() - t0
                return
            time.sleep(0.02)
        res[key] = None

    threads = []
    for i, p in enumerate(srv.rtsp):
        threads.append(threading.Thread(
            target=poll, args=("rtsp%d" % i,
                               lambda p=p: options_ok(p, 0.5) == 200)))
    threads.append(threading.Thread(
        target=poll, args=("grpc", lambda: grpc_health(srv.grpc) == 0)))
    threads.append(threading.Thread(
        target=poll, args=("http", lambda: http_health(srv.http, 0.5) == 200)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rt = [res["rtsp%d" % i] for i in range(len(srv.rtsp))]
    out["rtsp_recovery"] = None if None in rt else max(rt)
    out["grpc_recovery"] = res["grpc"]
    out["http_recovery"] = res["http"]
    out["recovery_lines"] = len(srv.lines_between(t0, now()))
    return out


def ms(x):
    return "n/a (>10 s)" if x is None else "%.0f" % (x * 1000)


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "bazel-bin/app/rtsp_test_server"))
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--rss-n", type=int, default=2000)
    ap.add_argument("--hold", type=float, default=4.0)
    args = ap.parse_args()
    for path in (args.bin, PROBE):
        if not os.access(path, os.X_OK):
            sys.exit("missing %s (bazel build //app:rtsp_test_server "
                     "//tools/health_probe)" % path)
    own = raise_own_limit()
    log("machine: %s cores, shell ulimit -n %s, this client's limit raised to %d"
        % (os.cpu_count(), resource.getrlimit(resource.RLIMIT_NOFILE)[1], own))

    # Phase 1+2: default limit.
    log("\n[1+2] default descriptor limit")
    srv = Server(args.bin)
    srv.wait_ready(15)
    # Media pipelines grow for a few seconds after start: wait until VmRSS
    # changes by less than 1 % in a second (at most 10 s).
    rss_idle = [srv.rss_kib()]
    for _ in range(10):
        time.sleep(1)
        rss_idle.append(srv.rss_kib())
        if abs(rss_idle[-1] - rss_idle[-2]) < rss_idle[-2] / 100:
            break
    r_def = fill_port(srv, srv.rtsp[0], limit_s=50, batch=250,
                      rss_at=args.rss_n)
    report_fill("default", srv, r_def)
    rss = r_def["rss"]
    log("    VmRSS before: %d KiB (settling: %s KiB)" % (rss[0], rss_idle))
    for n in sorted(k for k in rss if k):
        log("    VmRSS with %d idle connections: %d KiB -> %.1f KiB per connection"
            % (n, rss[n], (rss[n] - rss[0]) / n))
    ks = sorted(k for k in rss if k)
    if len(ks) == 2:
        log("    slope from %d to %d connections: %.1f KiB per connection"
            % (ks[0], ks[1], (rss[ks[1]] - rss[ks[0]]) / (ks[1] - ks[0])))
    time.sleep(1)
    log("    VmRSS 1 s after closing them all: %d KiB" % srv.rss_kib())
    srv.stop()

    # Phase 1 at 1024, then phase 3 on the same server.
    log("\n[1] server under prlimit --nofile=1024:1024")
    srv = Server(args.bin, nofile=1024)
    srv.wait_ready(15)
    log("    server descriptors open when idle: %d" % srv.fds())
    r_small = fill_port(srv, srv.rtsp[0], limit_s=20, batch=32)
    report_fill("1024", srv, r_small)

    log("\n[3] exhaustion and recovery, server under prlimit --nofile=1024:1024")
    trials = []
    for i in range(args.trials):
        # Wait until healthy again before each trial.
        srv.wait_ready(15)
        time.sleep(0.5)
        o = exhaust_and_recover(srv, hold_s=args.hold, limit_s=20)
        trials.append(o)
        log("  trial %d: held %d RTSP + %d gRPC connections; server fds %d -> "
            "%d -> %d of %d" % (i + 1, o["rtsp_held"], o["grpc_conns"],
                               o["base_fds"], o["fds_after_rtsp"], o["fds_full"],
                               srv.nofile()))
        log("    while exhausted: new RTSP OPTIONS -> %s, health_probe rc -> %s, "
            "/health -> %s" % (o["during"]["rtsp"], o["during"]["grpc"],
                               o["during"]["http"]))
        log("    log: %d lines in %.1f s exhausted (%.1f lines/s); %d lines in "
            "the recovery window" % (o["log_lines"], o["hold_s"], o["log_rate"],
                                     o["recovery_lines"]))
        for s in o["log_sample"]:
            log("      | " + s)
        log("    recovery after release (ms): every RTSP port %s, gRPC SERVING %s, "
            "/health 200 %s" % (ms(o["rtsp_recovery"]), ms(o["grpc_recovery"]),
                                ms(o["http_recovery"])))
    srv.stop()

    def med(key):
        v = [t[key] for t in trials]
        if None in v:
            return "n/a (some > 10 s)"
        return "%.0f" % (statistics.median(v) * 1000)

    log("\n=== summary")
    log("| measure | default limit (RLIMIT_NOFILE %s) | RLIMIT_NOFILE 1024 |"
        % (r_def.get("nofile") or "as found"))
    log("|---|---|---|")
    log("| idle connections held by one port before refusal | %d (then %s) | %d (then %s) |"
        % (r_def["held"], r_def["refusal"], r_small["held"], r_small["refusal"]))
    log("| other ports and /health while that port is full | %s | %s |"
        % ("answered" if not r_def["others_bad"] and not r_def["health_bad"] else "FAILED",
           "answered" if not r_small["others_bad"] and not r_small["health_bad"] else "FAILED"))
    n = args.rss_n if args.rss_n in rss else r_def["held"]
    log("| VmRSS per idle connection (%d connections) | %.1f KiB | - |"
        % (n, (rss[n] - rss[0]) / n))
    ks = sorted(k for k in rss if k)
    if len(ks) == 2:
        log("| VmRSS per idle connection (%d -> %d connections) | %.1f KiB | - |"
            % (ks[0], ks[1], (rss[ks[1]] - rss[ks[0]]) / (ks[1] - ks[0])))
    log("| recovery: every RTSP port answers OPTIONS (median of %d, ms) | - | %s |"
        % (len(trials), med("rtsp_recovery")))
    log("| recovery: gRPC Check \"\" SERVING (ms) | - | %s |" % med("grpc_recovery"))
    log("| recovery: /health 200 (ms) | - | %s |" % med("http_recovery"))
    log("| log lines/s while exhausted | - | %s |"
        % ", ".join("%.1f" % t["log_rate"] for t in trials))


if __name__ == "__main__":
    def on_signal(signum, frame):
        raise Deadline("signal %d" % signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGALRM, on_signal)
    signal.alarm(WHOLE_RUN_S)
    os.chdir(ROOT)
    try:
        main()
    except Deadline as e:
        log("ABORTED: deadline: %s" % e)
        kill_all()
        sys.exit(2)
    finally:
        kill_all()
