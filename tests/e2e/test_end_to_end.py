"""The whole path for real: the demo mesh scraped by a private Prometheus, one collection run by a
real Celery worker process into a private Redis, then the JSON API and the pages read it.

Truth comes from two independent sides: the demo model's configured rates
(``meshdash.demo.model``), and PromQL of our own run against the same Prometheus at the
snapshot's time.
"""

from html.parser import HTMLParser

import pytest
from celery import Celery

from meshdash.collectors.tasks import collect_window
from meshdash.lib.templatetags.meshdash import percent, rps
from tests import servers

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

WINDOW = "1m"
WINDOW_SECONDS = 60
TOLERANCE = 0.05
NOT_RUNNING = {"Failed", "Succeeded"}


def run_collection_on_worker(redis_url: str) -> str:
    # Our own Celery client on the private Redis: the project's app stays configured as it is.
    client = Celery("e2e", broker=redis_url, backend=redis_url, set_as_current=False)
    try:
        return client.send_task(collect_window.name, args=(WINDOW,)).get(timeout=180)
    finally:
        client.close()


def api_items(client) -> tuple[list[dict], dict]:
    items, page, snapshot = [], 1, {}
    while True:
        response = client.get("/api/v1/workloads", {"page": page, "per_page": 200})
        assert response.status_code == 200, response.content[:500]
        body = response.json()
        items += body["items"]
        snapshot = body["snapshot"]
        if page >= body["pages"]:
            return items, snapshot
        page += 1


class WorkloadRows(HTMLParser):
    """The rows of the workload table: key "namespace/kind/name" -> the texts of its cells."""

    def __init__(self):
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self.row: list[str] | None = None
        self.in_cell = False

    def handle_starttag(self, tag, attrs):
        if tag == "tr" and dict(attrs).get("data-workload"):
            self.row = self.rows.setdefault(dict(attrs)["data-workload"], [])
        elif tag == "td" and self.row is not None:
            self.row.append("")
            self.in_cell = True

    def handle_endtag(self, tag):
        if tag == "td":
            self.in_cell = False
        elif tag == "tr":
            self.row = None

    def handle_data(self, data):
        if self.in_cell and self.row is not None:
            self.row[-1] += data.strip()


def page_rows(client) -> dict[str, list[str]]:
    parser = WorkloadRows()
    page = 1
    while True:
        response = client.get("/workloads/", {"page": page, "per_page": 200})
        assert response.status_code == 200
        text = response.content.decode()
        before = len(parser.rows)
        parser.feed(text)
        if len(parser.rows) == before or 'rel="next"' not in text:
            return parser.rows
        page += 1


def close(actual: float | None, expected: float | None, tolerance: float = TOLERANCE) -> bool:
    if expected is None or actual is None:
        return actual is expected
    return abs(actual - expected) <= tolerance * abs(expected) + 1e-9


def model_tolerance(prometheus: servers.PrometheusServer, at: float, scrape_seconds: float):
    """How far a rate can be from the model's on a busy machine, from the scrapes themselves.

    The demo proxies, like real ones, send no timestamps: Prometheus stamps a sample with its
    scrape's start and the exporter computes the value before the scrape ends, so a rate over
    the window (samples spanning at least the window less 1.1 intervals) is off by at most the
    longest scrape's duration over that span. Below that, TOLERANCE as for PromQL.
    """
    ((_, longest),) = prometheus.query(f"max(max_over_time(scrape_duration_seconds[{WINDOW}]))", at)
    return max(TOLERANCE, longest / (WINDOW_SECONDS - 1.1 * scrape_seconds))


