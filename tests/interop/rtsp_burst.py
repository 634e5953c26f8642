"""Many plain RTSP readers at once, on one thread, for the join-burst check.

Each reader does DESCRIBE, SETUP of the video track only (RTP over UDP to its
own pair of loopback sockets, or interleaved over the RTSP connection) and
PLAY, then records the wall time and RTP timestamp of every video packet.
One selectors loop drives them all, so that 100 readers cost one Python
thread. A UDP packet's arrival time is the kernel's (SO_TIMESTAMPNS), so that
a busy loop does not make packets look bunched; an interleaved (TCP) packet's
is when the loop takes it in. Times are time.time() seconds.

This is a test client, not a general one: it speaks just enough RTSP 1.0 for
a gst-rtsp-server and gives up (with the reason in `error`) on anything else.
"""

import re
import selectors
import socket
import struct
import time
import urllib.parse


def _rtp_timestamp(packet):
    """RTP timestamp of a packet (RFC 3550 fixed header), or None."""
    if len(packet) < 12 or packet[0] >> 6 != 2:
        return None
    return struct.unpack("!I", packet[4:8])[0]


class Reader:
    """One RTSP session: request sequence, then RTP bookkeeping."""

    def __init__(self, url, transport):
        self.url = url
        self.transport = transport  # "udp" or "tcp"
        self.error = None
        self.playing_at = None  # time.time() of the PLAY response
        self.packets = []  # (arrival time.time(), RTP timestamp) of video packets
        self.clock_rate = None
        self._cseq = 0
        self._session = None
        self._track_url = None
        self._state = "describe"
        self._buffer = b""
        self._rtsp = None
        self._rtp = None  # UDP only
        self._rtcp = None

    # -- requests -------------------------------------------------------

    def _request(self, method, url, headers=()):
        self._cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self._cseq}", "User-Agent: rtsp-burst-test"]
        if self._session:
            lines.append(f"Session: {self._session}")
        lines.extend(headers)
        self._rtsp.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def start(self, selector):
        """Connects and sends DESCRIBE."""
        parsed = urllib.parse.urlsplit(self.url)
        self._rtsp = socket.create_connection((parsed.hostname, parsed.port), timeout=10)
        self._rtsp.setblocking(False)
        selector.register(self._rtsp, selectors.EVENT_READ, (self, "rtsp"))
        if self.transport == "udp":
            self._rtp, self._rtcp = _udp_pair()
            selector.register(self._rtp, selectors.EVENT_READ, (self, "rtp"))
            selector.register(self._rtcp, selectors.EVENT_READ, (self, "rtcp"))
        self._request("DESCRIBE", self.url, ["Accept: application/sdp"])

    def stop(self, selector):
        """TEARDOWN (without waiting for the answer) and close everything."""
        for sock in (self._rtsp, self._rtp, self._rtcp):
            if sock is None:
                continue
            try:
                selector.unregister(sock)
            except (KeyError, ValueError):
                pass
        if self._rtsp is not None and self._session and self.error is None:
            try:
                self._rtsp.setblocking(True)
                self._rtsp.settimeout(1)
                self._request("TEARDOWN", self.url)
            except OSError:
                pass
        for sock in (self._rtsp, self._rtp, self._rtcp):
            if sock is not None:
                sock.close()

    # -- input ----------------------------------------------------------

    def on_readable(self, sock, kind, now):
        if kind == "rtp":
            while True:
                try:
                    packet, ancillary, _, _ = sock.recvmsg(65536, _TIMESTAMP_SPACE)
                except BlockingIOError:
                    return
                self._on_rtp(packet, _kernel_time(ancillary) or now)
        if kind == "rtcp":
            try:
                while sock.recv(65536):
                    pass
            except BlockingIOError:
                pass
            return
        try:
            data = self._rtsp.recv(262144)
        except BlockingIOError:
            return
        if not data:
            self._fail("server closed the RTSP connection")
            return
        self._buffer += data
        self._parse(now)

    def _parse(self, now):
        while self._buffer and self.error is None:
            if self._buffer[:1] == b"$":  # interleaved binary data (RFC 2326 10.12)
                if len(self._buffer) < 4:
                    return
                channel, length = struct.unpack("!BH", self._buffer[1:4])
                if len(self._buffer) < 4 + length:
                    return
                packet = self._buffer[4:4 + length]
                self._buffer = self._buffer[4 + length:]
                if channel == 0:
                    self._on_rtp(packet, now)
                continue
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self._buffer[:end].decode(errors="replace")
            length = int(_header(head, "Content-Length") or 0)
            if len(self._buffer) < end + 4 + length:
                return
            body = self._buffer[end + 4:end + 4 + length].decode(errors="replace")
            self._buffer = self._buffer[end + 4 + length:]
            if head.startswith("RTSP/1.0"):
                self._on_response(head, body, now)
            # A request from the server (e.g. GET_PARAMETER) is ignored.

    def _on_response(self, head, body, now):
        status = head.split("\r\n", 1)[0]
        if " 200 " not in status + " ":
            self._fail(f"{self._state.upper()} answered '{status}'")
            return
        if self._state == "describe":
            base = _header(head, "Content-Base") or self.url
            control, self.clock_rate = _video_track(body)
            if control is None:
                self._fail("the SDP has no video track")
                return
            self._track_url = control if "://" in control else base.rstrip("/") + "/" + control
            if self.transport == "udp":
                ports = f"{self._rtp.getsockname()[1]}-{self._rtcp.getsockname()[1]}"
                transport = f"RTP/AVP;unicast;client_port={ports}"
            else:
                transport = "RTP/AVP/TCP;unicast;interleaved=0-1"
            self._state = "setup"
            self._request("SETUP", self._track_url, [f"Transport: {transport}"])
        elif self._state == "setup":
            self._session = (_header(head, "Session") or "").split(";")[0].strip()
            self._state = "play"
            self._request("PLAY", self.url, ["Range: npt=0.000-"])
        elif self._state == "play":
            self._state = "playing"
            self.playing_at = now

    def _on_rtp(self, packet, now):
        timestamp = _rtp_timestamp(packet)
        if timestamp is not None:
            self.packets.append((now, timestamp))

    def _fail(self, reason):
        if self.error is None:
            self.error = f"{self.transport} reader: {reason}"

    # -- results --------------------------------------------------------

    def media_seconds_within(self, wall_seconds):
        """Largest RTP timestamp advance, in seconds, over the packets received
        within `wall_seconds` of this reader's first packet (None before any)."""
        if not self.packets or not self.clock_rate:
            return None
        first_wall, first_ts = self.packets[0]
        advance = 0
        for wall, ts in self.packets:
            if wall - first_wall > wall_seconds:
                break
            delta = (ts - first_ts) & 0xFFFFFFFF
            if delta < 0x80000000:  # ahead of the first packet (not reordered behind it)
                advance = max(advance, delta)
        return advance / self.clock_rate


