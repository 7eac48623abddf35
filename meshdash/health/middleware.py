"""``/healthz`` and ``/readyz``, answered before any other middleware.

First in the chain because probes are not browsers: kubelet sends the pod's address as the
Host header, which ALLOWED_HOSTS rightly refuses elsewhere, and a probe has no session, login
or HTTPS to redirect to.
"""

from django.http import JsonResponse

from meshdash.health.checks import readiness

PATHS = ("/healthz", "/readyz")


class HealthMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info.rstrip("/")
        if path not in PATHS:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = JsonResponse({"error": "only GET and HEAD"}, status=405)
            response["Allow"] = "GET, HEAD"
            return response
        response = healthz() if path == "/healthz" else readyz()
        response["Cache-Control"] = "no-store"
        return response


def healthz() -> JsonResponse:
    """The process serves requests: no I/O at all, so a slow Redis never gets it restarted."""
    return JsonResponse({"status": "ok"})


def readyz() -> JsonResponse:
    """Redis and the database answer; 503 naming what fails, so traffic goes elsewhere."""
    failures = {name: reason for name, reason in readiness().items() if reason}
    if failures:
        return JsonResponse(
            {"status": "unavailable", "reason": "; ".join(failures.values()), "failing": failures},
            status=503,
        )
    return JsonResponse({"status": "ready"})
