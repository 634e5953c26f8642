#!/usr/bin/env python3
"""Runs the checks ECS and the load balancer run, against any rtsp-test-server.

One line per check (PASS or FAIL, what was checked, the measured time), then a
summary; the exit status is 0 only when every check passed. Python 3 standard
library only, so it runs on a CI runner, a laptop or inside the image.

The checks, in order:

  grpc   the container health check (ECS healthCheck, Docker HEALTHCHECK,
         Kubernetes gRPC probes): grpc.health.v1.Health/Check for --grpc-service
         ("" = overall, the k-of-n rule) must answer SERVING. With
         --health-probe PATH the project's health_probe binary makes the call
         (exactly what the container runs); without it this script speaks the
         call itself over plaintext HTTP/2.
  http   the NLB/ALB target group check: GET <url>/health must answer 200 with a
         JSON body whose "status" is "healthy" (with a path of /ready or /live:
         "ready" or "alive").
  tcp    a TCP connect to every RTSP port.
  rtsp   an RTSP OPTIONS on every port (must answer RTSP/1.0 200) and, unless
         --describe '' is given, a DESCRIBE of --describe on every port (must
         answer 200 with an SDP).

Examples:

  # The defaults suit `docker compose -f deploy/compose/docker-compose.health-test.yml up`:
  python3 scripts/test_health_checks.py

  # A deployment behind a load balancer, gRPC reached through a port-forward:
  python3 scripts/test_health_checks.py --url http://nlb.example.com:8080 \\
      --grpc 127.0.0.1:50051 --rtsp nlb.example.com:8554,8555,8556,8557

  # CI, right after `docker run`: retry for up to 60 s, print JSON.
  python3 scripts/test_health_checks.py --wait 60 --json

Give an empty value to skip a group: --grpc '' --url '' --rtsp ''.

Exit status: 0 every check passed; 1 at least one check failed; 2 bad arguments.
"""
import argparse
import json
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

USER_AGENT = "rtsp-test-server-test_health_checks/1"
DEFAULT_RTSP_PORTS = "8554,8555,8556,8557"
# grpc.health.v1.HealthCheckResponse.ServingStatus
SERVING_STATUS = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


class Check:
    """One line of the report."""

    def __init__(self, kind, target):
        self.kind = kind
        self.target = target
        self.ok = False
        self.detail = ""
        self.ms = 0.0

    def as_dict(self):
        return {"check": self.kind, "target": self.target, "ok": self.ok,
                "detail": self.detail, "ms": round(self.ms, 2)}

    def line(self):
        return "%s  %-13s %-42s %8.1f ms  %s" % (
            "PASS" if self.ok else "FAIL", self.kind, self.target, self.ms, self.detail)


def split_host_port(text, default_port=None):
    """'host:port', '[::1]:port' or 'host' -> (host, port)."""
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError("unclosed '[' in %r" % text)
        host, rest = text[1:end], text[end + 1:]
        if not rest:
            return host, default_port
        if not rest.startswith(":"):
            raise ValueError("expected ':port' after ']' in %r" % text)
        return host, int(rest[1:])
    if text.count(":") == 1:
        host, port = text.split(":")
        return host or "localhost", int(port)
    if text.count(":") > 1:  # a bare IPv6 literal
        return text, default_port
    return text, default_port


def host_for_url(host):
    return "[%s]" % host if ":" in host else host


def timed(check, function):
    start = time.monotonic()
    try:
        check.ok, check.detail = function()
    except (OSError, ValueError) as e:  # socket errors, timeouts, bad replies
        check.ok, check.detail = False, describe_error(e)
    check.ms = (time.monotonic() - start) * 1000.0
    return check


def describe_error(e):
    if isinstance(e, socket.timeout):
        return "timed out"
    if isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if isinstance(e, socket.gaierror):
        return "cannot resolve host: %s" % e
    if isinstance(e, ValueError):
        return str(e)
    if isinstance(e, urllib.error.URLError):
        return describe_error(e.reason) if isinstance(e.reason, Exception) else str(e.reason)
    return "%s: %s" % (type(e).__name__, e) if str(e) else type(e).__name__


# ------------------------------------------------------------------- gRPC

def _frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(
        ">I", stream) + payload


