"""Who is asking: an SSO header from a trusted proxy, a bearer token, or a session; and the rule
that every page and API call needs one of them."""

import logging

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import middleware as auth_middleware
from django.http import JsonResponse
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

from meshdash.accounts.models import ApiToken
from meshdash.accounts.network import in_networks
from meshdash.accounts.teams import parse_group_header, set_teams
from meshdash.accounts.usernames import canonical_username

log = logging.getLogger(__name__)

SSO_BACKEND = "meshdash.accounts.backends.SsoHeaderBackend"
SAFE_METHODS = ("GET", "HEAD")
# Methods a read-only token may use on the API.
READ_METHODS = ("GET", "HEAD", "OPTIONS")
# Writing last_used on every API call would turn reads into writes; once a minute is plenty.
LAST_USED_RESOLUTION_SECONDS = 60


def meta_key(header: str) -> str:
    return "HTTP_" + header.strip().upper().replace("-", "_")


def is_trusted_proxy(address: str) -> bool:
    return in_networks(address, settings.MESHDASH_SSO_TRUSTED_PROXIES)


def is_api(request) -> bool:
    return request.path.startswith("/api/")


class SsoHeaderMiddleware:
    """Signs in the user named by MESHDASH_SSO_HEADER, but only when the request comes straight
    from a trusted proxy: anyone else could set that header themselves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.MESHDASH_SSO_HEADER:
            self.sign_in(request)
        return self.get_response(request)

    def sign_in(self, request):
        username = request.META.get(meta_key(settings.MESHDASH_SSO_HEADER), "").strip()
        trusted = is_trusted_proxy(request.META.get("REMOTE_ADDR", ""))
        if username and not trusted:
            log.warning(
                "ignoring %s from untrusted address %s",
                settings.MESHDASH_SSO_HEADER,
                request.META.get("REMOTE_ADDR"),
            )
            return
        if not trusted:
            return
        if not username:
            # The proxy stopped vouching for this session's SSO user: sign them out.
            if (
                request.user.is_authenticated
                and request.session.get(auth.BACKEND_SESSION_KEY) == SSO_BACKEND
            ):
                auth.logout(request)
            return
        if request.user.is_authenticated and canonical_username(
            request.user.get_username()
        ) == canonical_username(username):
            user = request.user
        else:
            user = auth.authenticate(request, sso_username=username)
            if user is None:
                # The proxy vouches for someone we refuse: nobody else stays signed in either.
                if request.user.is_authenticated:
                    auth.logout(request)
                return
            auth.login(request, user, backend=SSO_BACKEND)
        if settings.MESHDASH_SSO_GROUPS_HEADER:
            names = parse_group_header(
                request.META.get(meta_key(settings.MESHDASH_SSO_GROUPS_HEADER), "")
            )
            if set(names) != set(user.groups.values_list("name", flat=True)):
                set_teams(user, names)


class BearerTokenMiddleware:
    """`Authorization: Bearer <secret>` signs an API request in as the token's owner. Browsers
    never send this header on their own, so such requests need no CSRF token.

    Only on /api/: a token must never open the admin or the account pages, where it could change
    passwords or mint more tokens. Elsewhere the header is ignored (an authenticating proxy may
    forward its own). A token without the write scope may only read.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        scheme, _, secret = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() == "bearer" and is_api(request):
            token = ApiToken.objects.for_secret(secret.strip()) if secret.strip() else None
            if token is None or not token.user.is_active:
                return unauthorized("invalid or revoked token")
            now = timezone.now()
            if token.has_expired(now):
                return unauthorized("token expired")
            if request.method not in READ_METHODS and not token.can_write:
                return JsonResponse(
                    {"error": "this token is read-only: create one with the write scope"},
                    status=403,
                )
            request.user = token.user
            request._dont_enforce_csrf_checks = True
            if token.last_used is None or (now - token.last_used).total_seconds() > (
                LAST_USED_RESOLUTION_SECONDS
            ):
                ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        return self.get_response(request)


def unauthorized(reason: str) -> JsonResponse:
    response = JsonResponse({"error": reason}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="meshdash"'
    return response


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Django's rule that every view needs a signed-in user unless marked with
    `@login_not_required`, with meshdash's exemptions: paths listed in MESHDASH_PUBLIC_PATHS,
    and reads when anonymous reading is allowed. API calls answer 401 JSON; an htmx swap loads
    the login page whole, not into the region it swaps."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if any(request.path.startswith(prefix) for prefix in settings.MESHDASH_PUBLIC_PATHS):
            return None
        if settings.MESHDASH_ANONYMOUS_READ and request.method in SAFE_METHODS:
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)

    def handle_no_permission(self, request, view_func):
        if is_api(request):
            return unauthorized("authentication required")
        login = super().handle_no_permission(request, view_func)
        if request.htmx:
            return HttpResponseClientRedirect(login["Location"])
        return login
