"""The Content-Security-Policy header on every response: our pages load scripts and styles from
our own origin only and carry no inline ones, so injected markup cannot run."""

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.MESHDASH_CONTENT_SECURITY_POLICY:
            response.headers.setdefault(
                "Content-Security-Policy", settings.MESHDASH_CONTENT_SECURITY_POLICY
            )
        return response
