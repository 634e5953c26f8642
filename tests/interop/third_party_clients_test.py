#!/usr/bin/python3
"""Clients nobody here wrote, against the real server, as users run them.

Users saw frozen streams, minutes-old media and H.264 decode errors in
ffmpeg, ffprobe and OpenCV while our GStreamer-based tests passed. This suite
runs those clients against //app:rtsp_test_server started with
config/default.yaml (loopback only, see server_under_test.py). One server run
serves every check, in this order, so that the suite stays short:

  A. Nobody attaches for 60 s; /metrics, sampled every 5 s, shows every
     stream producing all along at its configured rate. Then ffprobe over UDP
     gets each stream's codec parameters within 2 s.
  F. (first after the idle minute, so that /lobby has had no reader for
     >= 30 s) 50 UDP and 50 TCP plain RTSP readers join /lobby at once; each
     one's media starts at the present: no backlog, no freeze.
  B. ffmpeg decodes 5 s of every stream (all its tracks) over TCP and over
     UDP: no warnings, fps x 5 +- 1 video frames with distinct timestamps,
     timestamps at 1.0x wall time.
  C. ffmpeg records 10 s of each H.264 stream to MP4 with -c copy: fps x 10
     +- 1 video samples, no duplicate timestamps.
  D. OpenCV's first 10 frames of every stream are whole pictures: each
     matches the stream's test pattern, rendered here by GStreamer, outside
     the overlays (no grey or half-decoded frames).
  E. GStreamer's rtspsrc ! decodebin decodes every stream.

Failure messages name the stream, the transport, the expected and the
measured values. RTS_SERVER_BINARY runs the suite against another build of
the server (e.g. one from before a fix).
"""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unittest

# The helpers sit next to this file (in the runfiles tree under Bazel).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtsp_burst  # noqa: E402
import server_under_test  # noqa: E402

# -- A: production with nobody watching -------------------------------------
IDLE_SECONDS = 60
SAMPLE_EVERY_SECONDS = 5
# Each 5 s window of an H.264/H.265 stream must carry at least this share of
# the configured bitrate: a stall guard, not a bitrate check.
WINDOW_MIN_RATE_FRACTION = 0.5
# The minute's average rate of an H.264/H.265 stream, as a share of its
# configured video bitrate plus its audio: the generous band in force until
# the encoder bitrate fix lands.
# TODO(bitrate fix): tighten to (0.85, 1.15), i.e. +-15 %, once it has landed.
MINUTE_RATE_BAND = (0.5, 2.0)
CODEC_PARAMETERS_WITHIN_SECONDS = 2.0

# -- B: ffmpeg decodes ------------------------------------------------------
DECODE_SECONDS = 5
RATE_TOLERANCE = 0.05  # timestamps advance at 1.0x wall time +- 5 %
# Media may not run ahead of the wall time since ffmpeg started by more than
# this: a reader fed a backlog gets seconds of media in milliseconds.
AHEAD_OF_WALL_TOLERANCE_SECONDS = 0.3

# -- C: MP4 recording -------------------------------------------------------
RECORD_SECONDS = 10

# -- D: OpenCV first frames -------------------------------------------------
FIRST_FRAMES = 10
# Median |difference| (0..255) allowed in any horizontal band of a frame's
# overlay-free half against the pattern rendered locally. Whole frames were
# measured at 0-11 (encoder noise, worst at the edges of /cam1's lower bars);
# a grey or half-decoded frame is off by 26-130 in most bands.
BAND_MEDIAN_DIFF_LIMIT = 20
BANDS = 8
# Least standard deviation of a band of `snow`: whole frames of /cam4 have
# about 60, grey (concealed) bands about 8.
SNOW_MIN_BAND_STD = 25

# -- F: 100 readers at once -------------------------------------------------
BURST_IDLE_SECONDS = 30
BURST_WINDOW_SECONDS = 2.0
BURST_SLACK_SECONDS = 0.5
BURST_MIN_MEDIA_SECONDS = 1.0  # a reader that is not frozen gets at least this much

FFMPEG = "/usr/bin/ffmpeg"
FFPROBE = "/usr/bin/ffprobe"
GST_LAUNCH = "/usr/bin/gst-launch-1.0"

FFPROBE_CODEC = {"h264": "h264", "h265": "hevc", "mjpeg": "mjpeg"}
FFPROBE_AUDIO = {"opus": "opus", "pcmu": "pcm_mulaw", "pcma": "pcm_alaw", "aac": "aac"}

