"""``/metrics`` on a port of its own (MESHDASH_METRICS_PORT), never the pages' port.

Not the pages' port, because there a network rule cannot tell a scrape from a page view: the
Ingress reaches that port, and behind the Linkerd proxy every request comes from the proxy (the
pod's own address, 127.0.0.1 before Linkerd 2.11), whoever sent it. On a port of its own a
NetworkPolicy admits only the monitoring namespace; here, besides, a request must come from
MESHDASH_METRICS_NETWORKS or carry ``Authorization: Bearer`` with MESHDASH_METRICS_TOKEN.

Under gunicorn the master process serves it (meshdash.observability.gunicorn), adding up what
its workers wrote in multiprocess mode.
"""

import hmac
import logging
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.conf import settings
from prometheus_client import make_wsgi_app

from meshdash.accounts.network import in_networks

log = logging.getLogger(__name__)

PATH = "/metrics"


def allowed(environ) -> bool:
    """From a network of MESHDASH_METRICS_NETWORKS, or with the bearer token when one is set."""
    if in_networks(environ.get("REMOTE_ADDR", ""), settings.MESHDASH_METRICS_NETWORKS):
        return True
    token = settings.MESHDASH_METRICS_TOKEN
    if not token:
        return False
    scheme, _, given = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


def metrics_app():
    """A WSGI app answering /metrics to those ``allowed``; 403 to others, 404 elsewhere."""
    from meshdash.observability.metrics import registry

    exposition = make_wsgi_app(registry())

    def app(environ, start_response):
        if environ.get("PATH_INFO", "").rstrip("/") != PATH:
            return _plain(start_response, "404 Not Found", "only /metrics here\n")
        if not allowed(environ):
            return _plain(start_response, "403 Forbidden", "not from a metrics network\n")
        return exposition(environ, start_response)

    return app


def _plain(start_response, status: str, text: str):
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [text.encode()]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        """Scrapes every few seconds would drown the logs."""


# Every interface: the pod's address is what Prometheus scrapes; the NetworkPolicy and
# ``allowed`` decide who gets an answer.
def serve(port: int, address: str = "0.0.0.0") -> WSGIServer:  # noqa: S104
    """Serve ``metrics_app`` on ``port`` from a daemon thread; the server, to shut it down."""
    server = make_server(address, port, metrics_app(), _Server, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("metrics on http://%s:%d%s", address, server.server_port, PATH)
    return server