def _hpack_literal(name, value):
    """Literal header field without indexing, new name, no Huffman coding."""
    def string(s):
        data = s.encode()
        if len(data) >= 127:
            raise ValueError("header too long for this encoder: %r" % s)
        return bytes([len(data)]) + data
    return b"\x00" + string(name) + string(value)


def _plain_header(block, name):
    """Best effort: a header's value when the server sent it as a plain (not
    Huffman-coded) literal with a literal name, as gRPC does for grpc-status."""
    key = name.encode()
    i = block.find(bytes([len(key)]) + key)
    if i < 0:
        return None
    i += 1 + len(key)
    if i >= len(block) or block[i] & 0x80 or block[i] == 0x7F:
        return None
    return block[i + 1:i + 1 + block[i]].decode("utf-8", "replace")


GRPC_CODES = {"1": "CANCELLED", "2": "UNKNOWN", "4": "DEADLINE_EXCEEDED", "5": "NOT_FOUND",
              "7": "PERMISSION_DENIED", "8": "RESOURCE_EXHAUSTED", "12": "UNIMPLEMENTED",
              "13": "INTERNAL", "14": "UNAVAILABLE", "16": "UNAUTHENTICATED"}


def _read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed by the server")
        data += chunk
    return data


class GrpcHealthConnection:
    """One plaintext HTTP/2 connection (h2c, prior knowledge) for
    grpc.health.v1.Health/Check calls, one after another on new streams.

    Only what unary calls need: request headers are sent as HPACK literals,
    the answer is read from the DATA frames (response headers and trailers are
    not decoded beyond grpc-status), and the connection's receive window is
    handed back as DATA arrives so that it never runs dry.
    """

    def __init__(self, address, timeout):
        host, port = split_host_port(address)
        if port is None:
            raise ValueError("--grpc needs host:port, got %r" % address)
        self.authority = host_for_url(host) + ":%d" % port
        self.timeout = timeout
        self.stream = 1
        self.sock = socket.create_connection((host, port), timeout=timeout)
        # A call follows a small WINDOW_UPDATE: without this, Nagle holds it
        # until the server's delayed ACK (40 ms).
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + _frame(4, 0, 0)  # + SETTINGS

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def check(self, service):
        """Returns the ServingStatus name of `service`."""
        message = b""
        if service:
            encoded = service.encode()
            if len(encoded) > 127:
                raise ValueError("service name too long")
            message = b"\x0a" + bytes([len(encoded)]) + encoded  # field 1, string
        headers = (b"\x83"  # :method POST (static table 3)
                   b"\x86"  # :scheme http (static table 6)
                   + _hpack_literal(":path", "/grpc.health.v1.Health/Check")
                   + _hpack_literal(":authority", self.authority)
                   + _hpack_literal("content-type", "application/grpc")
                   + _hpack_literal("te", "trailers")
                   + _hpack_literal("user-agent", USER_AGENT)
                   + _hpack_literal("grpc-timeout", "%dm" % max(1, int(self.timeout * 1000))))
        grpc_message = b"\x00" + struct.pack(">I", len(message)) + message
        stream, self.stream = self.stream, self.stream + 2
        deadline = time.monotonic() + self.timeout
        self.sock.settimeout(self.timeout)
        self.sock.sendall(self.preface
                          + _frame(1, 0x4, stream, headers)      # HEADERS, END_HEADERS
                          + _frame(0, 0x1, stream, grpc_message))  # DATA, END_STREAM
        self.preface = b""
        body = b""
        header_blocks = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout()
            self.sock.settimeout(left)
            head = _read_exact(self.sock, 9)
            length = struct.unpack(">I", b"\x00" + head[:3])[0]
            kind, flags = head[3], head[4]
            on = struct.unpack(">I", head[5:9])[0] & 0x7FFFFFFF
            payload = _read_exact(self.sock, length)
            if kind == 4 and not flags & 0x1:  # SETTINGS -> ACK
                self.sock.sendall(_frame(4, 0x1, 0))
            elif kind == 6 and not flags & 0x1:  # PING -> ACK
                self.sock.sendall(_frame(6, 0x1, 0, payload))
            elif kind == 7:  # GOAWAY
                raise ConnectionError("server sent GOAWAY (error code %d)" %
                                      struct.unpack(">I", payload[4:8])[0])
            elif kind == 3 and on == stream:  # RST_STREAM
                raise ConnectionError("server reset the call (error code %d)" %
                                      struct.unpack(">I", payload[:4])[0])
            elif kind in (1, 9) and on == stream:  # HEADERS, CONTINUATION
                header_blocks += payload
            elif kind == 0 and on == stream:
                if length:  # the connection's window back (WINDOW_UPDATE)
                    self.sock.sendall(_frame(8, 0, 0, struct.pack(">I", length)))
                if flags & 0x8:  # PADDED
                    payload = payload[1:len(payload) - payload[0]]
                body += payload
            if on == stream and kind in (0, 1) and flags & 0x1:  # END_STREAM
                break
        return _health_status(header_blocks, body)