SERVER = None
_IDLE_SAMPLES = None  # [(time.monotonic(), {path: bytes})] of the idle minute
_LAST_READ = {}  # path -> time.monotonic() when a check last stopped reading it
_DECODES = {}  # (path, transport) -> _Decode


def setUpModule():
    global SERVER
    tmp = server_under_test.temp_dir()
    # GStreamer's registry (server and gst-launch) stays in the test's own
    # directory, as in tests/util/test_main.cc.
    os.environ.setdefault("GST_REGISTRY", os.path.join(tmp, "gst-registry.bin"))
    os.environ.setdefault("GST_REGISTRY_FORK", "no")
    os.environ.pop("DISPLAY", None)
    SERVER = server_under_test.ServerUnderTest()
    SERVER.start()
    print(f"server under test: {SERVER.binary}", file=sys.stderr)


def tearDownModule():
    if SERVER is None:
        return
    was_running = SERVER.server.running()
    code = SERVER.stop()
    if not was_running or code != 0:
        raise AssertionError(f"rtsp_test_server: running at the end {was_running}, exit code {code} "
                             f"(want 0 after SIGTERM); last output:\n{SERVER.server.output()}")


def _stream(path):
    return next(s for s in SERVER.streams if s.path == path)


def _idle_minute():
    """Samples /metrics every 5 s for the first minute of the server's life,
    with nobody attached (once; every check that needs an idle history first
    calls this, so a filtered run still gets it)."""
    global _IDLE_SAMPLES
    if _IDLE_SAMPLES is not None:
        return _IDLE_SAMPLES
    samples = []
    readers_seen = {}
    start = time.monotonic()
    for i in range(IDLE_SECONDS // SAMPLE_EVERY_SECONDS + 1):
        # The point of A: wait, with nobody watching. Sleeping to the next
        # sampling time is the test, not a synchronisation.
        delay = start + i * SAMPLE_EVERY_SECONDS - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        values, when = SERVER.sample_bytes_produced()
        samples.append((when, values))
        for path, readers in SERVER.readers().items():
            readers_seen[path] = max(readers_seen.get(path, 0), readers)
    if any(readers_seen.values()):
        raise AssertionError(f"someone attached during the idle minute: readers {readers_seen}")
    _IDLE_SAMPLES = samples
    return samples


def _await_no_reader_for(path, seconds):
    """Waits until nobody has read `path` for `seconds` (since the server
    started or this suite last read it)."""
    last = _LAST_READ.get(path, SERVER.started_at)
    remaining = last + seconds - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)  # the idle time is the precondition itself


def _mark_read(path):
    _LAST_READ[path] = time.monotonic()


def _run(argv, timeout):
    """Runs a client; returns (exit code, stdout, stderr, wall seconds)."""
    start = time.monotonic()
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        code, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as e:
        code, out, err = "timeout", e.stdout or b"", e.stderr or b""
    return code, out.decode(errors="replace"), err.decode(errors="replace"), time.monotonic() - start


def _tail(text, lines=15):
    return "\n".join(text.strip().splitlines()[-lines:])


def _note(text):
    """Records a measurement in the test log, pass or fail, for humans."""
    print(f"  measured: {text}", file=sys.stderr, flush=True)


class _Check(unittest.TestCase):
    """A TestCase whose failures carry only the check's own message."""

    def _expect(self, condition, message):
        if not condition:
            self.fail(message)


