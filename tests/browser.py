"""Debian's Chromium driven by Playwright, for the browser tests (marked ``browser``).

The bootstrap (``make test``) installs Chromium; a machine without it fails these tests saying so,
rather than skipping them."""

import contextlib
import os

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextlib.contextmanager
def chromium():
    """Chromium launched through Playwright's sync API, closed afterwards."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run scripts/bootstrap.sh --browser")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def signed_in_tab(browser, live_server, client, user, **context_options):
    """(context, tab) of a new browser context carrying ``user``'s session, signed in through
    Django's test client; the caller closes the context."""
    client.force_login(user)
    options = {"viewport": {"width": 1280, "height": 900}, **context_options}
    context = browser.new_context(**options)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    return context, tab
