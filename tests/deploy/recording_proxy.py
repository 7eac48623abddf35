"""A recording HTTP proxy for a Kubernetes API: what a client asked, as RBAC sees it.

Placed between a kubeconfig and any API server (here the demo mesh's stand-in), it forwards each
request unchanged and records it as an ``ApiRequest``: the verb RBAC checks (a GET of a
collection is ``list``, of one object ``get``, with ``watch=true`` ``watch``), the API group,
the resource, the namespace and the object's name.
"""

import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Hop-by-hop headers, and what urllib sets itself.
_NOT_FORWARDED = {"host", "connection", "keep-alive", "transfer-encoding", "content-length"}
_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass(frozen=True, order=True)
class ApiRequest:
    verb: str
    group: str  # "" for the core API
    resource: str
    namespace: str  # "" for a cluster-wide request
    name: str  # "" for a collection


def parse(method: str, path: str) -> ApiRequest:
    """The RBAC view of one request to the API (resource requests only: no /version, /healthz)."""
    url = urlsplit(path)
    parts = [p for p in url.path.split("/") if p]
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, rest = parts[1], parts[3:]
    else:
        raise ValueError(f"not a resource request: {method} {path}")
    namespace = ""
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    resource, name = rest[0], "/".join(rest[1:])
    if method in _VERBS:
        verb = _VERBS[method]
    elif parse_qs(url.query).get("watch", [""])[0] in ("true", "1"):
        verb = "watch"
    else:
        verb = "get" if name else "list"
    return ApiRequest(verb, group, resource, namespace, name)


class RecordingProxy(ThreadingHTTPServer):
    """``RecordingProxy(upstream).start()``; ``url`` to point a kubeconfig at, ``requests``."""

    daemon_threads = True

    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self.requests: list[ApiRequest] = []
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> "RecordingProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join()

    def record(self, method: str, path: str) -> None:
        with self._lock:
            self.requests.append(parse(method, path))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RecordingProxy

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        self.server.record(self.command, self.path)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _NOT_FORWARDED}
        request = urllib.request.Request(
            self.server.upstream + self.path, data=body, headers=headers, method=self.command
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
                code, answer, content_type = response.status, response.read(), response.headers
        except urllib.error.HTTPError as exc:
            code, answer, content_type = exc.code, exc.read(), exc.headers
        self.send_response(code)
        self.send_header("Content-Type", content_type.get("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward  # noqa: N815 (http.server API)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the http.server API)
        """Quiet: the test reads ``requests``."""