class IdleProductionTest(_Check):
    """A: streams run whether or not anyone watches."""

    def test_every_stream_produces_bytes_in_every_5s_window_of_a_minute_with_no_reader(self):
        samples = _idle_minute()
        for stream in SERVER.streams:
            with self.subTest(stream=stream.path):
                stalled = []
                for (t0, v0), (t1, v1) in zip(samples, samples[1:]):
                    if v1.get(stream.path, 0) <= v0.get(stream.path, 0):
                        stalled.append(f"{t0 - SERVER.started_at:.0f}-{t1 - SERVER.started_at:.0f}s")
                self._expect(
                    not stalled,
                    f"{stream.path}: no reader: expected bytes produced to grow in each of "
                    f"{len(samples) - 1} windows of {SAMPLE_EVERY_SECONDS} s; zero growth in "
                    f"windows (since start) {stalled}")

    def test_h264_and_h265_streams_produce_their_configured_bitrate_with_no_reader(self):
        samples = _idle_minute()
        for stream in SERVER.streams:
            expected = stream.expected_kbps
            if expected is None:
                continue
            with self.subTest(stream=stream.path):
                rates = []
                for (t0, v0), (t1, v1) in zip(samples, samples[1:]):
                    rates.append((v1[stream.path] - v0[stream.path]) * 8 / 1000 / (t1 - t0))
                (t_first, v_first), (t_last, v_last) = samples[0], samples[-1]
                minute = (v_last[stream.path] - v_first[stream.path]) * 8 / 1000 / (t_last - t_first)
                _note(f"{stream.path} no reader: {minute:.0f} kbit/s over {t_last - t_first:.0f} s "
                      f"({minute / expected:.2f}x of {expected}), 5 s windows {min(rates):.0f}.."
                      f"{max(rates):.0f} kbit/s")
                low, high = MINUTE_RATE_BAND
                self._expect(
                    low * expected <= minute <= high * expected,
                    f"{stream.path} ({stream.codec} {stream.bitrate_kbps} kbit/s + {stream.audio} "
                    f"audio): no reader: expected {low:g}x..{high:g}x of {expected} kbit/s over "
                    f"{t_last - t_first:.0f} s, measured {minute:.0f} kbit/s "
                    f"({minute / expected:.2f}x); per 5 s window: "
                    f"{[round(r) for r in rates]}")
                slow = [round(r) for r in rates if r < WINDOW_MIN_RATE_FRACTION * expected]
                self._expect(
                    not slow,
                    f"{stream.path}: no reader: expected every 5 s window >= "
                    f"{WINDOW_MIN_RATE_FRACTION:g}x of {expected} kbit/s; windows below (kbit/s): "
                    f"{slow} of {[round(r) for r in rates]}")

    def test_a_udp_reader_gets_codec_parameters_of_every_stream_within_2s(self):
        _idle_minute()
        for stream in SERVER.streams:
            with self.subTest(stream=stream.path, transport="udp"):
                # -fpsprobesize 0: ffprobe would otherwise also wait for ~20
                # frames to guess a frame rate (2 s of /cam4 by itself), which
                # is no codec parameter.
                url = SERVER.url(stream)
                code, out, err, wall = _run(
                    [FFPROBE, "-v", "error", "-rtsp_transport", "udp", "-fpsprobesize", "0",
                     "-show_entries", "stream=codec_type,codec_name,width,height,sample_rate",
                     "-of", "json", url], timeout=20)
                _mark_read(stream.path)
                _note(f"{stream.path} udp: ffprobe exit {code} after {wall:.2f} s")
                self._expect(code == 0, f"{stream.path} udp: expected ffprobe to exit 0, got {code} "
                                        f"after {wall:.1f} s: {_tail(err)}")
                found = json.loads(out).get("streams", [])
                video = [s for s in found if s.get("codec_type") == "video"]
                self.assertEqual(
                    [(v.get("codec_name"), v.get("width"), v.get("height")) for v in video],
                    [(FFPROBE_CODEC[stream.codec], stream.width, stream.height)],
                    f"{stream.path} udp: video codec parameters")
                if stream.audio != "none":
                    audio = [s.get("codec_name") for s in found if s.get("codec_type") == "audio"]
                    self.assertEqual(audio, [FFPROBE_AUDIO[stream.audio]],
                                     f"{stream.path} udp: audio codec")
                self._expect(
                    wall <= CODEC_PARAMETERS_WITHIN_SECONDS,
                    f"{stream.path} udp: expected codec parameters within "
                    f"{CODEC_PARAMETERS_WITHIN_SECONDS:g} s of starting ffprobe, took {wall:.2f} s")


