"""Debian's Chromium driven by Playwright on a workload page's history: the range switch, the axis
drawn again in the browser's own time zone (UTC in the tooltips), a pod's charts opened in its
row, and a frozen incident range opened later."""

import os
import re
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from meshdash.bookmarks.models import Bookmark
from tests.browser import signed_in_tab
from tests.dashboard.known import write_known
from tests.dashboard.test_history_views import FRONTEND, URL, put

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Half an hour off UTC: a tick at a whole local hour is at half past in UTC.
ZONE = "Asia/Kolkata"


@pytest.fixture
def page(browser, live_server, client, django_user_model, redis_client):
    write_known(redis_client, minutes=3, durable=True)
    now = time.time()
    hours = range(int(now // 3600 * 3600) - 7 * 86400, int(now) - 3600, 3600)
    put(FRONTEND, 2, [(t, 0.999, 200.0, 90.0) for t in hours])
    user = django_user_model.objects.create_user("browser")
    context, tab = signed_in_tab(browser, live_server, client, user, timezone_id=ZONE)
    try:
        yield tab
    finally:
        context.close()


SUCCESS = 'figure[data-chart="success-rate"] svg.history-chart'


def ticks(page, scope: str = "") -> list[tuple[str, str]]:
    """(label, tooltip) of the success-rate chart's ticks, once the browser redrew them."""
    selector = f'{scope} {SUCCESS}[data-axis="local"]'.strip()
    page.wait_for_selector(selector)
    return page.eval_on_selector_all(
        f"{selector} g.ticks text",
        "texts => texts.map(t => [t.firstChild.textContent, t.querySelector('title').textContent])",
    )


def in_zone(utc_title: str) -> str:
    """A tick's UTC tooltip as the label Playwright's en-US locale writes in ZONE."""
    moment = datetime.strptime(utc_title, "%Y-%m-%d %H:%M UTC").replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(ZONE)).strftime("%I:%M %p")


def test_it_switches_the_range_in_local_time_and_opens_a_frozen_range(page, live_server, client):
    page.goto(live_server.url + URL)
    day = ticks(page)
    assert day and all(title.endswith(":30 UTC") for _, title in day)  # local whole hours
    assert all(in_zone(title) == label for label, title in day if ":" in label)
    # In the browser's locale (Playwright's en-US: "06:00 AM"), a date at midnight.
    assert all(re.fullmatch(r"\d\d:00( [AP]M)?|[A-Z][a-z]{2} \d+", label) for label, _ in day)
    times = page.eval_on_selector_all(
        "section.history time", "ts => ts.map(t => [t.textContent, t.title])"
    )
    assert all(title.endswith(" UTC") and text != title for text, title in times)

    page.click('a[data-range-link="7d"]')
    page.wait_for_url("**range=7d**")
    page.wait_for_selector(f'{SUCCESS}[data-tick="172800"][data-axis="local"]')
    week = ticks(page)
    assert week != day and all(re.fullmatch(r"[A-Z][a-z]{2} \d+", label) for label, _ in week)
    assert page.get_attribute("#detail", "hx-get") == URL + "?range=7d"  # what refreshes
    assert page.locator(f"{SUCCESS} polyline.line").count() >= 1

    page.go_back()
    page.wait_for_url(lambda url: "range=7d" not in url)
    page.wait_for_selector(f'{SUCCESS}[data-tick="21600"][data-axis="local"]')

    page.click('tr[data-pod-history="frontend-7d9f-abcde"] summary')
    page.wait_for_selector(
        '[data-pod-charts="frontend-7d9f-abcde"] figure[data-chart="proxy-memory"] '
        'svg[data-axis="local"] polyline.line',
        state="attached",  # a flat line has no height: Playwright calls it hidden
    )

    # An incident link over the last two hours, opened later: its charts drawn from the copy.
    end = int(time.time())
    span = "&".join(
        f"{name}={datetime.fromtimestamp(t, UTC):%Y-%m-%dT%H:%M:%SZ}"
        for name, t in (("from", end - 7200), ("to", end))
    )
    response = client.post(
        "/bookmarks/save/",
        {"title": "Incident", "url": f"{URL}?{span}", "freeze": "on", "visibility": "private"},
    )
    assert response.status_code == 302
    bookmark = Bookmark.objects.get()
    page.goto(f"{live_server.url}/bookmarks/{bookmark.pk}/")
    frozen = ticks(page, "[data-frozen-range]")
    assert frozen and all(in_zone(title) == label for label, title in frozen)
    assert page.locator(f"[data-frozen-range] {SUCCESS} polyline.line").count() >= 1
    assert page.locator("[data-frozen-range] time").first.get_attribute("title").endswith("UTC")