def _health_status(header_blocks, body):
    code = _plain_header(header_blocks, "grpc-status")
    if code not in (None, "0"):
        text = _plain_header(header_blocks, "grpc-message")
        raise ValueError("RPC failed: %s%s" % (GRPC_CODES.get(code, "grpc-status " + code),
                                              ": " + text if text else ""))
    if len(body) < 5:
        raise ValueError("the call ended without a HealthCheckResponse")
    size = struct.unpack(">I", body[1:5])[0]
    response = body[5:5 + size]
    status = 0  # proto3 default when the field is absent
    i = 0
    while i < len(response):
        tag = response[i]
        i += 1
        value, shift = 0, 0
        while i < len(response):
            byte = response[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        if tag == 0x08:
            status = value
        elif tag & 0x7 != 0:
            raise ValueError("unexpected field in HealthCheckResponse: tag %d" % tag)
    return SERVING_STATUS.get(status, "status %d" % status)


def grpc_health_check(address, service, timeout):
    """One Check on a connection of its own, as grpc_health_probe makes it."""
    with GrpcHealthConnection(address, timeout) as connection:
        return connection.check(service)


def check_grpc(args):
    check = Check("grpc Check", "%s service=%s" % (args.grpc, json.dumps(args.grpc_service)))

    def run():
        if args.health_probe:
            command = [args.health_probe, "-addr=" + args.grpc,
                       "-service=" + args.grpc_service,
                       "-connect-timeout=%dms" % int(args.timeout * 1000),
                       "-rpc-timeout=%dms" % int(args.timeout * 1000)]
            try:
                result = subprocess.run(command, capture_output=True, text=True,
                                        timeout=2 * args.timeout + 5)
            except subprocess.TimeoutExpired:
                return False, "health_probe did not exit in time"
            output = " ".join((result.stdout + result.stderr).split())
            return result.returncode == 0, "health_probe exit %d: %s" % (
                result.returncode, output)
        status = grpc_health_check(args.grpc, args.grpc_service, args.timeout)
        return status == "SERVING", status

    return timed(check, run)


# ------------------------------------------------------------------- HTTP

def check_http(args):
    url = args.url
    if urllib.parse.urlsplit(url).path in ("", "/"):
        url = url.rstrip("/") + "/health"
    check = Check("http GET", url)

    def run():
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=args.timeout) as response:
                code, body = response.status, response.read(1 << 20)
        except urllib.error.HTTPError as e:  # 503 and friends still have a body
            code, body = e.code, e.read(1 << 20)
        try:
            document = json.loads(body)
        except ValueError:
            return False, "HTTP %d, body is not JSON: %r" % (code, body[:80])
        if not isinstance(document, dict):
            return False, "HTTP %d, JSON body is not an object" % code
        status = document.get("status")
        summary = "HTTP %d status=%s" % (code, status)
        if "open_ports" in document:
            summary += " open_ports=%s/%s" % (document.get("open_ports"),
                                               document.get("total_ports"))
        if document.get("reason"):
            summary += " reason=%s" % json.dumps(document["reason"])
        return code == 200 and status in ("healthy", "ready", "alive"), summary

    return timed(check, run)


# ------------------------------------------------------------------- RTSP

def read_rtsp_response(sock, deadline):
    """Returns (status line, headers dict, body) of one RTSP response."""
    data = b""
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        sock.settimeout(left)
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("connection closed before a full response")
        data += chunk
        if len(data) > 65536:
            raise ValueError("response head larger than 64 KiB")
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(body) < length:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        sock.settimeout(left)
        chunk = sock.recv(length - len(body))
        if not chunk:
            raise ConnectionError("connection closed inside the body")
        body += chunk
    return lines[0], headers, body[:length]


