"""Whatever the query string, a list URL answers without a server error: 200, 400 for bad input,
or, for a valid window without a snapshot, exactly the documented wait (503 JSON for the API and
the CSV export, the 200 "collecting" page for the pages)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshdash.mesh.model import WINDOWS

pytestmark = pytest.mark.django_db

PAGE_URLS = [
    "/",
    "/workloads/",
    "/namespaces/",
    "/namespaces/shop/",
    "/workloads/shop/deployment/frontend/",
]
API_URLS = [
    "/api/v1/workloads",
    "/api/v1/namespaces",
    "/api/v1/workloads/shop/deployment/frontend",
    "/workloads.csv",
]
LIST_URLS = PAGE_URLS + API_URLS
DETAIL_URLS = ["/workloads/shop/deployment/frontend/", "/api/v1/workloads/shop/deployment/frontend"]
KEYS = [
    "page",
    "per_page",
    "sort",
    "dir",
    "ns",
    "kind",
    "health",
    "meshed",
    "q",
    "window",
    "team",
    "x",
]
# Plausible values, edge cases and arbitrary text, including what breaks parsers and stores.
VALUES = st.one_of(
    st.sampled_from(
        [
            "1",
            "0",
            "-1",
            "2",
            "999999999999999999999",
            "1e3",
            "50",
            "200",
            "201",
            "rps",
            "name",
            "desc",
            "asc",
            "shop",
            "Shop",
            "deployment",
            "critical",
            "yes",
            "no",
            "1m",
            "10m",
            "1h",
            "5m",
            " 10m ",
            "svc",
            ".*",
            "%",
            "' OR 1=1 --",
            "<script>",
            "\x00",
            "a" * 300,
            "١٢",
            "ﬁ",
            " ",
            "",
        ]
    ),
    st.text(max_size=40),
)
# The fixtures are written once per test, not per example; and generation time depends on the
# machine's load, which is no reason to fail.
SUPPRESSED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
PAIRS = st.lists(
    st.tuples(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), VALUES), max_size=6
)


def window_without_snapshot(query, stored: set[str]) -> str | None:
    """The window ``query`` (a QueryDict) asks for if it is a valid one with no stored snapshot.

    Read as the views read it: no value, or an empty one, is the default window (stored here);
    a value given twice is a 400 whatever it says; one value counts stripped of whitespace.
    """
    values = query.getlist("window")
    if len(values) != 1:
        return None
    window = values[0].strip()
    return window if window in WINDOWS and window not in stored else None


def head(response) -> bytes:
    """The start of a body, for failure messages (a CSV export streams: nothing to show)."""
    return b"" if response.streaming else response.content[:300]


def is_collecting_page(response) -> bool:
    return "dashboard/collecting.html" in [t.name for t in response.templates]


def assert_no_snapshot_answer(url, window, response):
    """Exactly the documented answer for a valid window that has no snapshot yet."""
    if url in API_URLS:
        assert response.status_code == 503, (url, head(response))
        assert response["Content-Type"] == "application/json"
        assert response["Retry-After"] == "10"
        assert response.json() == {
            "error": f"no snapshot for window {window} yet: the first collection is running"
        }
    else:
        assert response.status_code == 200, (url, head(response))
        assert is_collecting_page(response)
        assert f"no snapshot of the mesh for the {window} window yet" in response.content.decode()
        assert response["HX-Refresh"] == "true"


def assert_documented_answer(client, url, response, stored: set[str]):
    query = response.wsgi_request.GET
    missing = window_without_snapshot(query, stored)
    context = (url, query.urlencode(), head(response))
    if missing is None:
        assert response.status_code in (200, 400), context
        assert not is_collecting_page(response), context
        return
    # Bad input is a 400 whatever the window: the same query on a stored window tells which.
    with_stored = query.copy()
    with_stored.setlist("window", [next(iter(stored))])
    reference = client.get(url + "?" + with_stored.urlencode())
    assert reference.status_code in (200, 400), context
    if reference.status_code == 400:
        assert response.status_code == 400, context
        if url in API_URLS:
            assert response.json() == reference.json()
    else:
        assert_no_snapshot_answer(url, missing, response)


@settings(max_examples=150, deadline=None, suppress_health_check=SUPPRESSED)
@given(url=st.sampled_from(LIST_URLS), pairs=PAIRS)
def test_it_never_answers_a_server_error(client, known, url, pairs):
    response = client.get(url, pairs)
    # The one 5xx allowed is the API's documented 503 for a window without a snapshot yet.
    if response.status_code != 503 or url not in API_URLS:
        assert response.status_code < 500, (url, pairs, head(response))
    assert_documented_answer(client, url, response, {known.window})


@settings(max_examples=40, deadline=None, suppress_health_check=SUPPRESSED)
@given(raw=st.text(max_size=80))
def test_it_survives_raw_query_strings(client, known, raw):
    response = client.get("/workloads/?" + raw)
    assert response.status_code in (200, 400)
    assert_documented_answer(client, "/workloads/", response, {known.window})


@pytest.mark.parametrize("url", LIST_URLS)
@pytest.mark.parametrize("window", ["10m", "1h"])
def test_it_answers_a_window_without_a_snapshot_as_documented(client, known, url, window):
    assert window != known.window
    assert_no_snapshot_answer(url, window, client.get(url, {"window": window}))


@pytest.mark.parametrize("url", LIST_URLS)
def test_it_refuses_a_window_given_twice(client, known, url):
    response = client.get(url, [("window", "10m"), ("window", "10m")])
    assert response.status_code == 400
    assert not is_collecting_page(response)


@pytest.mark.parametrize("url", [url for url in LIST_URLS if url not in DETAIL_URLS])
def test_it_checks_the_filters_before_the_window_has_a_snapshot(client, known, url):
    response = client.get(url, {"window": "10m", "page": "-1"})
    assert response.status_code == 400, url
    assert not is_collecting_page(response)
