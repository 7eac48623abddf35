"""The JSON API (`/api/v1/`) described in OpenAPI 3.1, served at `/api/v1/openapi.json`: the
dashboard's part and the bookmarks' part (each app's ``openapi`` module), with who may call what.

tests/dashboard/test_openapi.py checks that every API URL is described, that the parameters each
view reads are, and fuzzes the API from this document. The document itself is public: it holds no
data, and clients and tools fetch it before they have credentials.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from meshdash.accounts.models import WRITE
from meshdash.bookmarks import openapi as bookmarks_openapi
from meshdash.dashboard import openapi as dashboard_openapi
from meshdash.dashboard.api import READ_METHODS, method_not_allowed
from meshdash.lib.openapi import BEARER, SESSION, error_response, json_response
from meshdash.triage import openapi as triage_openapi

API_VERSION = "1"
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
# Django refuses some requests before any view runs (meshdash.dashboard.api.bad_request).
REFUSED = (
    "Refused before the operation: a Host header not in MESHDASH_ALLOWED_HOSTS, or a request "
    "Django cannot accept."
)


def security_schemes() -> dict:
    return {
        SESSION: {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The session of a user signed in at /accounts/login/ (or by the "
            "single sign-on proxy). Requests other than GET also need the CSRF token in the "
            f"`X-CSRFToken` header (from the `{settings.CSRF_COOKIE_NAME}` cookie).",
        },
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer <token>` with a token created on /accounts/me/ "
            "or by `manage.py token create`. Accepted on /api/ only; needs no CSRF token. A "
            f"token reads only, unless created with the `{WRITE}` scope (operations that "
            f"change anything list it); one past its expiry is refused with 401.",
        },
    }


def security(*, read: bool) -> list[dict]:
    """Who may call an operation: a session, or a token (with the write scope to change
    anything); anyone for reads when MESHDASH_ANONYMOUS_READ is on."""
    if not read:
        return [{SESSION: []}, {BEARER: [WRITE]}]
    requirements = [{SESSION: []}, {BEARER: []}]
    if settings.MESHDASH_ANONYMOUS_READ:
        requirements.append({})
    return requirements


def own_paths() -> dict:
    return {
        reverse("api_openapi"): {
            "get": {
                "operationId": "getOpenApiDocument",
                "summary": "This description.",
                "tags": ["meta"],
                "security": [],
                "responses": {
                    "200": json_response("The OpenAPI 3.1 document.", {"type": "object"})
                },
            }
        },
    }


def document() -> dict:
    paths = (
        dashboard_openapi.dashboard_paths()
        | triage_openapi.paths()
        | bookmarks_openapi.paths()
        | own_paths()
    )
    for operations in paths.values():
        for method in HTTP_METHODS & operations.keys():
            operations[method].setdefault("security", security(read=method == "get"))
            operations[method]["responses"].setdefault("400", error_response(REFUSED))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "meshdash",
            "version": API_VERSION,
            "description": "The dashboard's lists and workloads as JSON, read from the current "
            "snapshot of each window (never from Prometheus or the cluster), and the bookmarks. "
            'Errors are `{"error": reason}`. Every time, in every answer, is a number of '
            "seconds since the Unix epoch (UTC), a `unix-time` number: `taken_at`, "
            "`last_rollout`, `created_at`, `last_seen`, a bookmark's `created`...",
        },
        "paths": paths,
        "components": {
            "schemas": dashboard_openapi.schemas()
            | triage_openapi.schemas()
            | bookmarks_openapi.schemas(),
            "securitySchemes": security_schemes(),
        },
    }


@login_not_required
@csrf_exempt  # reads only, answers 405 to anything else
def openapi_json(request):
    if request.method not in READ_METHODS:
        return method_not_allowed()
    return JsonResponse(document())