def check_rtsp_port(args, host, port):
    """tcp connect, OPTIONS and (optionally) DESCRIBE on one connection."""
    where = "%s:%d" % (host_for_url(host), port)
    base = "rtsp://%s" % where
    tcp = Check("tcp connect", where)
    options = Check("rtsp OPTIONS", base + "/")
    checks = [tcp, options]
    describe = None
    if args.describe:
        describe = Check("rtsp DESCRIBE", base + args.describe)
        checks.append(describe)
    sock = None

    def connect():
        nonlocal sock
        sock = socket.create_connection((host, port), timeout=args.timeout)
        return True, "connected"

    timed(tcp, connect)
    if sock is None:
        for c in checks[1:]:
            c.detail = "not tried: no TCP connection"
        return checks
    with sock:
        def request(method, url, cseq, extra=""):
            sock.settimeout(args.timeout)
            sock.sendall(("%s %s RTSP/1.0\r\nCSeq: %d\r\nUser-Agent: %s\r\n%s\r\n" %
                          (method, url, cseq, USER_AGENT, extra)).encode())
            return read_rtsp_response(sock, time.monotonic() + args.timeout)

        def run_options():
            status, _, _ = request("OPTIONS", base + "/", 1)
            ok = status.startswith("RTSP/1.0 200")
            return ok, status

        def run_describe():
            status, _, body = request("DESCRIBE", base + args.describe, 2,
                                      "Accept: application/sdp\r\n")
            if not status.startswith("RTSP/1.0 200"):
                return False, status
            sdp = body.decode("utf-8", "replace")
            media = [line.split()[0][2:] for line in sdp.splitlines()
                     if line.startswith("m=") and line.split()]
            if not sdp.startswith("v=0") or not media:
                return False, "%s but the body is not an SDP with media: %r" % (status, sdp[:60])
            return True, "%s, SDP with %s" % (status, "+".join(media))

        timed(options, run_options)
        if describe is not None:
            if options.ok:
                timed(describe, run_describe)
            else:
                describe.detail = "not tried: OPTIONS failed"
    return checks


def parse_rtsp(text, default_host):
    """'host:8554,8555' | 'host:8554-8557' | '[::1]:8554' | '8554,8555' | 'host'
    -> (host, [ports])."""
    text = text.strip()
    if text[:1].isdigit() and all(c.isdigit() or c in ",- " for c in text):
        host, ports_text = default_host, text
    elif text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError("unclosed '['")
        host, ports_text = text[1:end], text[end + 1:].lstrip(":") or DEFAULT_RTSP_PORTS
    elif text.count(":") == 1:
        host, ports_text = text.split(":")
        host = host or default_host
    elif text.count(":") > 1:
        raise ValueError("write IPv6 hosts in brackets: [::1]:8554,8555")
    else:
        host, ports_text = text, DEFAULT_RTSP_PORTS
    ports = []
    for p in ports_text.split(","):
        p = p.strip()
        if not p:
            continue
        if "-" in p:
            low, high = (int(x) for x in p.split("-", 1))
            ports.extend(range(low, high + 1))
        else:
            ports.append(int(p))
    for p in ports:
        if not 0 < p < 65536:
            raise ValueError("port %d out of range" % p)
    if not ports:
        raise ValueError("no RTSP ports in %r" % text)
    return host, ports


# ------------------------------------------------------------------- main

