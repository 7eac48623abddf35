"""Debian's Chromium driven by Playwright: the pods page's filters and the keyboard."""

import os

import pytest

from tests.browser import signed_in_tab
from tests.dashboard.browsing import write_browsing

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser, live_server, client, django_user_model, redis_client):
    write_browsing(redis_client)
    user = django_user_model.objects.create_user("browser")
    context, tab = signed_in_tab(browser, live_server, client, user)
    errors = []
    # Script errors and CSP refusals (a missing favicon is neither).
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on(
        "console",
        lambda m: (
            m.type == "error" and "Failed to load resource" not in m.text and errors.append(m.text)
        ),
    )
    tab.errors = errors
    try:
        yield tab
    finally:
        context.close()


def pods(page) -> list[str]:
    return page.eval_on_selector_all("tr[data-pod]", "rows => rows.map(r => r.dataset.pod)")


def test_the_pods_page_filters_in_place_and_keeps_the_url(page, live_server):
    page.goto(live_server.url + "/pods/")
    assert len(pods(page)) == 6
    with page.expect_response(lambda r: "problem=oomkilled" in r.url):
        page.select_option("select[name=problem]", "oomkilled")
    page.wait_for_function("document.querySelectorAll('tr[data-pod]').length === 1")
    assert pods(page) == ["payments/api-oom-2"]
    assert "problem=oomkilled" in page.url
    page.click("th a[data-sort=restarts]")
    page.wait_for_url("**sort=restarts**")
    assert pods(page) == ["payments/api-oom-2"]
    page.reload()
    assert pods(page) == ["payments/api-oom-2"]
    assert page.is_visible("text=proxy: OOMKilled")
    assert not page.errors  # no CSP violation, no script error


def test_the_keyboard_moves_opens_and_goes(page, live_server):
    page.goto(live_server.url + "/pods/?ns=payments")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    selected = page.eval_on_selector_all("tr.kb-selected", "rows => rows.map(r => r.dataset.pod)")
    assert selected == [pods(page)[0]]
    page.keyboard.press("Enter")
    page.wait_for_url("**/workloads/payments/deployment/api/")
    page.keyboard.press("g")
    page.keyboard.press("p")
    page.wait_for_url("**/pods/")
    page.keyboard.press("g")
    page.keyboard.press("w")
    page.wait_for_url("**/workloads/")
    page.keyboard.press("g")
    page.keyboard.press("n")
    page.wait_for_url("**/namespaces/")
    page.keyboard.press("g")
    page.keyboard.press("o")
    page.wait_for_url(live_server.url + "/")
    page.keyboard.press("?")
    assert page.is_visible("#kb-help") and page.is_visible("#kb-help >> text=next row")
    page.keyboard.press("Escape")
    assert not page.is_visible("#kb-help")
    # Typing in the search field is typing, not a shortcut.
    page.goto(live_server.url + "/pods/")
    page.click("input[name=q]")
    page.keyboard.type("gj")
    assert page.url.endswith("/pods/") or "q=gj" in page.url
    assert not page.errors


def test_times_are_shown_in_the_browsers_zone_with_utc_on_hover(page, live_server):
    page.goto(live_server.url + "/workloads/payments/deployment/api/")
    title = page.get_attribute("tr[data-event] time", "title")
    assert title.endswith(" UTC")
    assert page.get_attribute("tr[data-event] time", "data-localised") == ""
