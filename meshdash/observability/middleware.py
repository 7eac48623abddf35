"""Each request timed by view for /metrics, and logged in one line without secrets."""

import logging
import re
import time
from urllib.parse import parse_qsl

from django.conf import settings

from meshdash.accounts.network import client_address
from meshdash.observability.metrics import REQUEST_SECONDS, RESPONSES

log = logging.getLogger("meshdash.requests")

# Query parameters whose values are never logged, by name.
SECRET_PARAMETER = re.compile(r"token|key|secret|pass|auth|sig|session|code|csrf", re.IGNORECASE)
REDACTED = "[redacted]"


def view_label(request) -> str:
    """The resolved URL's name (``dashboard:workloads``), never the path: paths hold workload
    names without bound, a label must not."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match.route or "unnamed"
    if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    return "unresolved"


def safe_query(query_string: str) -> str:
    """The query with the values of secret-looking parameters replaced by [redacted]."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return "&".join(
        f"{name}={REDACTED if SECRET_PARAMETER.search(name) else value}" for name, value in pairs
    )


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        view = view_label(request)
        REQUEST_SECONDS.labels(view).observe(seconds)
        RESPONSES.labels(view, f"{response.status_code // 100}xx").inc()
        # The line's fields (the redacted query, the client's address) cost more than the
        # metrics: worked out only when the line is written (MESHDASH_LOG_LEVEL INFO or lower).
        if log.isEnabledFor(logging.INFO):
            self.log(request, response, view, seconds)
        return response

    def log(self, request, response, view: str, seconds: float) -> None:
        query = safe_query(request.META.get("QUERY_STRING", ""))
        user = getattr(request, "user", None)
        fields = {
            "event": "request",
            "method": request.method,
            "path": request.path,
            "query": query,
            "view": view,
            "status": response.status_code,
            "seconds": round(seconds, 4),
            "client": client_address(request),
            "user": user.get_username() if user is not None and user.is_authenticated else "",
        }
        log.info(
            "%s %s%s %d %.1f ms",
            request.method,
            request.path,
            f"?{query}" if query else "",
            response.status_code,
            seconds * 1000,
            extra=fields,
        )
