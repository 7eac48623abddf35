import csv
import io
import time

import pytest

from meshdash.store import SnapshotStore
from tests.dashboard.known import HOSTILE, all_workloads, expected, write_known

pytestmark = pytest.mark.django_db

ITEM_FIELDS = {
    "namespace",
    "kind",
    "name",
    "meshed_pods",
    "total_pods",
    "success_rate",
    "rps",
    "latency_ms_p50",
    "latency_ms_p95",
    "latency_ms_p99",
}


def ids(items) -> list[str]:
    return [f"{i['namespace']}/{i['kind']}/{i['name']}" for i in items]


def test_it_returns_the_documented_shape(client, known):
    response = client.get("/api/v1/workloads?page=2&per_page=10")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert {"total", "page", "per_page", "items", "snapshot"} <= set(data)
    assert (data["total"], data["page"], data["per_page"]) == (124, 2, 10)
    assert len(data["items"]) == 10
    assert all(set(item) >= ITEM_FIELDS for item in data["items"])
    assert ids(data["items"]) == expected()[10:20]
    snapshot = data["snapshot"]
    assert {"taken_at", "age_seconds", "collect_seconds", "stale", "errors"} <= set(snapshot)
    assert abs(snapshot["taken_at"] - known.taken_at) < 1e-6
    assert 0 <= snapshot["age_seconds"] < 60
    assert snapshot["collect_seconds"] == 1.25
    assert snapshot["stale"] is False and snapshot["errors"] == {}


def test_it_gives_the_numbers_of_the_snapshot(client, known):
    items = client.get("/api/v1/workloads?q=frontend").json()["items"]
    (frontend,) = items
    assert frontend["success_rate"] == 0.999  # a fraction, not a percentage
    assert frontend["rps"] == 250.0
    assert (frontend["latency_ms_p50"], frontend["latency_ms_p95"], frontend["latency_ms_p99"]) == (
        12.0,
        40.0,
        95.0,
    )
    assert frontend["team"] == HOSTILE  # JSON carries the text as is; consumers escape
    idle = client.get("/api/v1/workloads?q=svc-006").json()["items"][0]
    assert idle["success_rate"] is None and idle["rps"] == 0.0


def test_it_accepts_the_same_filters_and_sort_as_the_page(client, known):
    url = "/api/v1/workloads?ns=shop&kind=deployment&health=healthy&sort=p99&dir=desc&per_page=200"

    def keep(w):
        return w.namespace == "shop" and w.kind == "deployment" and w.health == "healthy"

    assert ids(client.get(url).json()["items"]) == expected("p99", True, keep)


def test_it_clamps_a_page_past_the_end(client, known):
    data = client.get("/api/v1/workloads?page=100&per_page=50").json()
    assert data["page"] == 3 and ids(data["items"]) == expected()[100:]


def test_it_reads_another_window(client, redis_client):
    write_known(redis_client, minutes=1, window="1h")
    assert client.get("/api/v1/workloads?window=1h").json()["window"] == "1h"
    assert client.get("/api/v1/workloads").status_code == 503  # no 1m snapshot yet


@pytest.mark.parametrize(
    "qs",
    [
        "sort=nope",
        "page=x",
        "per_page=5000",
        "window=2d",
        "ns=UPPER",
        "q=%25",
        "kind=pods",
        "q=" + "a" * 300,
    ],
)
def test_it_answers_400_with_a_reason(client, known, qs):
    response = client.get("/api/v1/workloads?" + qs)
    assert response.status_code == 400
    assert response.json()["error"]


def test_it_returns_one_workload_with_edges_pods_routes_and_history(client, known):
    data = client.get("/api/v1/workloads/shop/deployment/frontend").json()
    assert data["workload"]["name"] == "frontend"
    assert [e["src_name"] for e in data["callers"]] == ["ingress"]
    assert sorted(e["dst_name"] for e in data["callees"]) == ["cart", "ledger"]
    assert {p["name"] for p in data["pods"]} == {"frontend-7d9f-abcde", "frontend-7d9f-fghij"}
    assert data["routes"][0]["route"] == f"GET /api/{HOSTILE}"
    assert len(data["history"]) == 5
    assert {"t", "success_rate", "rps", "latency_ms_p99"} == set(data["history"][0])
    assert data["history"][-1]["rps"] == 250.0


def test_it_answers_404_for_unknown_workloads(client, known):
    assert client.get("/api/v1/workloads/shop/deployment/nope").status_code == 404
    response = client.get("/api/v1/workloads/shop/replicaset/frontend")
    assert response.status_code == 404 and "unknown kind" in response.json()["error"]


def test_it_lists_namespaces(client, known):
    data = client.get("/api/v1/namespaces").json()
    assert [ns["name"] for ns in data["items"]] == ["legacy", "payments", "shop"]
    shop = data["items"][2]
    assert shop["workloads"] == sum(1 for w in all_workloads() if w.namespace == "shop")
    assert shop["inject_annotation"] == "enabled"


def test_it_reports_staleness(client, redis_client):
    write_known(redis_client, minutes=1)
    SnapshotStore(redis_client, "meshdash").record_failure(
        "1m", "deadline exceeded", at=time.time() + 1
    )
    snapshot = client.get("/api/v1/workloads").json()["snapshot"]
    assert snapshot["stale"] is True and snapshot["failure_reason"] == "deadline exceeded"


def test_it_answers_503_without_a_snapshot_or_without_redis(client, redis_client, settings):
    for url in (
        "/api/v1/workloads",
        "/api/v1/namespaces",
        "/api/v1/workloads/shop/deployment/frontend",
        "/workloads.csv",
    ):
        response = client.get(url)
        assert response.status_code == 503 and "no snapshot" in response.json()["error"]
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    for url in ("/api/v1/workloads", "/api/v1/namespaces", "/workloads.csv"):
        response = client.get(url)
        assert response.status_code == 503 and "unavailable" in response.json()["error"]
        assert response["Retry-After"] == "10"


def _csv(response) -> list[dict]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_it_exports_every_matching_workload_as_csv_in_the_view_order(client, known):
    rows = _csv(client.get("/workloads.csv?sort=rps&dir=desc&page=2&per_page=25"))
    assert [f"{r['namespace']}/{r['kind']}/{r['name']}" for r in rows] == expected("rps", True)
    frontend = next(r for r in rows if r["name"] == "frontend")
    assert (frontend["success_rate"], frontend["rps"], frontend["health"]) == (
        "0.999",
        "250.0",
        "healthy",
    )
    idle = next(r for r in rows if r["name"] == "svc-006")
    assert idle["success_rate"] == "" and idle["latency_ms_p99"] == ""


def test_it_exports_a_filtered_list(client, known):
    rows = _csv(client.get("/workloads.csv?ns=payments&meshed=no"))
    assert [r["name"] for r in rows] == [
        w.split("/")[2]
        for w in expected(keep=lambda w: w.namespace == "payments" and w.meshed_pods == 0)
    ]


def test_it_keeps_spreadsheet_formulas_out_of_csv(client, redis_client):
    from tests.dashboard.known import known_snapshot

    snapshot = known_snapshot()
    snapshot.workloads[0].team = '=HYPERLINK("http://evil")'
    SnapshotStore(redis_client, "meshdash").write(snapshot)
    rows = _csv(client.get("/workloads.csv?q=svc-000"))
    assert rows[0]["team"] == '\'=HYPERLINK("http://evil")'


def test_it_refuses_bad_csv_parameters(client, known):
    assert client.get("/workloads.csv?sort=evil").status_code == 400
