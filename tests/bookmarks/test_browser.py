"""Alice shares a filtered workload list with her team; bob opens it from the menu; carol, in
another team, cannot see it."""

import re

import pytest
from playwright.sync_api import expect

from meshdash.bookmarks.models import Bookmark
from meshdash.store import SnapshotStore
from tests.accounts.people import PASSWORD
from tests.bookmarks.snapshots import payments_snapshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEW = "/workloads/?ns=payments&sort=name"


def sign_in(browser, live_server, username):
    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(live_server.url + "/")
    return page


def test_it_shares_a_filtered_list_with_the_team_only(
    browser, live_server, redis_client, alice, bob, carol
):
    SnapshotStore(redis_client).write(payments_snapshot())

    page = sign_in(browser, live_server, "alice")
    page.goto(live_server.url + "/workloads/?ns=payments")
    # As htmx does after sorting the table: a new URL, the same header.
    page.evaluate("history.pushState({}, '', '/workloads/?sort=name&ns=payments')")
    page.click("details[data-menu=save] > summary")
    form = page.locator("details[data-menu=save] form")
    form.locator("input[name=title]").fill("Payments by name")
    form.locator("textarea[name=note]").fill("Runbook: check the <ledger> first")
    form.locator("select[name=visibility]").select_option("team")
    form.locator("select[name=team]").select_option("payments")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(live_server.url + "/bookmarks/")
    expect(page.locator(".bookmark-note")).to_have_text("Runbook: check the <ledger> first")
    bookmark = Bookmark.objects.get(title="Payments by name")
    assert (bookmark.visibility, bookmark.url) == ("team", VIEW)

    page = sign_in(browser, live_server, "bob")
    page.click("details[data-menu=bookmarks] > summary")
    link = page.locator("details[data-menu=bookmarks]").get_by_role("link", name="Payments by name")
    expect(link).to_have_attribute("title", "Runbook: check the <ledger> first")
    link.click()
    expect(page).to_have_url(live_server.url + VIEW)
    expect(page.locator("main")).to_contain_text("ledger")
    expect(page.locator("main")).not_to_contain_text("cart")

    page = sign_in(browser, live_server, "carol")
    page.click("details[data-menu=bookmarks] > summary")
    expect(page.locator("details[data-menu=bookmarks]")).not_to_contain_text("Payments by name")
    response = page.goto(f"{live_server.url}/bookmarks/{bookmark.pk}/")
    assert response.status == 404
