"""The workload page's history: charts over a range from the URL, gaps, rollouts, baselines, the
range switch as an htmx swap, each pod's charts, and the refusals of a bad range."""

import json
import re
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshdash.history import write as history_write
from meshdash.history.models import State
from meshdash.history.read import BACKFILL_STATE
from meshdash.history.write import tiers
from meshdash.mesh.history import WORKLOAD
from meshdash.mesh.model import WorkloadKey
from meshdash.openapi import document

pytestmark = pytest.mark.django_db

FRONTEND = WorkloadKey("shop", "deployment", "frontend")
URL = "/workloads/shop/deployment/frontend/"
POD_URL = URL + "pods/frontend-7d9f-abcde/history/"


def put(key: WorkloadKey, tier_index: int, points) -> None:
    """Workload points ``(t, success_rate, rps, p99)`` straight into one tier of the history."""
    tier = tiers()[tier_index]
    ids = history_write.series_ids([(WORKLOAD.code, "1m", key.id, "")], int(time.time()))
    series = ids[(WORKLOAD.code, "1m", key.id)]
    history_write.append(
        tier_index,
        tier,
        [(series, WORKLOAD.code, t, (sr, rps, 1.0, 2.0, p99, 3.0)) for t, sr, rps, p99 in points],
    )


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _chart(body: str, name: str) -> str:
    return body.split(f'data-chart="{name}"')[1].split("</figure>")[0]


def test_it_charts_the_default_range_and_marks_it(client, known):
    body = client.get(URL).content.decode()
    history = body.split('class="history"')[1]
    assert 'data-range="24h"' in body
    assert 'data-range-link="24h" aria-current="true"' in history
    assert 'data-tick="21600"' in history  # six-hour ticks over a day
    for name in ("success-rate", "requests-per-second", "p99-latency", "tcp-connections"):
        assert "<polyline" in _chart(body, name), name
    assert '<time datetime="' in history  # localised in the browser, UTC as the fallback


def test_it_changes_the_axis_with_the_range(client, known):
    week = client.get(URL + "?range=7d").content.decode()
    hour = client.get(URL + "?range=1h").content.decode()
    assert 'data-tick="172800"' in _chart(week, "success-rate")  # two days apart
    assert re.search(
        r'text-anchor="middle">[A-Z][a-z]{2} \d+<title>', _chart(week, "requests-per-second")
    )
    assert 'data-tick="900"' in _chart(hour, "success-rate")  # quarter hours
    assert re.search(r'text-anchor="middle">\d\d:\d\d<title>', _chart(hour, "success-rate"))
    assert 'data-range-link="7d" aria-current="true"' in week


def test_it_switches_the_range_as_an_htmx_swap_of_the_detail(client, known):
    response = client.get(URL + "?range=7d", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="detail")
    body = response.content.decode()
    assert response.status_code == 200 and "HX-Request" in response["Vary"]
    assert body.lstrip().startswith('<div id="detail"') and "<html" not in body
    # The swapped region polls its own URL: the auto-refresh keeps the new range.
    assert f'hx-get="{URL}?range=7d"' in body
    assert 'data-range="7d"' in body
    links = re.findall(r'<a href="([^"]+)" hx-get="([^"]+)" hx-target="#detail"', body)
    assert ("?range=30d", "?range=30d") in links


def test_it_keeps_the_window_and_the_range_together(client, redis_client):
    from tests.dashboard.known import write_known

    write_known(redis_client, minutes=1, window="10m", durable=True)
    body = client.get(URL + "?window=10m&range=6h").content.decode()
    assert 'href="?window=10m&amp;range=30d"' in body
    assert f"{POD_URL}?window=10m&amp;range=6h" in body