class _Decode:
    """One `ffmpeg -t 5 ... -f framemd5` run of every track (video and audio,
    as a player decodes them), with each video frame's wall time."""

    def __init__(self, url, transport):
        self.transport = transport
        self.frames = []  # video: (seconds since ffmpeg started, pts in seconds)
        argv = [FFMPEG, "-nostdin", "-hide_banner", "-v", "warning", "-rtsp_transport", transport,
                "-i", url, "-map", "0", "-t", str(DECODE_SECONDS),
                # Every decoded frame with its own timestamp, in the input's
                # time base (no frame rate conversion), written at once.
                "-fps_mode", "passthrough", "-enc_time_base", "-1", "-flush_packets", "1",
                "-f", "framemd5", "pipe:1"]
        self.start = time.monotonic()
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        errors = []
        drain = threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True)
        drain.start()
        killed = []
        killer = threading.Timer(DECODE_SECONDS + 25, lambda: (killed.append(True), process.kill()))
        killer.start()
        time_bases, video = {}, None
        for raw in process.stdout:
            now = time.monotonic() - self.start
            line = raw.decode(errors="replace").strip()
            # Header: "#tb 0: 1/90000", "#media_type 0: video"; then one line
            # per frame: "stream, dts, pts, duration, size, hash".
            header = re.match(r"#(tb|media_type) (\d+): (\S+)", line)
            if header and header.group(1) == "tb":
                num, den = header.group(3).split("/")
                time_bases[int(header.group(2))] = int(num) / int(den)
            elif header and header.group(3) == "video" and video is None:
                video = int(header.group(2))
            elif line and not line.startswith("#"):
                fields = line.split(",")
                if int(fields[0]) == video and video in time_bases:
                    self.frames.append((now, int(fields[2]) * time_bases[video]))
        process.wait()
        killer.cancel()
        drain.join(10)
        process.stdout.close()
        process.stderr.close()
        self.code = "killed after a timeout" if killed else process.returncode
        self.stderr = (errors[0] if errors else b"").decode(errors="replace")
        self.wall = time.monotonic() - self.start


def _decode(stream, transport):
    """ffmpeg's decode of `stream` over `transport`. The runs of B happen once,
    one after the other: a decoder starved of CPU hands out frames late and
    then in a burst, which would read as a wrong rate."""
    key = (stream.path, transport)
    if key not in _DECODES:
        _idle_minute()
        for s in SERVER.streams:
            for t in ("tcp", "udp"):
                if (s.path, t) not in _DECODES:
                    _DECODES[(s.path, t)] = _Decode(SERVER.url(s), t)
                    _mark_read(s.path)
    return _DECODES[key]


class FfmpegDecodeTest(_Check):
    """B: ffmpeg decodes 5 s of every stream over TCP and over UDP."""

    def test_ffmpeg_decodes_every_stream_over_tcp_and_udp_without_warnings(self):
        for stream in SERVER.streams:
            for transport in ("tcp", "udp"):
                with self.subTest(stream=stream.path, transport=transport):
                    run = _decode(stream, transport)
                    self._expect(run.code == 0, f"{stream.path} {transport}: expected ffmpeg to exit 0, "
                                 f"got {run.code} after {run.wall:.1f} s: {_tail(run.stderr)}")
                    lines = run.stderr.strip().splitlines()
                    self._expect(
                        not lines,
                        f"{stream.path} {transport}: expected no ffmpeg warnings or errors "
                        f"(-v warning) decoding {DECODE_SECONDS} s; got {len(lines)} lines:\n"
                        + _tail(run.stderr))

    def test_ffmpeg_decodes_fps_times_5_frames_with_distinct_timestamps_in_5s_of_every_stream(self):
        for stream in SERVER.streams:
            for transport in ("tcp", "udp"):
                with self.subTest(stream=stream.path, transport=transport):
                    run = _decode(stream, transport)
                    expected = stream.fps * DECODE_SECONDS
                    pts = [p for _, p in run.frames]
                    resync_pair = _resync_pair(pts, stream.fps)
                    counted = len(pts) - resync_pair
                    repeated = sorted({round(p, 3) for i, p in enumerate(pts)
                                       if i > int(resync_pair) and p in pts[:i]})
                    self._expect(
                        abs(counted - expected) <= 1 and not repeated,
                        f"{stream.path} {transport}: expected {expected} +- 1 frames in "
                        f"{DECODE_SECONDS} s ({stream.fps} fps) with distinct timestamps, decoded "
                        f"{counted}" + (" (+1 at ffmpeg's RTCP re-timing)" if resync_pair else "")
                        + (f", timestamps repeated at {repeated[:10]} s" if repeated else ""))

    def test_ffmpeg_frame_timestamps_advance_at_wall_clock_rate_on_every_stream(self):
        for stream in SERVER.streams:
            for transport in ("tcp", "udp"):
                with self.subTest(stream=stream.path, transport=transport):
                    run = _decode(stream, transport)
                    self._expect(len(run.frames) >= stream.fps * 3,
                                 f"{stream.path} {transport}: expected >= {stream.fps * 3} frames "
                                 f"to measure timestamps, decoded {len(run.frames)}")
                    # No backlog: a frame's media time since the first frame
                    # cannot exceed the wall time since ffmpeg started (the
                    # first packet came after that) by more than a tolerance.
                    first_pts = run.frames[0][1]
                    ahead = max((p - first_pts) - wall for wall, p in run.frames)
                    self._expect(
                        ahead <= AHEAD_OF_WALL_TOLERANCE_SECONDS,
                        f"{stream.path} {transport}: media ran {ahead:.2f} s ahead of the wall "
                        f"time since ffmpeg started (expected <= "
                        f"{AHEAD_OF_WALL_TOLERANCE_SECONDS} s): a backlog")
                    # Rate: least-squares slope of pts over arrival time for
                    # the frames of the second half (ffmpeg hands out the
                    # frames it buffered while probing in one burst first).
                    steady = [(w, p) for w, p in run.frames if p - first_pts >= DECODE_SECONDS / 2]
                    rate = _slope(steady)
                    span = steady[-1][0] - steady[0][0] if len(steady) > 1 else 0
                    _note(f"{stream.path} {transport}: {len(run.frames)} frames, media ahead of wall "
                          f"{ahead:+.2f} s, rate {'n/a' if rate is None else f'{rate:.3f}x'} over "
                          f"{span:.2f} s, {len(run.stderr.strip().splitlines())} stderr lines, "
                          f"ffmpeg {run.wall:.1f} s")
                    self._expect(
                        rate is not None and abs(rate - 1) <= RATE_TOLERANCE,
                        f"{stream.path} {transport}: expected timestamps to advance at 1.0x wall "
                        f"time +- {RATE_TOLERANCE:.0%}, measured "
                        f"{'n/a' if rate is None else f'{rate:.3f}x'} over {len(steady)} frames "
                        f"and {span:.2f} s of wall time")