def run_checks(args, rtsp_host, rtsp_ports):
    checks = []
    if args.grpc:
        checks.append(check_grpc(args))
    if args.url:
        checks.append(check_http(args))
    for port in rtsp_ports:
        checks.extend(check_rtsp_port(args, rtsp_host, port))
    return checks


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="test_health_checks.py",
        description=__doc__.split("\n\n")[0] + "\n\n" + "\n\n".join(__doc__.split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:8080", metavar="URL",
                        help="health gateway base URL, or a full URL to GET; /health is "
                             "appended when the URL has no path (default: %(default)s)")
    parser.add_argument("--grpc", default="localhost:50051", metavar="HOST:PORT",
                        help="gRPC address of grpc.health.v1 (default: %(default)s)")
    parser.add_argument("--grpc-service", default="", metavar="NAME",
                        help='health name to Check: "" overall (k of n ports, what ECS '
                             'checks), "rtsp", "control" (Kubernetes liveness) or one '
                             'listener (default: "")')
    parser.add_argument("--health-probe", default="", metavar="PATH",
                        help="make the gRPC check with this health_probe binary, as the "
                             "container does (default: speak gRPC from this script)")
    parser.add_argument("--rtsp", default="localhost:" + DEFAULT_RTSP_PORTS,
                        metavar="HOST:PORT,PORT,...",
                        help="RTSP host and ports; ranges allowed (8554-8557); a bare port "
                             "list uses the host of --url (default: %(default)s)")
    parser.add_argument("--describe", default="/cam1", metavar="PATH",
                        help="stream path to DESCRIBE on every RTSP port; '' skips DESCRIBE "
                             "(default: %(default)s, a stream of config/default.yaml)")
    parser.add_argument("--timeout", type=float, default=3.0, metavar="SECONDS",
                        help="limit of each network step (connect, request, answer) "
                             "(default: %(default)s)")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="retry the whole set (every second) until it passes or this "
                             "time is up, e.g. right after starting a container "
                             "(default: 0, one round)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document instead of the text report")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the checks these arguments ask for, one a line, "
                             "contact nothing and exit 0 (checks a command line)")
    args = parser.parse_args(argv)
    if args.timeout <= 0 or args.timeout > 60:
        parser.error("--timeout must be in (0, 60]")
    if args.wait < 0 or args.wait > 3600:
        parser.error("--wait must be in [0, 3600]")
    if args.describe and not args.describe.startswith("/"):
        parser.error("--describe must start with '/'")
    if args.grpc:
        try:
            if split_host_port(args.grpc)[1] is None:
                parser.error("--grpc needs HOST:PORT")
        except ValueError as e:
            parser.error("--grpc: %s" % e)
    if args.url and urllib.parse.urlsplit(args.url).scheme not in ("http", "https"):
        parser.error("--url must start with http:// or https://")
    args.rtsp_host, args.rtsp_ports = "localhost", []
    if args.rtsp:
        default_host = urllib.parse.urlsplit(args.url).hostname if args.url else None
        try:
            args.rtsp_host, args.rtsp_ports = parse_rtsp(args.rtsp, default_host or "localhost")
        except ValueError as e:
            parser.error("--rtsp: %s" % e)
    if not (args.grpc or args.url or args.rtsp_ports):
        parser.error("nothing to check: --grpc, --url and --rtsp are all empty")
    return args


def planned_checks(args):
    plan = []
    if args.grpc:
        plan.append(("grpc Check", "%s service=%s" % (args.grpc, json.dumps(args.grpc_service))))
    if args.url:
        url = args.url
        if urllib.parse.urlsplit(url).path in ("", "/"):
            url = url.rstrip("/") + "/health"
        plan.append(("http GET", url))
    for port in args.rtsp_ports:
        where = "%s:%d" % (host_for_url(args.rtsp_host), port)
        plan.append(("tcp connect", where))
        plan.append(("rtsp OPTIONS", "rtsp://%s/" % where))
        if args.describe:
            plan.append(("rtsp DESCRIBE", "rtsp://%s%s" % (where, args.describe)))
    return plan


def main(argv):
    args = parse_args(argv)
    if args.dry_run:
        for kind, target in planned_checks(args):
            print("PLAN  %-13s %s" % (kind, target))
        return 0
    deadline = time.monotonic() + args.wait
    rounds = 0
    while True:
        rounds += 1
        started = time.monotonic()
        checks = run_checks(args, args.rtsp_host, args.rtsp_ports)
        ok = all(c.ok for c in checks)
        if ok or time.monotonic() + 1.0 > deadline:
            break
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
    failed = [c for c in checks if not c.ok]
    if args.json:
        print(json.dumps({"ok": ok, "passed": len(checks) - len(failed), "failed": len(failed),
                          "rounds": rounds, "checks": [c.as_dict() for c in checks]},
                         indent=2))
    else:
        for c in checks:
            print(c.line())
        tries = "" if rounds == 1 else " (after %d rounds)" % rounds
        if ok:
            print("OK: all %d checks passed%s" % (len(checks), tries))
        else:
            print("FAILED: %d of %d checks failed%s" % (len(failed), len(checks), tries))
    sys.stdout.flush()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
