"""Debian's Chromium driven by Playwright: the URL and the table agree at every step."""

import os
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser import signed_in_tab
from tests.dashboard.known import expected, write_known

# pytest-django's live_server and Playwright's sync API share the test's thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser, live_server, client, django_user_model, redis_client):
    write_known(redis_client, minutes=3)
    user = django_user_model.objects.create_user("browser")
    context, tab = signed_in_tab(browser, live_server, client, user)
    try:
        yield tab
    finally:
        context.close()


def expected_for(url: str) -> list[str]:
    """The rows a URL must show, worked out from its query string alone."""
    parsed = urlsplit(url)
    params = {key: values for key, values in parse_qs(parsed.query).items()}

    def one(key, default=""):
        return params.get(key, [default])[-1]

    namespaces = set(params.get("ns", []))
    if parsed.path.startswith("/namespaces/"):
        namespaces = {parsed.path.split("/")[2]}
    meshed = {"yes": True, "no": False}.get(one("meshed"))

    def keep(w):
        return (
            (not namespaces or w.namespace in namespaces)
            and (not one("kind") or w.kind == one("kind"))
            and (not one("health") or w.health == one("health"))
            and (meshed is None or (w.meshed_pods > 0) == meshed)
            and one("q").lower() in w.name
        )

    everything = expected(one("sort", "health"), one("dir") == "desc", keep)
    per_page = int(one("per_page", "50"))
    pages = max(1, -(-len(everything) // per_page))
    number = min(int(one("page", "1")), pages)
    return everything[(number - 1) * per_page : number * per_page]


def table(page) -> list[str]:
    return page.eval_on_selector_all(
        "tr[data-workload]", "rows => rows.map(r => r.dataset.workload)"
    )


def assert_agrees(page, timeout: float = 8.0):
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while True:
        try:
            want, got = expected_for(page.url), table(page)
        except Error:  # the page is reloading (back and forward reload from the server)
            want, got = None, []
        if got == want or time.monotonic() > deadline:
            break
        page.wait_for_timeout(100)
    assert got == want, page.url
    return got


def query(page) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query).items()}


def test_it_keeps_the_url_and_the_table_in_step(page, live_server):
    page.goto(live_server.url + "/workloads/")
    assert assert_agrees(page)

    # sort: the first click on a number column sorts biggest first
    page.click("th.col-rps a")
    page.wait_for_url("**sort=rps**")
    assert query(page)["dir"] == "desc"
    assert_agrees(page)
    page.click("th.col-rps a")
    page.wait_for_url("**dir=asc**")
    assert_agrees(page)

    # filter: the sort stays, the page resets
    page.select_option("select[name=kind]", "deployment")
    page.wait_for_url("**kind=deployment**")
    assert query(page)["sort"] == "rps"
    assert_agrees(page)

    # page
    page.click("nav.pager a:text-is('2')")
    page.wait_for_url("**page=2**")
    assert {"kind": "deployment", "sort": "rps", "dir": "asc", "page": "2"}.items() <= (
        query(page).items()
    )
    assert_agrees(page)

    # back restores the previous view, forward the next
    page.go_back()
    page.wait_for_url(lambda url: "page=2" not in url)
    assert_agrees(page)
    page.go_forward()
    page.wait_for_url("**page=2**")
    assert_agrees(page)

    # "/" focuses search; typing filters by name
    page.click("h1")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.name") == "q"
    page.keyboard.type("front")
    page.wait_for_url("**q=front**")
    assert "page" not in query(page)
    assert assert_agrees(page) == ["shop/deployment/frontend"]

    # open the workload, follow a callee, come back
    list_url = page.url
    page.click("tr[data-workload='shop/deployment/frontend'] a[href^='/workloads/']")
    page.wait_for_url("**/workloads/shop/deployment/frontend/")
    assert page.inner_text("h1.workload-title").endswith("frontend")
    page.click("#callees-h ~ table tr[data-edge='shop/deployment/cart'] a")
    page.wait_for_url("**/workloads/shop/deployment/cart/")
    assert page.inner_text("h1.workload-title").endswith("cart")
    assert page.locator("tr[data-edge='shop/deployment/frontend']").count() == 1  # its caller
    page.go_back()
    page.wait_for_url("**/workloads/shop/deployment/frontend/")
    page.go_back()
    page.wait_for_url(list_url)
    assert page.input_value("input[name=q]") == "front"
    assert assert_agrees(page) == ["shop/deployment/frontend"]


def test_it_follows_the_namespace_and_window_links(page, live_server):
    page.goto(live_server.url + "/namespaces/")
    page.click("tr[data-namespace='payments'] a")
    page.wait_for_url("**/namespaces/payments/")
    assert_agrees(page)
    page.click("th.col-p99 a")
    page.wait_for_url("**sort=p99**")
    assert_agrees(page)


def test_it_fits_1280_pixels_in_light_and_dark(page, live_server):
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for url in ("/", "/workloads/?per_page=200", "/workloads/shop/deployment/frontend/"):
            page.goto(live_server.url + url)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 1280, (scheme, url, width)
    dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.emulate_media(color_scheme="light")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != dark


def test_it_refreshes_the_table_in_place(page, live_server, redis_client, settings):
    settings.MESHDASH_REFRESH_SECONDS = 1
    from meshdash.store import SnapshotStore
    from tests.dashboard.known import known_snapshot

    url = live_server.url + "/workloads/?sort=name&dir=desc&per_page=200"
    page.goto(url)
    assert_agrees(page)
    page.evaluate("window.scrollTo(0, 1500)")
    snapshot = known_snapshot()
    frontend = next(w for w in snapshot.workloads if w.name == "frontend")
    frontend.rps = 999.0
    SnapshotStore(redis_client, "meshdash").write(snapshot)
    cell = "tr[data-workload='shop/deployment/frontend'] td:nth-child(7)"
    # A function, not an expression string: the page's CSP forbids evaluating strings.
    page.wait_for_function(
        "cell => document.querySelector(cell).textContent === '999.0'", arg=cell, timeout=8000
    )
    assert page.url == url
    assert page.evaluate("window.scrollY") == 1500
    assert_agrees(page)
