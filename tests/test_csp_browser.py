"""The pages work under the Content-Security-Policy: Chromium reports no violation on any."""

import pytest

from tests.dashboard.test_browser import page  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PATHS = [
    "/",
    "/workloads/?sort=name",
    "/namespaces/",
    "/workloads/shop/deployment/frontend/",
    "/pods/",
    "/services/",
    "/mtls/",
    "/authorization/",
    "/bookmarks/",
    "/accounts/me/",
    "/admin/login/",
]


def test_it_breaks_no_page(page, live_server):  # noqa: F811
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("pageerror", lambda error: violations.append(str(error)))
    for path in PATHS:
        response = page.goto(live_server.url + path)
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        page.wait_for_load_state("networkidle")
    assert violations == []
