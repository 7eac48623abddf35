"""/triage/ in Chromium: no Content-Security-Policy violation, the copy buttons copy, the
auto-refresh leaves an open mute form alone, and a mute made there shows as muted."""

import pytest

from tests.browser import signed_in_tab
from tests.triage.conftest import sample_findings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tab(browser, live_server, client, payments_admin, write, settings):
    settings.MESHDASH_REFRESH_SECONDS = 1
    write(sample_findings())
    context, tab = signed_in_tab(browser, live_server, client, payments_admin)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    problems = []
    tab.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    tab.on("pageerror", lambda error: problems.append(str(error)))
    tab.problems = problems
    try:
        yield tab
    finally:
        context.close()


def test_the_page_works_under_the_csp_and_copies_commands(tab, live_server):
    response = tab.goto(live_server.url + "/triage/")
    assert response.status == 200
    tab.wait_for_load_state("networkidle")
    command = "kubectl -n payments rollout restart sts/ledger"
    tab.locator(f'button[data-copy="{command}"]').click()
    tab.wait_for_function("() => document.querySelector('button.copy').textContent !== ''")
    assert tab.evaluate("navigator.clipboard.readText()") == command
    assert tab.problems == []


def test_an_open_mute_form_survives_the_refresh_and_mutes(tab, live_server):
    tab.goto(live_server.url + "/triage/?severity=warning")
    form = tab.locator("details.mute-form").first
    form.locator("summary").click()
    form.locator('input[name="why"]').fill("resized on Monday")
    tab.wait_for_timeout(2500)  # more than two refresh intervals
    assert form.locator('input[name="why"]').input_value() == "resized on Monday"
    form.locator('button[value="workload"]').click()
    tab.wait_for_url("**/triage/?severity=warning")
    muted = tab.locator("section.muted-findings")
    assert "resized on Monday" in muted.inner_text()
    assert "Muted: memory.share muted in payments/statefulset/ledger." in tab.inner_text("main")
    tab.screenshot(path="/tmp/triage.png", full_page=True)
    assert tab.problems == []