def test_it_draws_a_missing_stretch_as_a_gap_and_rollouts_as_markers(client, known):
    now = int(time.time() // 60 * 60)
    minutes = [
        t for t in range(now - 300 * 60, now - 120 * 60, 60) if not 30 <= (now - t) // 60 - 150 < 60
    ]
    put(FRONTEND, 0, [(t, 0.99, 10.0, 50.0) for t in minutes])
    history_write.record_deploys([(FRONTEND.id, now - 200 * 60)])
    chart = _chart(client.get(URL + "?range=6h").content.decode(), "success-rate")
    assert chart.count('<polyline class="line"') >= 2
    assert f'data-marker-t="{now - 200 * 60}" data-marker-label="rollout"' in chart


def test_it_draws_at_most_two_points_per_pixel(client, known):
    now = int(time.time() // 60 * 60)
    day = range(now - 86400, now - 600, 60)  # 1,430 points
    put(FRONTEND, 0, [(t, 0.99, float(t % 7), 50.0) for t in day])
    chart = _chart(client.get(URL + "?range=24h").content.decode(), "requests-per-second")
    drawn = int(re.search(r'data-points="(\d+)"', chart).group(1))
    width = int(re.search(r'data-plot-width="(\d+)"', chart).group(1))
    assert width < drawn <= 2 * width
    lines = re.findall(r'<polyline class="line" points="([^"]+)"', chart)
    assert sum(len(line.split()) for line in lines) <= drawn + len(lines)


def test_it_shows_an_explicit_range_with_a_way_back(client, known):
    start = int(time.time()) - 3 * 3600
    body = client.get(URL + f"?from={_iso(start)}&to={_iso(start + 3600)}").content.decode()
    assert "data-explicit-range" in body and 'data-range=""' in body
    assert f'data-start="{start}"' in body and f'data-end="{start + 3600}"' in body
    assert "Back to the latest" in body


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("range=2d", "unknown range '2d'; choose one of: 1h, 6h, 24h, 7d, 30d"),
        ("range=7d&range=1h", "range may be given once"),
        ("range=" + "x" * 300, "range is longer than"),
        ("from=2026-01-01T00:00:00Z", "from and to go together"),
        ("from=yesterday&to=today", "from must be a time like"),
        ("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to must be at least 60 s after"),
        ("from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "at most 30 days apart"),
        ("from=4000000000&to=4000003600", "to is in the future"),
        ("range=1h&from=1&to=3600", "give either range or from and to"),
        ("from=2026-01-01T00:00:00%2B99:00&to=2026-01-01T01:00:00Z", "from must be a time"),
    ],
)
def test_it_refuses_a_bad_range_with_the_reason(client, known, query, reason):
    for url in (URL, POD_URL):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400, url
        assert reason in response.content.decode().replace("&#x27;", "'"), url


def test_it_loads_a_pods_charts_into_its_row(client, known):
    body = client.get(URL + "?range=7d").content.decode()
    row = body.split('data-pod-history="frontend-7d9f-abcde"')[1].split("</tr>")[0]
    assert f'hx-get="{POD_URL}?range=7d"' in row and 'hx-trigger="toggle once"' in row
    assert 'id="pod-history-frontend-7d9f-abcde-7d" hx-preserve="true"' in row
    assert f'<a href="{POD_URL}?range=7d">Open the charts</a>' in row

    partial = client.get(POD_URL + "?range=7d", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'data-pod-charts="frontend-7d9f-abcde"' in partial
    for name in ("proxy-memory", "proxy-cpu", "leaf-certificate-days-left", "restarts"):
        assert f'data-chart="{name}"' in partial
    assert "<polyline" in _chart(partial, "proxy-memory")  # the known mesh's five minutes

    page = client.get(POD_URL).content.decode()
    assert "<html" in page and f'href="{URL}"' in page and 'aria-current="true">24h' in page


def test_it_refuses_a_pod_that_cannot_be(client, known):
    assert client.get(URL + "pods/Not_A_Pod/history/").status_code == 404
    assert client.get("/workloads/shop/gadget/frontend/pods/p/history/").status_code == 404


def test_it_says_when_there_is_not_enough_history_for_baselines(client, known):
    body = client.get(URL).content.decode()
    baselines = body.split("data-baselines")[1].split("</table>")[0]
    assert baselines.count("not enough history yet") == 6  # yesterday and a week ago, 3 rows
    data = client.get("/api/v1/workloads/shop/deployment/frontend").json()["baselines"]
    assert data["yesterday"] is None and data["week_ago"] is None
    assert data["missing"] == ["yesterday", "week_ago"] and data["note"] == "not enough history yet"
    assert data["now"]["success_rate"] == pytest.approx(0.999, rel=1e-4)


def test_it_compares_against_yesterday_and_a_week_ago(client, known):
    now = time.time()
    hourly = [t for t in range(int(now // 3600 * 3600) - 8 * 86400, int(now), 3600)]
    put(FRONTEND, 2, [(t, 0.95 if now - t > 3 * 86400 else 0.999, 200.0, 190.0) for t in hourly])
    api = client.get("/api/v1/workloads/shop/deployment/frontend").json()
    week, yesterday = api["baselines"]["week_ago"], api["baselines"]["yesterday"]
    assert week["success_rate"] == pytest.approx(0.95, rel=1e-4) and week["p99"] == 190.0
    assert yesterday["success_rate"] == pytest.approx(0.999, rel=1e-4) and week["rps"] == 200.0
    assert abs(week["t"] - (now - 7 * 86400)) < 2 and api["baselines"]["note"] == ""
    body = client.get(URL).content.decode()
    baselines = body.split("data-baselines")[1].split("</table>")[0]
    assert "95.0 % <span" in baselines and "(+4.90 pt)" in baselines
    assert "not enough history yet" not in baselines
    # P99 now (95 ms) against 190 ms a week ago: half, not marked worse.
    assert "(-50 %)" in baselines


def test_the_baselines_are_described_in_the_openapi_document(client, known):
    spec = document()
    schema = {"$ref": "#/components/schemas/Baselines", "components": spec["components"]}
    answer = client.get("/api/v1/workloads/shop/deployment/frontend").json()
    jsonschema.validate(answer["baselines"], schema)
    detail = spec["components"]["schemas"]["WorkloadDetail"]
    assert "baselines" in detail["required"]
    assert detail["properties"]["baselines"] == {"$ref": "#/components/schemas/Baselines"}


RANGE_VALUES = st.one_of(
    st.sampled_from(
        [
            "1h",
            "7d",
            "30d",
            "2d",
            "",
            " 7d ",
            "0",
            "-1",
            "99999999999999999999",
            "1e9",
            "2026-12-01T00:00:00Z",
            "2026-12-01T00:00:00+05:30",
            "2026-12-01",
            "9999-12-31T23:59:59",
            "0001-01-01T00:00:00",
            "\x00",
            "a" * 300,
            "١٢",
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=30),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.sampled_from(["range", "from", "to"]), RANGE_VALUES), max_size=4))
def test_it_answers_any_range_with_the_charts_or_a_reason(client, known, pairs):
    for url in (URL, POD_URL):
        response = client.get(f"{url}?{urlencode(pairs)}")
        assert response.status_code in (200, 400), (url, pairs)


def test_it_says_while_the_history_is_being_filled(client, known):
    state = {"state": "running", "done": 3, "total": 12}
    State.objects.update_or_create(name=BACKFILL_STATE, defaults={"value": json.dumps(state)})
    body = client.get(URL).content.decode()
    assert 'data-backfill="running"' in body and "3 of 12 steps" in body
    State.objects.filter(name=BACKFILL_STATE).update(value=json.dumps({"state": "done"}))
    assert "data-backfill" not in client.get(URL).content.decode()