def _resync_pair(timestamps, fps):
    """True when the first two of `timestamps` (seconds) are less than half a
    frame apart: ffmpeg's step at its first RTCP sender report, not the
    stream's.

    ffmpeg times the packets of a session with two tracks (/cam1, /lobby) by
    RTP alone until the first sender report arrives, then by the report (lip
    sync). The frame before that step can land on, or next to, the next
    one's timestamp (seen: equal pts; "Non-monotonous DTS ... previous: 0,
    current: 0" when recording). That one pair at the start is counted as
    one frame; any other repeat is the stream's.
    """
    return len(timestamps) > 1 and abs(timestamps[1] - timestamps[0]) < 0.5 / fps


def _slope(points):
    """Least-squares slope dy/dx of [(x, y)], or None for fewer than 2 x's."""
    if len(points) < 2:
        return None
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in points) / sxx


class Mp4RecordingTest(_Check):
    """C: ffmpeg records H.264 to MP4 without re-encoding."""

    def test_ffmpeg_records_10s_of_each_h264_stream_to_mp4_with_one_sample_per_frame(self):
        _idle_minute()
        h264 = [s for s in SERVER.streams if s.codec == "h264" and s.path in ("/cam1", "/lobby")]
        self.assertEqual(len(h264), 2, "default.yaml: /cam1 and /lobby are H.264")
        outputs, runs = {}, {}
        # Both recordings at once: stream copy costs next to no CPU.
        def record(stream):
            path = os.path.join(server_under_test.temp_dir(), f"record{stream.path.replace('/', '_')}.mp4")
            outputs[stream.path] = path
            # Video only: MP4 cannot carry /lobby's G.711 audio, and Opus in
            # MP4 is experimental in this ffmpeg.
            runs[stream.path] = _run(
                [FFMPEG, "-nostdin", "-hide_banner", "-y", "-v", "warning", "-rtsp_transport", "tcp",
                 "-i", SERVER.url(stream), "-map", "0:v:0", "-c", "copy", "-t", str(RECORD_SECONDS),
                 path], timeout=RECORD_SECONDS + 30)
            _mark_read(stream.path)
        threads = [threading.Thread(target=record, args=(s,)) for s in h264]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(RECORD_SECONDS + 40)
        for stream in h264:
            with self.subTest(stream=stream.path, transport="tcp"):
                code, _, err, wall = runs[stream.path]
                self._expect(code == 0, f"{stream.path} tcp: expected ffmpeg -c copy to exit 0, got "
                                        f"{code} after {wall:.1f} s: {_tail(err)}")
                code, out, perr, _ = _run(
                    [FFPROBE, "-v", "error", "-select_streams", "v:0", "-count_packets",
                     "-show_entries", "stream=nb_read_packets:packet=pts_time,dts_time", "-of", "json",
                     outputs[stream.path]], timeout=30)
                self._expect(code == 0, f"{stream.path}: expected ffprobe of the MP4 to exit 0, got "
                                        f"{code}: {perr}")
                probe = json.loads(out)
                samples = int(probe["streams"][0]["nb_read_packets"])
                pts = [float(p["pts_time"]) for p in probe.get("packets", []) if "pts_time" in p]
                dts = [float(p["dts_time"]) for p in probe.get("packets", []) if "dts_time" in p]
                resync_pair = _resync_pair(pts, stream.fps)
                counted = samples - resync_pair
                expected = stream.fps * RECORD_SECONDS
                _note(f"{stream.path} tcp -> MP4: {samples} video samples"
                      + (" (a pair at ffmpeg's RTCP re-timing)" if resync_pair else ""))
                self._expect(
                    abs(counted - expected) <= 1,
                    f"{stream.path} tcp -> MP4: expected {expected} +- 1 video samples in "
                    f"{RECORD_SECONDS} s ({stream.fps} fps), the file has {counted}"
                    + (" (+1 at ffmpeg's RTCP re-timing)" if resync_pair else "")
                    + f"; ffmpeg said: {_tail(err, 5) or 'nothing'}")
                repeated_pts = sorted({p for p in pts if pts.count(p) > 1})
                not_increasing = sum(1 for a, b in zip(dts, dts[1:]) if b <= a)
                self._expect(
                    not repeated_pts and not_increasing == 0,
                    f"{stream.path} tcp -> MP4: expected unique pts and increasing dts; repeated "
                    f"pts {repeated_pts[:10]}, {not_increasing} dts not increasing; ffmpeg said: "
                    f"{_tail(err, 5) or 'nothing'}")


