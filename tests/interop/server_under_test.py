"""The real rtsp_test_server with config/default.yaml, for third-party clients.

ServerUnderTest starts //app:rtsp_test_server on free loopback ports and
the health_gateway sidecar next to it, and reads the per-stream byte counters
from the gateway's /metrics. Both processes bind 127.0.0.1 only: the RTSP
listeners through --bind, the gRPC control plane through `control:
{bind_address: 127.0.0.1, port: 0}` set in a copy of default.yaml (the only
change to it; default.yaml's control plane binds 0.0.0.0), and the gateway
through its --bind. The embedded gateway (--http_port) would bind every
interface, hence the sidecar, which renders the same /metrics from the same
gRPC report.

RTS_SERVER_BINARY replaces the server binary, so that the suite can be pointed
at another build (e.g. the server as it was before a fix).
"""

import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.request

import yaml

WORKSPACE = "rtsp_test_server"

# The parameters of each stream that the checks need, from default.yaml.
_AUDIO_KBPS = {
    # Nominal rates of the server's audio encoders, so that a stream's
    # expected byte rate is video plus audio: opusenc's default bitrate,
    # G.711's 64 kbit/s, voaacenc's default.
    "none": 0,
    "opus": 64,
    "pcmu": 64,
    "pcma": 64,
    "aac": 128,
}


def runfile(relative):
    """Absolute path of a file in this test's runfiles; outside Bazel, of the
    file in the work tree's bazel-bin or, failing that, in the source tree."""
    srcdir = os.environ.get("TEST_SRCDIR")
    if srcdir:
        return os.path.join(srcdir, WORKSPACE, relative)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    built = os.path.join(root, "bazel-bin", relative)
    return built if os.path.exists(built) else os.path.join(root, relative)


def temp_dir():
    """Bazel's per-test scratch directory (or /tmp outside Bazel)."""
    return os.environ.get("TEST_TMPDIR", "/tmp")


class StreamSpec:
    """One stream of default.yaml as a client should see it."""

    def __init__(self, path, params, listener_names):
        self.path = path
        self.codec = params["codec"]
        self.pattern = params.get("pattern", "smpte")
        self.width = int(params["width"])
        self.height = int(params["height"])
        self.fps = int(params["fps"])
        self.bitrate_kbps = int(params["bitrate_kbps"]) if "bitrate_kbps" in params else None
        self.audio = params.get("audio", "none")
        self.listener_names = listener_names  # the listeners serving it, in config order

    @property
    def expected_kbps(self):
        """Configured video bitrate plus the audio encoder's rate; None for MJPEG."""
        if self.bitrate_kbps is None or self.codec == "mjpeg":
            return None
        return self.bitrate_kbps + _AUDIO_KBPS.get(self.audio, 0)

    def __repr__(self):
        return self.path


def load_default_streams():
    """The streams of config/default.yaml, in file order."""
    with open(runfile("config/default.yaml")) as f:
        config = yaml.safe_load(f)
    all_listeners = [listener["name"] for listener in config["listeners"]]
    streams = []
    for stream in config["streams"]:
        streams.append(
            StreamSpec(stream["path"], stream["parameters"], stream.get("listeners", all_listeners)))
    return streams, all_listeners