# Python names no SO_TIMESTAMPNS; 35 is Linux's (asm-generic/socket.h), whose
# control message carries a struct timespec of the realtime clock.
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_TIMESTAMP_SPACE = socket.CMSG_SPACE(struct.calcsize("qq"))


def _kernel_time(ancillary):
    """The SO_TIMESTAMPNS receive time in `ancillary`, or None."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanoseconds = struct.unpack("qq", data[:16])
            return seconds + nanoseconds / 1e9
    return None


def _udp_pair():
    """Two loopback UDP sockets on consecutive ports (RTP even, RTCP odd)."""
    for _ in range(50):
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind(("127.0.0.1", 0))
        port = rtp.getsockname()[1]
        if port % 2 == 0:
            rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                rtcp.bind(("127.0.0.1", port + 1))
            except OSError:
                rtcp.close()
                rtp.close()
                continue
            for sock in (rtp, rtcp):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                sock.setblocking(False)
            rtp.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
            return rtp, rtcp
        rtp.close()
    raise OSError("no free pair of consecutive loopback UDP ports in 50 tries")


def _header(head, name):
    match = re.search(rf"^{name}:\s*(.*)$", head, re.MULTILINE | re.IGNORECASE)
    return match.group(1).strip() if match else None


def _video_track(sdp):
    """(a=control of the first video m= section, its RTP clock rate)."""
    control, rate, in_video = None, None, False
    for line in sdp.splitlines():
        if line.startswith("m="):
            if in_video:
                break
            in_video = line.startswith("m=video")
        elif in_video and line.startswith("a=control:"):
            control = line[len("a=control:"):].strip()
        elif in_video and line.startswith("a=rtpmap:"):
            rate = int(line.split("/")[1].split("/")[0])
    return (control, rate) if control else (None, None)


def run_burst(url, transports, window_seconds, deadline_seconds):
    """Starts one reader per entry of `transports` at once, and runs them until
    each has `window_seconds` of packets after its first one, or until
    `deadline_seconds` pass. Returns the readers."""
    selector = selectors.DefaultSelector()
    readers = [Reader(url, transport) for transport in transports]
    deadline = time.monotonic() + deadline_seconds
    try:
        for reader in readers:
            try:
                reader.start(selector)
            except OSError as e:
                reader._fail(f"connect: {e}")
        while time.monotonic() < deadline:
            pending = [r for r in readers if r.error is None and
                       (not r.packets or time.time() - r.packets[0][0] <= window_seconds)]
            if not pending:
                break
            for key, _ in selector.select(timeout=0.1):
                reader, kind = key.data
                reader.on_readable(key.fileobj, kind, time.time())
    finally:
        for reader in readers:
            reader.stop(selector)
        selector.close()
    return readers
