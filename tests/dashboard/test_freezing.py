"""dashboard.freezing.view_for_url: what a dashboard URL shows, as data to keep."""

import pytest

from meshdash.dashboard.freezing import NotAView, NothingToShow, view_for_url
from meshdash.store import SnapshotStore
from tests.bookmarks.snapshots import payments_snapshot

TAKEN_AT = 1_772_620_000.0


@pytest.fixture
def store(redis_client):
    store = SnapshotStore(redis_client)
    store.write(payments_snapshot(taken_at=TAKEN_AT))
    return store


@pytest.mark.django_db  # the history of the page's charts is in the database
def test_it_gives_a_workload_pages_detail(store):
    view = view_for_url("/workloads/payments/deployment/api/", "")
    assert (view.kind, view.window, view.taken_at) == ("workload", "1m", TAKEN_AT)
    assert view.data["workload"]["name"] == "api"
    assert [e["src_name"] for e in view.data["callers"]] == ["cart"]


@pytest.mark.django_db
def test_it_gives_a_workload_pages_chart_range(store):
    view = view_for_url("/workloads/payments/deployment/api/", "range=7d")
    assert view.end - view.start == 7 * 86400
    assert view.data["history"]["range"] == {"name": "7d", "start": view.start, "end": view.end}
    assert view.data["history"]["workload"]["points"] == []


def test_it_gives_the_list_a_page_filters(store):
    view = view_for_url("/namespaces/payments/", "sort=name")
    assert view.kind == "workloads"
    assert [item["name"] for item in view.data["items"]] == ["api", "ledger"]
    assert (view.data["total"], view.data["page"], view.data["pages"]) == (2, 1, 1)


@pytest.mark.parametrize(
    ("path", "query"), [("/nowhere/", ""), ("/workloads/", "window=2d"), ("/", "sort=evil")]
)
def test_it_refuses_what_is_no_view(store, path, query):
    with pytest.raises(NotAView):
        view_for_url(path, query)


def test_it_says_when_there_is_nothing_to_show(redis_client):
    with pytest.raises(NothingToShow, match="no snapshot of the 1m window yet"):
        view_for_url("/", "")
    SnapshotStore(redis_client).write(payments_snapshot())
    with pytest.raises(NothingToShow, match="not in the current snapshot"):
        view_for_url("/workloads/payments/deployment/gone/", "")