def promql_truth(prometheus: servers.PrometheusServer, at: float) -> dict[tuple, tuple]:
    """(namespace, kind, name) -> (rps, success rate) from our own PromQL, as linkerd viz asks
    but for the application's traffic only."""
    truth = {}
    for kind in ("deployment", "statefulset", "daemonset"):
        # The application's requests: not the admin port's scrapes and probes, not the
        # kubelet's probes, which viz's own query counts (linkerd2 issue 769).
        selector = f'direction="inbound", target_port!="4191", route_name!="probe", {kind}!=""'
        by = f"namespace, {kind}"
        total = prometheus.query(
            f"sum by ({by}) (rate(response_total{{{selector}}}[{WINDOW}]))", at
        )
        good = prometheus.query(
            f'sum by ({by}) (rate(response_total{{{selector}, classification="success"}}'
            f"[{WINDOW}]))",
            at,
        )
        good_by_key = {(labels["namespace"], labels[kind]): value for labels, value in good}
        for labels, value in total:
            key = (labels["namespace"], labels[kind])
            success = good_by_key.get(key, 0.0) / value if value else None
            truth[(key[0], kind, key[1])] = (value, success)
    return truth


def test_it_serves_what_a_real_worker_collected_from_the_demo_mesh(
    celery_worker, redis_url, demo_mesh, demo_prometheus, client, django_user_model
):
    demo_prometheus.wait_for_full_window(WINDOW_SECONDS, demo_mesh.scrape_seconds)
    assert run_collection_on_worker(redis_url) == "ok"

    client.force_login(django_user_model.objects.create_user("e2e-viewer"))
    items, snapshot = api_items(client)
    mesh = demo_mesh.model()
    model = {w.key: w for w in mesh.all_workloads}
    listed = {(i["namespace"], i["kind"], i["name"]): i for i in items}
    assert len(items) == len(listed)
    assert listed.keys() == model.keys()
    assert not snapshot["stale"] and not snapshot["errors"], snapshot

    promql = promql_truth(demo_prometheus, snapshot["taken_at"])
    tolerance = model_tolerance(demo_prometheus, snapshot["taken_at"], demo_mesh.scrape_seconds)
    assert tolerance < 0.15, "the machine is too busy for the comparison with the model"
    wrong = []
    for key, w in model.items():
        item = listed[key]
        # A finished Job's Completed pods still count: it is meshed and idle, not unmeshed.
        running = [
            pod
            for pod in w.pods
            if pod.phase not in NOT_RUNNING or (w.kind == "job" and pod.phase == "Succeeded")
        ]
        pods = (sum(pod.has_proxy for pod in running), len(running))
        model_rps, model_success = mesh.inbound_rps(w), mesh.success_rate(w)
        query_rps, query_success = promql.get(key, (0.0, None))
        checks = {
            "pods": (item["meshed_pods"], item["total_pods"]) == pods,
            "rps vs model": close(item["rps"], model_rps, tolerance),
            "rps vs PromQL": close(item["rps"], query_rps),
            "success vs model": close(item["success_rate"], model_success, tolerance),
            "success vs PromQL": close(item["success_rate"], query_success),
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            wrong.append((key, failed, item, pods, model_rps, model_success, query_rps))
    assert not wrong, f"{len(wrong)} workloads disagree, first ones: {wrong[:5]}"
    assert sum(1 for w in model.values() if mesh.inbound_rps(w) > 0) > len(model) / 2

    rows = page_rows(client)
    assert {tuple(key.split("/", 2)) for key in rows} == model.keys()
    for key, cells in rows.items():
        item = listed[tuple(key.split("/", 2))]
        pods, success_text, rps_text = cells[4], cells[5], cells[6]
        assert pods == f"{item['meshed_pods']}/{item['total_pods']}", key
        if item["judged_on"] == "tcp":  # the share of its connections closed cleanly
            error_rate = item["tcp_close_error_rate"]
            clean = None if error_rate is None else 1 - error_rate
            assert success_text == f"tcp {percent(clean)}", key
        else:
            assert success_text == percent(item["success_rate"]), key
        assert rps_text == rps(item["rps"]), key

    overview = client.get("/")
    assert overview.status_code == 200
    shown = overview.content.decode()
    assert f'data-stat="workloads">{len(model):,}<' in shown