def _pick_free_port():
    """A loopback TCP port that was free a moment ago (as tests/e2e does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _LoggedProcess:
    """A child process whose JSON log lines are collected by a thread."""

    def __init__(self, name, argv, env):
        self.name = name
        self._lines = []
        self._cond = threading.Condition()
        self._done = False
        self.process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.process.stdout:
            with self._cond:
                self._lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._done = True
            self._cond.notify_all()

    def wait_for_line(self, message, timeout):
        """The first JSON log record whose "msg" is `message`, or None when the
        process exits or `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self._lines:
                    if f'"msg":"{message}"' in line:
                        try:
                            return json.loads(line)
                        except ValueError:
                            return None
                remaining = deadline - time.monotonic()
                if self._done or remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def records(self, message):
        """Every JSON log record whose "msg" is `message`, so far."""
        with self._cond:
            lines = [line for line in self._lines if f'"msg":"{message}"' in line]
        return [json.loads(line) for line in lines]

    def output(self, last=60):
        with self._cond:
            return "\n".join(self._lines[-last:])

    def running(self):
        return self.process.poll() is None

    def stop(self, timeout=30):
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._reader.join(10)
        return self.process.returncode


class ServerUnderTest:
    """rtsp_test_server (default.yaml, loopback ports) plus its /metrics."""

    def __init__(self):
        self.streams, listener_names = load_default_streams()
        self.binary = os.environ.get("RTS_SERVER_BINARY") or runfile("app/rtsp_test_server")
        self.ports = [_pick_free_port() for _ in listener_names]
        # --rtsp_ports with the config's count of ports changes them in order.
        self._port_of_listener = dict(zip(listener_names, self.ports))
        self.server = None
        self.gateway = None
        self.http_port = None
        self.started_at = None  # time.monotonic() of "server started"

    def start(self):
        with open(runfile("config/default.yaml")) as f:
            config = yaml.safe_load(f)
        # default.yaml with one change: the gRPC control plane on loopback,
        # on any free port (merged, in case default.yaml gains a control:).
        config.setdefault("control", {}).update(bind_address="127.0.0.1", port=0)
        config_path = os.path.join(temp_dir(), "interop_default.yaml")
        with open(config_path, "w") as f:
            yaml.safe_dump(config, f, sort_keys=False)
        env = dict(os.environ)
        argv = [self.binary, f"--config={config_path}", "--bind=127.0.0.1",
                "--rtsp_ports=" + ",".join(str(p) for p in self.ports)]
        self.server = _LoggedProcess("rtsp_test_server", argv, env)
        started = self.server.wait_for_line("server started", 60)
        if started is None:
            raise RuntimeError(f"{self.binary} did not start:\n{self.server.output()}")
        self.started_at = time.monotonic()
        grpc_port = started["grpc_port"]
        self.gateway = _LoggedProcess(
            "health_gateway",
            [runfile("gateway/health_gateway"), "--bind=127.0.0.1", "--http_port=0",
             f"--grpc_addr=127.0.0.1:{grpc_port}", "--report_interval=250ms"], env)
        serving = self.gateway.wait_for_line("http gateway serving", 30)
        if serving is None:
            raise RuntimeError(f"health_gateway did not start:\n{self.gateway.output()}")
        self.http_port = serving["http_port"]
        # The first report has every stream once the gateway follows the server.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if len(self.bytes_produced()) == len(self.streams):
                return
            time.sleep(0.25)
        raise RuntimeError(f"/metrics never listed all {len(self.streams)} streams: "
                           f"{self.bytes_produced()}")

    def stop(self):
        """Stops both processes; returns the server's exit code."""
        if self.gateway:
            self.gateway.stop(10)
        return self.server.stop(30) if self.server else None

    def url(self, stream):
        """rtsp:// URL of `stream` on the first listener that serves it."""
        port = self._port_of_listener[stream.listener_names[0]]
        return f"rtsp://127.0.0.1:{port}{stream.path}"

    def metrics_text(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/metrics", timeout=5) as r:
            return r.read().decode()

    def bytes_produced(self):
        """{path: rtsp_test_server_stream_bytes_produced_total} from /metrics."""
        return self.sample_bytes_produced()[0]

    def sample_bytes_produced(self):
        """({path: bytes produced}, when): `when` is the time.monotonic() at
        which the server made the report that the gateway rendered (the
        response time less the report's age), so that rates over short
        windows are not skewed by the gateway's polling."""
        text = self.metrics_text()
        now = time.monotonic()
        age = re.search(r"^rtsp_test_server_gateway_report_age_seconds (\S+)$", text, re.MULTILINE)
        values = {}
        for match in re.finditer(
                r'^rtsp_test_server_stream_bytes_produced_total\{path="([^"]+)"\} (\S+)$', text,
                re.MULTILINE):
            values[match.group(1)] = float(match.group(2))
        return values, now - (float(age.group(1)) if age else 0.0)

    def readers(self):
        """{path: rtsp_test_server_stream_readers} from /metrics."""
        values = {}
        for match in re.finditer(r'^rtsp_test_server_stream_readers\{path="([^"]+)"\} (\S+)$',
                                 self.metrics_text(), re.MULTILINE):
            values[match.group(1)] = float(match.group(2))
        return values