class OpenCvFirstFramesTest(_Check):
    """D: OpenCV's first frames are whole pictures."""

    def test_opencv_first_10_frames_of_every_stream_show_the_whole_test_pattern(self):
        import cv2  # python3-opencv (bazel/debian-packages.txt)
        import numpy
        _idle_minute()
        outputs = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR")
        for stream in SERVER.streams:
            with self.subTest(stream=stream.path, transport="tcp (OpenCV's default)"):
                reference = None
                if stream.pattern != "snow":
                    reference = _rendered_pattern(stream, cv2, numpy)
                    self.assertEqual(reference.shape[:2], (stream.height, stream.width),
                                     f"{stream.path}: locally rendered {stream.pattern} frame")
                frames = []
                capture = cv2.VideoCapture(
                    SERVER.url(stream), cv2.CAP_FFMPEG,
                    [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 15000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 10000])
                try:
                    deadline = time.monotonic() + 30
                    while capture.isOpened() and len(frames) < FIRST_FRAMES and time.monotonic() < deadline:
                        ok, frame = capture.read()
                        if not ok:
                            break
                        frames.append(frame)
                finally:
                    capture.release()
                    _mark_read(stream.path)
                self._expect(len(frames) == FIRST_FRAMES,
                             f"{stream.path}: expected OpenCV to read {FIRST_FRAMES} frames, "
                             f"it read {len(frames)}")
                if outputs:
                    name = stream.path.strip("/").replace("/", "_")
                    cv2.imwrite(os.path.join(outputs, f"opencv_first_frame_{name}.png"), frames[0])
                self.assertEqual(frames[0].shape[:2], (stream.height, stream.width),
                                 f"{stream.path}: frame size")
                scores = [score for f in frames for score in _band_scores(f, reference, numpy)]
                _note(f"{stream.path} OpenCV: first {FIRST_FRAMES} frames, "
                      + (f"least band std {min(scores):.1f}" if reference is None else
                         f"largest band median |diff| {max(scores):.1f}"))
                bad = []
                for index, frame in enumerate(frames):
                    problem = _incomplete(frame, reference, numpy)
                    if problem:
                        bad.append(f"frame {index}: {problem}")
                self._expect(
                    not bad,
                    f"{stream.path} (pattern {stream.pattern}): expected each of the first "
                    f"{FIRST_FRAMES} frames to show the whole pattern (per band of the overlay-free "
                    f"right half: " + (f"std >= {SNOW_MIN_BAND_STD}" if reference is None else
                                       f"median |difference| to the rendered pattern <= "
                                       f"{BAND_MEDIAN_DIFF_LIMIT}") + f"); {len(bad)} are not:\n"
                    + "\n".join(bad))


