"""search/harness.py - drive a gochan-search process (python3 stdlib only).

Shared by the demo (search/demo.py) and the tests (search/tests/*.py):
start the real binary on a free loopback port, read its one "listening on"
line, collect its stderr log lines, speak HTTP/1.1 over plain sockets (so a
test decides exactly when a client closes), and stop it with a signal.
"""
import json
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
import traceback
import urllib.parse

LOG_RE = re.compile(r"^search id=(\d+) end=(\w+) files=(\d+) bytes=(\d+) matches=(\d+) ms=(\d+)"
                    r"(?: hangup_to_joined_ms=([\d.]+) joined_unix_ns=(\d+))?(?: cut=(\w+))?")
# The first line of a report by ThreadSanitizer, AddressSanitizer, LeakSanitizer
# or UndefinedBehaviorSanitizer (a sanitized build of the service).
SANITIZER_RE = re.compile(r"WARNING: ThreadSanitizer|ERROR: (Address|Leak)Sanitizer|runtime error: ")


class Server:
    started = []   # every Server of this process, for sanitizer_reports()

    def __init__(self, binary, root, *args, env=None, debug_vars=True, nice=0):
        """Start BINARY --root ROOT --port 0 ARGS (and --debug-vars unless
        debug_vars is False: vars() needs it, the demo and tests use it),
        at nice value +nice (a negative one needs root)."""
        Server.started.append(self)
        extra = ["--debug-vars"] if debug_vars else []
        self.proc = subprocess.Popen([binary, "--root", root, "--port", "0", *extra, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                     preexec_fn=(lambda: os.nice(nice)) if nice else None)
        line = self.proc.stdout.readline().decode()
        m = re.match(r"listening on http://127\.0\.0\.1:(\d+)$", line.strip())
        if not m:
            self.proc.kill()
            raise RuntimeError("server did not start: %r %r" % (line, self.proc.stderr.read()))
        self.port = int(m.group(1))
        self.host = "127.0.0.1:%d" % self.port   # the Host header it serves (DNS rebinding check)
        self.lines = queue.Queue()   # every stderr line
        self.logs = {}               # id -> parsed log line
        self.log_cv = threading.Condition()
        self.stderr_text = []
        self.searches = 0            # /search requests sent: the server numbers them 1, 2, ...
        self.count_lock = threading.Lock()
        self.reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.reader.start()

    def _read_stderr(self):
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            self.stderr_text.append(line)
            m = LOG_RE.match(line)
            if m:
                rec = {"id": int(m.group(1)), "end": m.group(2), "files": int(m.group(3)),
                       "bytes": int(m.group(4)), "matches": int(m.group(5)), "ms": int(m.group(6)),
                       "hangup_to_joined_ms": float(m.group(7)) if m.group(7) else None,
                       "joined_unix_ns": int(m.group(8)) if m.group(8) else None,
                       "cut": m.group(9)}
                with self.log_cv:
                    self.logs[rec["id"]] = rec
                    self.log_cv.notify_all()
            self.lines.put(line)
        with self.log_cv:
            self.log_cv.notify_all()

    @staticmethod
    def sanitizer_reports():
        """The sanitizer report lines in the stderr of every Server started
        so far (read only after they were stopped)."""
        return [line for srv in Server.started for line in srv.stderr_text if SANITIZER_RE.search(line)]

    def wait_log(self, pred, timeout=30):
        """The first log record satisfying pred, waiting up to timeout s (None if none)."""
        end = time.monotonic() + timeout
        with self.log_cv:
            while True:
                for rec in sorted(self.logs.values(), key=lambda r: r["id"]):
                    if pred(rec):
                        return rec
                left = end - time.monotonic()
                if left <= 0 or self.proc.poll() is not None and not self.reader.is_alive():
                    return None
                self.log_cv.wait(left)

    def url(self, path, **params):
        # A list value repeats the parameter (exclude=a&exclude=b).
        q = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None},
                                   doseq=True, quote_via=urllib.parse.quote)
        return path + ("?" + q if q else "")

    def _count(self, target):
        if target.startswith("/search"):
            with self.count_lock:
                self.searches += 1

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def get(self, target, timeout=60):
        """A whole GET: (status, headers dict, body bytes)."""
        s = self.connect()
        s.settimeout(timeout)
        self._count(target)
        try:
            s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (target, self.host)).encode())
            r = Response(s)
            body = r.read_all()
            return r.status, r.headers, body
        finally:
            s.close()

    def get_json(self, target):
        st, _, body = self.get(target)
        return st, json.loads(body)

    def vars(self):
        st, v = self.get_json("/debug/vars")
        assert st == 200, st
        return v

    def stream(self, target, timeout=120):
        """Open a streaming GET; returns (socket, Response) with the headers read."""
        s = self.connect()
        s.settimeout(timeout)
        self._count(target)
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, self.host)).encode())
        return s, Response(s)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.reader.join(5)
        return rc


