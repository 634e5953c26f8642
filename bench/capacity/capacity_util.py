"""What the capacity scenarios share: ports, a process's CPU and memory from
/proc."""
import os
import socket
import subprocess


def free_port():
    """A TCP port free on 127.0.0.1 now (the server binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid, tid=None):
    """User + system CPU seconds of process `pid` (or of its thread `tid`)."""
    path = f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat"
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu(pid):
    """CPU seconds per (thread name, tid) of process `pid`."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            out[(name, tid)] = cpu_seconds(pid, tid)
        except OSError:
            continue
    return out


def rss_kib(pid):
    """Resident memory of `pid`, KiB; 0 once it has exited."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Server:
    """A server process of a scenario, its output in `log_path`; stop() ends
    it (SIGTERM, then waits) and closes the log."""

    def __init__(self, cmd, log_path, env=None):
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        self.pid = self.proc.pid

    def exited(self):
        return self.proc.poll() is not None

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self._log.close()
