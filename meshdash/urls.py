from django.contrib import admin
from django.urls import include, path

from meshdash import openapi

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("meshdash.accounts.urls")),
    path("bookmarks/", include("meshdash.bookmarks.urls")),
    path("api/v1/", include("meshdash.bookmarks.api_urls")),
    # The description of both apps' API.
    path("api/v1/openapi.json", openapi.openapi_json, name="api_openapi"),
    # The on-call checks' findings: /triage/ and /api/v1/findings.
    path("", include("meshdash.triage.urls")),
    path("", include("meshdash.dashboard.urls")),
]

# Unmatched URLs under /api/ answer JSON like the rest of the API.
handler404 = "meshdash.dashboard.api.not_found"
