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

# Under /api/, the answers Django gives before or outside any view are JSON like the rest of
# the API; elsewhere they are Django's pages.
handler400 = "meshdash.dashboard.api.bad_request"
handler403 = "meshdash.dashboard.api.permission_denied"
handler404 = "meshdash.dashboard.api.not_found"
handler500 = "meshdash.dashboard.api.server_error"