class Response:
    """An HTTP/1.1 response read from a socket: status, headers, then the body
    as lines (chunked or to EOF)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False
        head = self._until(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for l in lines[1:]:
            if l:
                k, v = l.split(":", 1)
                self.headers[k.strip().lower()] = v.strip()
        self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        self.left = int(self.headers["content-length"]) if "content-length" in self.headers else None
        self.body = b""   # decoded body bytes not yet returned as lines
        self.done = False

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            self.eof = True
        self.buf += d
        return bool(d)

    def _until(self, sep):
        while sep not in self.buf:
            if not self._fill():
                raise EOFError("connection closed")
        i = self.buf.index(sep)
        out, self.buf = self.buf[:i], self.buf[i + len(sep):]
        return out

    def _more_body(self):
        """Decode some more body into self.body; False at the end."""
        if self.done:
            return False
        if self.chunked:
            size = int(self._until(b"\r\n").split(b";")[0], 16)
            if size == 0:
                self._until(b"\r\n")
                self.done = True
                return False
            while len(self.buf) < size + 2:
                if not self._fill():
                    raise EOFError("connection closed inside a chunk")
            self.body += self.buf[:size]
            self.buf = self.buf[size + 2:]
            return True
        if self.left is not None:
            if self.left == 0:
                self.done = True
                return False
            if not self.buf and not self._fill():
                raise EOFError("connection closed before the end of the body")
            take = self.buf[:self.left]
            self.buf = self.buf[len(take):]
            self.left -= len(take)
            self.body += take
            return True
        if not self.buf and not self._fill():
            self.done = True
            return False
        self.body += self.buf
        self.buf = b""
        return True

    def line(self):
        """The next body line (bytes, without '\\n'), or None at the end."""
        while b"\n" not in self.body:
            if not self._more_body():
                if self.body:
                    out, self.body = self.body, b""
                    return out
                return None
        i = self.body.index(b"\n")
        out, self.body = self.body[:i], self.body[i + 1:]
        return out

    def objects(self):
        while True:
            l = self.line()
            if l is None:
                return
            yield json.loads(l)

    def read_all(self):
        out = self.body
        self.body = b""
        while self._more_body():
            out += self.body
            self.body = b""
        return out


# ---- the test scripts' tally (tests/e2e.py, tests/browser.py) ---------------------

tally = {"passed": 0, "failed": 0}


def check(name, fn):
    """Run one named test case: any exception fails it (and is printed)."""
    try:
        fn()
        tally["passed"] += 1
        print("ok   %s" % name, flush=True)
    except Exception as e:  # noqa: BLE001 - a test failure of any kind
        tally["failed"] += 1
        print("FAIL %s: %s" % (name, str(e)[:600]), flush=True)
        traceback.print_exc(limit=4)


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def check_stopped(rc):
    """The checks every script ends a server with: it exited 0 (rc, from
    Server.stop()) and no sanitizer wrote a report (sanitized builds)."""
    check("exit 0", lambda: expect(rc == 0, rc))
    check("no sanitizer report (sanitized builds)",
          lambda: expect(not Server.sanitizer_reports(), Server.sanitizer_reports()[:5]))


def finish():
    """Print the closing `N passed, N failed` line; exit 1 if anything failed."""
    print("%d passed, %d failed" % (tally["passed"], tally["failed"]))
    raise SystemExit(1 if tally["failed"] else 0)
