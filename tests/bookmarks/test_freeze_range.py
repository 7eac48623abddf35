"""Incident links freeze a time range: the workload's and its pods' charts of that range, kept
with the bookmark, readable after the history has let the points go."""

import dataclasses
import re
import time
from datetime import UTC, datetime

import pytest

from meshdash.accounts.teams import profile_of
from meshdash.bookmarks.models import Bookmark, FrozenView
from meshdash.history import write as history_write
from meshdash.history.models import Chunk, Deploy
from meshdash.mesh.model import Pod
from meshdash.store import SnapshotStore
from tests.bookmarks.snapshots import payments_snapshot

pytestmark = pytest.mark.django_db

NOW = time.time()
# The incident: two hours ago to one hour ago, the api failing for ten minutes in the middle.
START = int(NOW // 60 * 60) - 2 * 3600
END = START + 3600
DIP = range(START + 1500, START + 2100, 60)
ROLLOUT = START + 1500


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _snapshot(t: int):
    snapshot = payments_snapshot(success_rate=0.5 if t in DIP else 0.999, taken_at=t)
    api = next(w for w in snapshot.workloads if w.name == "api")
    api.last_rollout = ROLLOUT if t >= ROLLOUT else START - 86400
    pods = [
        Pod(
            "payments",
            f"api-{n}",
            "deployment",
            "api",
            ready=True,
            has_proxy=True,
            proxy_memory_bytes=20e6 + (t - START) * 10 + n,
            proxy_cert_expiry=t + 86400,
        )
        for n in range(2)
    ]
    return dataclasses.replace(snapshot, pods=pods)


@pytest.fixture
def incident(redis_client):
    """An hour of history two hours ago, and the current snapshot in Redis."""
    for t in range(START, END + 1, 60):
        history_write.record(_snapshot(t))
    store = SnapshotStore(redis_client)
    store.write(payments_snapshot(success_rate=1.0, taken_at=NOW))
    return store


@pytest.fixture
def as_alice(client, alice, payments):
    profile_of(payments).admins.add(alice)
    client.force_login(alice)
    return client


def freeze(client, url):
    data = {"title": "Incident 43", "url": url, "freeze": "on", "visibility": "everyone"}
    return client.post("/bookmarks/save/", data)


def _line_depth(svg: str) -> float:
    """The lowest point a chart's lines reach (the largest y)."""
    points = re.findall(r'<polyline class="line" points="([^"]+)"', svg)
    return max(float(p.split(",")[1]) for line in points for p in line.split())


def test_it_freezes_the_charts_of_an_explicit_range(as_alice, incident):
    url = f"/workloads/payments/deployment/api/?from={_iso(START)}&to={_iso(END)}"
    assert freeze(as_alice, url).status_code == 302
    bookmark = Bookmark.objects.get()
    assert (bookmark.range_start.timestamp(), bookmark.range_end.timestamp()) == (START, END)
    kept = bookmark.frozen.data["history"]
    assert kept["range"] == {"name": "", "start": START, "end": END}
    assert kept["workload"]["step"] == 60 and len(kept["workload"]["points"]) == 61
    assert kept["workload"]["deploys"] == [ROLLOUT]
    assert sorted(kept["pods"]) == ["api-0", "api-1"]
    assert min(p[1] for p in kept["workload"]["points"]) == 0.5


def test_it_shows_a_frozen_range_after_the_history_let_it_go(as_alice, incident, carol, client):
    url = f"/workloads/payments/deployment/api/?from={_iso(START)}&to={_iso(END)}"
    freeze(as_alice, url)
    bookmark = Bookmark.objects.get()
    live = as_alice.get(url).content.decode()

    Chunk.objects.all().delete()  # the points age out of the history
    Deploy.objects.all().delete()
    client.force_login(carol)
    page = client.get(f"/bookmarks/{bookmark.pk}/").content.decode()
    assert "data-frozen-range" in page
    assert f'data-start="{START}"' in page and f'data-end="{END}"' in page
    assert page.count('class="history-chart"') >= 4 + 4 * 2  # the workload's, each pod's
    # The same charts as the live page drew while the points were there: the dip, the rollout.
    frozen_success = page.split('data-chart="success-rate"')[1].split("</figure>")[0]
    live_success = live.split('data-chart="success-rate"')[1].split("</figure>")[0]
    assert _line_depth(frozen_success) == _line_depth(live_success)
    assert 'data-marker-label="rollout"' in frozen_success
    assert f'data-marker-t="{ROLLOUT}"' in frozen_success
    assert 'data-frozen-pod="api-0"' in page
    # Callers and pods are those of the snapshot at the freeze.
    assert "shop/deployment/cart" in page


def test_it_freezes_a_named_range_as_the_span_up_to_the_freeze(as_alice, incident):
    before = int(time.time())
    freeze(as_alice, "/workloads/payments/deployment/api/?range=6h")
    bookmark = Bookmark.objects.get()
    start, end = bookmark.range_start.timestamp(), bookmark.range_end.timestamp()
    assert end - start == 6 * 3600 and before <= end <= time.time() + 1
    assert bookmark.frozen.data["history"]["range"]["name"] == "6h"
    assert len(bookmark.frozen.data["history"]["workload"]["points"]) == 61


def test_it_keeps_a_long_range_within_its_bound(as_alice, incident):
    freeze(as_alice, "/workloads/payments/deployment/api/?range=30d")
    kept = FrozenView.objects.get().data["history"]
    assert len(kept["workload"]["points"]) <= 721
    assert all(len(series["points"]) <= 121 for series in kept["pods"].values())


def test_it_refuses_to_freeze_a_bad_range(as_alice, incident):
    for query in ("range=2d", f"from={_iso(START)}", f"from={_iso(END)}&to={_iso(START)}"):
        response = freeze(as_alice, f"/workloads/payments/deployment/api/?{query}")
        assert response.status_code == 400, query
    assert not Bookmark.objects.exists()


def test_it_reports_the_range_in_the_api(as_alice, incident):
    url = f"/workloads/payments/deployment/api/?from={_iso(START)}&to={_iso(END)}"
    freeze(as_alice, url)
    (item,) = as_alice.get("/api/v1/bookmarks").json()["items"]
    assert item["range"] == {"start": START, "end": END}


def test_a_list_bookmark_keeps_no_range(as_alice, incident):
    freeze(as_alice, "/workloads/?ns=payments")
    bookmark = Bookmark.objects.get()
    assert bookmark.range_start is None and "history" not in bookmark.frozen.data