def _rendered_pattern(stream, cv2, numpy):
    """The stream's test pattern without overlay, rendered here by GStreamer
    and decoded as OpenCV decodes the stream: what a whole frame looks like.

    The frame is what the server's encoder is given (I420 at the stream's
    size), turned into BGR with OpenCV's own conversion. MJPEG goes through
    jpegenc as on the server and is decoded by OpenCV: JPEG's sample range
    differs from I420's, and the reference must carry the same difference.
    """
    work = tempfile.mkdtemp(dir=server_under_test.temp_dir())
    caps = (f"video/x-raw,width={stream.width},height={stream.height},"
            f"framerate={stream.fps}/1,pixel-aspect-ratio=1/1")
    jpeg = stream.codec == "mjpeg"
    target = os.path.join(work, "pattern.jpg" if jpeg else "pattern.i420")
    argv = [GST_LAUNCH, "-q", "videotestsrc", f"pattern={stream.pattern}", "num-buffers=1", "!",
            caps, "!", "videoconvert", "!", "video/x-raw,format=I420", "!"]
    argv += (["jpegenc", "!"] if jpeg else []) + ["filesink", f"location={target}"]
    code, _, err, _ = _run(argv, timeout=30)
    if code != 0:
        raise AssertionError(f"rendering {stream.pattern} {caps}: gst-launch exit {code}: {err}")
    if jpeg:
        return cv2.imread(target)
    i420 = numpy.fromfile(target, dtype=numpy.uint8).reshape(stream.height * 3 // 2, stream.width)
    return cv2.cvtColor(i420, cv2.COLOR_YUV2BGR_I420)


def _band_scores(frame, reference, numpy):
    """Per horizontal band of the frame's right half: the median |difference|
    to `reference`, or, when `reference` is None (`snow`), the band's
    standard deviation."""
    height, width = frame.shape[:2]
    area = numpy.s_[:, width // 2:]
    a = frame[area].astype(numpy.int16)
    b = None if reference is None else reference[area].astype(numpy.int16)
    scores = []
    for band in range(BANDS):
        rows = numpy.s_[band * height // BANDS:(band + 1) * height // BANDS]
        if b is None:
            scores.append(float(a[rows].std()))
        else:
            scores.append(float(numpy.median(numpy.abs(a[rows] - b[rows]))))
    return scores


def _incomplete(frame, reference, numpy):
    """Why `frame` is not a whole picture; "" when it is one.

    Only the right half is judged: the overlays (name and frame counter top
    left, clock bottom left) stay out of it. It is cut into horizontal bands,
    each judged on its own, so that a frame decoded only down to some row
    (grey below) fails. Against a rendered `reference`, a band's median
    |difference| is used: the moving ball of the `ball` pattern covers a few
    per cent of a band at most, and encoder noise stays within a few levels.
    `snow` (reference None) is new noise in every frame, so there each band
    must keep its texture: a grey (concealed) band has almost none.
    """
    problems = []
    for band, score in enumerate(_band_scores(frame, reference, numpy)):
        if reference is None and score < SNOW_MIN_BAND_STD:
            problems.append(f"band {band} std {score:.0f}")
        elif reference is not None and score > BAND_MEDIAN_DIFF_LIMIT:
            problems.append(f"band {band} median |diff| {score:.0f}")
    return ", ".join(problems)


class GstreamerDecodeTest(_Check):
    """E: GStreamer's stock RTSP client decodes every stream."""

    def test_gstreamer_rtspsrc_decodebin_decodes_1s_of_every_stream(self):
        _idle_minute()
        for stream in SERVER.streams:
            with self.subTest(stream=stream.path, transport="rtspsrc default"):
                code, out, err, wall = _run(
                    [GST_LAUNCH, "rtspsrc", f"location={SERVER.url(stream)}", "!",
                     "application/x-rtp,media=video", "!", "decodebin", "!",
                     "identity", f"eos-after={stream.fps}", "silent=true", "!",
                     "fakesink", "sync=false"], timeout=15)
                _mark_read(stream.path)
                _note(f"{stream.path}: gst-launch exit {code} after {wall:.1f} s")
                problems = [line for line in (out + err).splitlines()
                            if line.startswith(("ERROR", "WARNING"))]
                self._expect(
                    code == 0 and not problems,
                    f"{stream.path}: expected gst-launch to decode {stream.fps} frames and exit 0 "
                    f"without warnings; exit {code} after {wall:.1f} s:\n{_tail(out + err)}")


class SimultaneousReadersTest(_Check):
    """F: 100 readers joining an idle stream at once all get current media."""

    def test_50_udp_and_50_tcp_readers_joining_lobby_after_30s_idle_start_at_current_media(self):
        _idle_minute()
        stream = _stream("/lobby")
        _await_no_reader_for(stream.path, BURST_IDLE_SECONDS)
        transports = ["udp"] * 50 + ["tcp"] * 50
        readers = rtsp_burst.run_burst(SERVER.url(stream), transports, BURST_WINDOW_SECONDS,
                                       deadline_seconds=30)
        _mark_read(stream.path)
        limit = BURST_WINDOW_SECONDS + BURST_SLACK_SECONDS
        for transport in ("udp", "tcp"):
            with self.subTest(stream=stream.path, transport=transport):
                mine = [r for r in readers if r.transport == transport]
                failed = [r.error for r in mine if r.error]
                self._expect(not failed, f"{stream.path} {transport}: {len(failed)} of {len(mine)} "
                             f"readers failed: {failed[:5]}")
                silent = sum(1 for r in mine if not r.packets)
                self._expect(silent == 0, f"{stream.path} {transport}: expected every reader to get "
                                          f"video RTP; {silent} of {len(mine)} got none")
                media = sorted(r.media_seconds_within(BURST_WINDOW_SECONDS) or 0 for r in mine)
                _note(f"{stream.path} {transport}: {len(mine)} readers, media in their first "
                      f"{BURST_WINDOW_SECONDS:g} s: {media[0]:.2f}..{media[-1]:.2f} s")
                self._expect(
                    media[-1] <= limit,
                    f"{stream.path} {transport}: expected <= {limit:g} s of media (RTP timestamp "
                    f"advance) in each reader's first {BURST_WINDOW_SECONDS:g} s, a backlog "
                    f"otherwise; the {sum(1 for m in media if m > limit)} worst of {len(mine)}: "
                    f"{[round(m, 2) for m in media if m > limit][-10:]} s")
                self._expect(
                    media[0] >= BURST_MIN_MEDIA_SECONDS,
                    f"{stream.path} {transport}: expected >= {BURST_MIN_MEDIA_SECONDS:g} s of media "
                    f"in each reader's first {BURST_WINDOW_SECONDS:g} s (not frozen); the least: "
                    f"{[round(m, 2) for m in media[:10]]} s")


def load_tests(loader, tests, pattern):
    """The checks in the order of the module docstring (unittest would sort
    them by name): the burst of F needs /lobby's idle history first."""
    order = [
        IdleProductionTest("test_every_stream_produces_bytes_in_every_5s_window_of_a_minute_with_no_reader"),
        IdleProductionTest("test_h264_and_h265_streams_produce_their_configured_bitrate_with_no_reader"),
        SimultaneousReadersTest(
            "test_50_udp_and_50_tcp_readers_joining_lobby_after_30s_idle_start_at_current_media"),
        IdleProductionTest("test_a_udp_reader_gets_codec_parameters_of_every_stream_within_2s"),
        FfmpegDecodeTest("test_ffmpeg_decodes_every_stream_over_tcp_and_udp_without_warnings"),
        FfmpegDecodeTest(
            "test_ffmpeg_decodes_fps_times_5_frames_with_distinct_timestamps_in_5s_of_every_stream"),
        FfmpegDecodeTest("test_ffmpeg_frame_timestamps_advance_at_wall_clock_rate_on_every_stream"),
        Mp4RecordingTest("test_ffmpeg_records_10s_of_each_h264_stream_to_mp4_with_one_sample_per_frame"),
        OpenCvFirstFramesTest("test_opencv_first_10_frames_of_every_stream_show_the_whole_test_pattern"),
        GstreamerDecodeTest("test_gstreamer_rtspsrc_decodebin_decodes_1s_of_every_stream"),
    ]
    suite = unittest.TestSuite(order)
    listed = {t.id() for t in order}
    missing = [t.id() for group in tests for t in group if t.id() not in listed]
    if missing:
        raise RuntimeError(f"load_tests: add {missing} to the order")
    return suite


if __name__ == "__main__":
    unittest.main(verbosity=2)
