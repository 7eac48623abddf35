"""Debian's Chromium: the findings panels, hostile names and long summaries included, fit the
page and run nothing the cluster wrote."""

import os

import pytest

from meshdash.mesh.checks import WARNING, Finding, Ref
from tests.browser import signed_in_tab
from tests.dashboard.checked import hostile_finding, write_checked

# pytest-django's live_server and Playwright's sync API share the test's thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "a" * 63
LONG_FINDING = Finding(
    "memory.share",
    WARNING,
    (Ref(LONG, "pod", "p" * 253), Ref(LONG, "deployment", "d" * 253)),
    "Proxy of " + "x" * 400 + " at 97 % of its memory limit",
)


@pytest.fixture
def page(browser, live_server, client, django_user_model, redis_client):
    write_checked(redis_client, [hostile_finding(), LONG_FINDING])
    user = django_user_model.objects.create_user("browser")
    context, tab = signed_in_tab(browser, live_server, client, user)
    try:
        yield tab
    finally:
        context.close()


def test_the_findings_fit_1280_pixels_and_run_no_script(page, live_server):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for url in ("/", "/workloads/shop/deployment/frontend/", f"/workloads/{LONG}/deployment/x/"):
        page.goto(live_server.url + url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, (url, width)
    page.goto(live_server.url + "/")
    shown = page.eval_on_selector_all(
        "#overview-panels tr[data-check]", "rows => rows.map(r => r.dataset.check)"
    )
    assert "webhooks.conflict" in shown and "memory.share" in shown
    assert page.locator("#overview-panels img").count() == 0  # the hostile <img> stayed text
    assert dialogs == []
