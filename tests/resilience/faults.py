"""Ways to break the real servers on demand: an HTTP proxy that answers slowly, with an error or
with garbage; a TCP relay that stalls a Redis client halfway through what it sends; Prometheus
and Redis processes that stop and start again on the same port."""

import contextlib
import re
import signal
import socket
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from meshdash.lib import processes
from tests import servers

GARBAGE = b"<html><body>502 Bad Gateway, or something</body></html>"


class _ProxyHandler(BaseHTTPRequestHandler):
    server: "FaultProxy"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._handle(b"")

    def do_POST(self):
        self._handle(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _handle(self, body: bytes) -> None:
        proxy = self.server
        with proxy.lock:
            proxy.requests += 1
        text = urllib.parse.unquote_plus(self.path + "?" + body.decode(errors="replace"))
        if proxy.only in text:
            # Woken early when the proxy stops, so that no test waits on a sleeping answer.
            proxy.closing.wait(proxy.delay)
            if proxy.status is not None:
                status = proxy.status
                return self._send(status, b'{"kind": "Status", "code": %d}' % status)
            if proxy.garbage:
                return self._send(200, GARBAGE)
        upstream = urllib.request.Request(
            proxy.upstream + self.path,
            data=body if self.command == "POST" else None,
            method=self.command,
            headers={k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS},
        )
        try:
            with urllib.request.urlopen(upstream, timeout=60) as answer:
                status, content = answer.status, answer.read()
        except urllib.error.HTTPError as exc:
            status, content = exc.code, exc.read()
        except OSError:
            # Upstream gone: hang up without an answer, as a dead server's socket would.
            self.close_connection = True
            return None
        return self._send(status, content)

    def _send(self, status: int, content: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        except OSError:
            self.close_connection = True  # the client gave up waiting


_HOP_HEADERS = {"host", "connection", "keep-alive", "content-length", "accept-encoding"}


class FaultProxy(ThreadingHTTPServer):
    """Forwards every request to ``upstream`` unless told to fail. For requests whose unquoted
    path, query and body contain ``only`` (every request by default) it first waits ``delay``
    seconds, then answers ``status`` (with a Kubernetes-style Status body) or, with
    ``garbage``, 200 and a body that is not JSON; otherwise it forwards."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, upstream: str):
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.upstream = upstream.rstrip("/")
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.requests = 0
        self.heal()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def heal(self) -> None:
        self.delay, self.status, self.garbage, self.only = 0.0, None, False, ""

    def stop(self) -> None:
        self.closing.set()
        self.shutdown()
        self.server_close()


class StallingRelay:
    """A TCP relay in front of Redis. Each client's bytes pass through until they match
    ``stall_at``; from there on nothing more reaches Redis (what the client still sends is
    read and dropped) and ``stalled`` is set. The client, waiting for answers that never
    come, hangs in the middle of its write."""

    def __init__(self, upstream: tuple[str, int], stall_at: bytes):
        self.upstream = upstream
        self.stall_at = re.compile(stall_at)
        self.stalled = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, watch: bool) -> None:
        tail = b""
        passing = True
        try:
            while chunk := source.recv(65536):
                if not passing:
                    continue
                if watch:
                    seen = tail + chunk
                    match = self.stall_at.search(seen)
                    if match:
                        target.sendall(chunk[: max(0, match.start() - len(tail))])
                        passing = False
                        self.stalled.set()
                        continue
                    tail = seen[-256:]
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            # One side gone (a killed client, say): hang up on the other.
            for sock in (source, target):
                _close(sock)

    def close(self) -> None:
        _close(self.listener)
        for sock in self.sockets:
            _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class PrometheusOnPort:
    """Debian's Prometheus that can stop, freeze, be killed and start again on the same port
    and over the same data, as after a crash or a restart."""

    def __init__(self, config_file: Path, data_dir: Path):
        self.config_file = config_file
        self.data_dir = data_dir
        self.port = servers.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = processes.prometheus_command(
            self.config_file, self.data_dir, self.port, retention="1h"
        )
        log = self.data_dir / "prometheus.log"
        self.proc = processes.start(args, log, own_group=False, append=True)
        servers.wait_for_http(f"{self.url}/-/ready", timeout=60, proc=self.proc)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGCONT)  # a frozen process cannot act on SIGTERM
            servers.stop(self.proc)

    def freeze(self) -> None:
        """SIGSTOP: connections are still accepted by the kernel, and never answered."""
        self.proc.send_signal(signal.SIGSTOP)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


class RedisOnPort:
    """A private redis-server that stops and starts again on the same port. It keeps nothing on
    disk (no RDB, no AOF), like the one the tests use: a restart loses every key."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.port = servers.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc, _ = servers.start_redis(self.data_dir, self.port)

    def stop(self) -> None:
        if self.proc is not None:
            servers.stop(self.proc)
