"""Sources that fail: slow, erroring or nonsense-speaking Prometheus and API servers."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from meshdash.collectors.collect import collect
from meshdash.collectors.kubernetes import KubernetesError
from meshdash.collectors.prometheus import PrometheusClient, PrometheusError
from meshdash.mesh.health import HealthRules
from tests import servers
from tests.collectors import kube_server
from tests.collectors.conftest import kube_client_for


class _Answer(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        delay, status, body = self.server.answer
        time.sleep(delay)  # the slowness under test, not a wait for something
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def fake_prometheus():
    """An HTTP server answering every query with ``server.answer = (delay, status, body)``."""
    server = ThreadingHTTPServer(("127.0.0.1", servers.free_port()), _Answer)
    server.daemon_threads = True
    server.answer = (0, 200, b"{}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def _vector(*values):
    result = [
        {"metric": {"namespace": "shop", "deployment": "web"}, "value": [1, v]} for v in values
    ]
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}})


@pytest.mark.parametrize(
    "status, body, reason",
    [
        (500, b"oops", "answered an error"),
        (200, b"<html>", "not JSON"),
        (200, b'{"data": {"result": {"a": 1}}}', "not a vector"),
        (200, _vector("NaN").encode(), "nonsense (NaN)"),
        (200, _vector("-3").encode(), "nonsense (-3)"),
        (
            200,
            json.dumps({"data": {"result": [{"metric": 1, "value": 2}]}}).encode(),
            "not a vector",
        ),
    ],
)
def test_it_turns_bad_answers_into_reasons(fake_prometheus, status, body, reason):
    fake_prometheus.answer = (0, status, body)
    results, errors = PrometheusClient(fake_prometheus.url).query_many({"inbound": ["up"]})
    assert reason in errors["inbound"]
    assert "inbound" not in results


def test_it_reads_a_good_answer(fake_prometheus):
    fake_prometheus.answer = (0, 200, _vector("1.5", "0").encode())
    samples = PrometheusClient(fake_prometheus.url).query("up")
    assert [s.value for s in samples] == [1.5, 0.0]


def test_it_gives_up_on_a_slow_prometheus_at_the_deadline(fake_prometheus, kube):
    # The deadline leaves the cluster part time even on a loaded machine; Prometheus answers
    # long after it.
    deadline, slow = 3.0, 10.0
    fake_prometheus.answer = (slow, 200, _vector("1").encode())
    client = PrometheusClient(fake_prometheus.url, max_concurrency=2)
    started = time.monotonic()
    snapshot = collect(
        "1m", prometheus=client, kube=kube, rules=HealthRules(), deadline=started + deadline
    )
    assert time.monotonic() - started < deadline + (slow - deadline) / 2  # not at the answer
    assert snapshot.errors["inbound"] in (
        "Prometheus timed out",
        "Prometheus did not answer before the collection deadline",
    )
    # The cluster part, fast, is kept.
    assert any(w.name == "web" and w.total_pods == 2 for w in snapshot.workloads)


def test_it_names_a_query_that_outlives_its_timeout_a_timeout(fake_prometheus):
    fake_prometheus.answer = (2, 200, _vector("1").encode())
    results, errors = PrometheusClient(fake_prometheus.url, timeout=0.5).query_many(
        {"inbound": ["up"]}
    )
    assert errors == {"inbound": "Prometheus timed out"}


def test_it_does_not_query_past_the_deadline(fake_prometheus):
    client = PrometheusClient(fake_prometheus.url)
    with pytest.raises(PrometheusError, match="deadline"):
        client.query("up", timeout=0)
    assert client.query_count == 0


def test_it_pages_through_lists(kube_api):
    kube = kube_client_for(kube_api, page_size=3)
    pods = kube.list(kube.core.list_pod_for_all_namespaces)
    assert len(pods) == len(kube_api.objects["pods"])
    assert len({(p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods}) == len(pods)
    pages = [q for path, q in kube_api.requests if path == "/api/v1/pods"]
    assert len(pages) == -(-len(pods) // 3)
    assert all(q["limit"] == ["3"] for q in pages)
    # The first page without a continue token, each later one with the token of the page before.
    tokens = [q.get("continue") for q in pages]
    assert tokens[0] is None and all(len(t) == 1 for t in tokens[1:])
    assert len({t[0] for t in tokens[1:]}) == len(pages) - 1


def test_it_treats_a_missing_batch_api_as_no_jobs(kube_api, kube):
    del kube_api.objects["jobs"]
    del kube_api.objects["cronjobs"]
    raw = kube.fetch()
    assert raw.errors == {}
    assert raw.data["jobs"] == [] and raw.data["cronjobs"] == []


@pytest.mark.parametrize("fault, reason", [(500, "HTTP 500"), ("garbage", "not JSON")])
def test_it_records_a_failing_list_and_keeps_the_others(kube_api, kube, fault, reason):
    kube_api.faults["/apis/apps/v1/statefulsets"] = fault
    raw = kube.fetch()
    assert reason in raw.errors["statefulsets"]
    assert set(raw.errors) == {"statefulsets"}
    assert raw.data["pods"]


def test_it_names_an_unreachable_api(tmp_path):
    server = kube_server.start()
    server.stop()
    server.write_kubeconfig(tmp_path / "kubeconfig")
    kube = kube_client_for(server)
    with pytest.raises(KubernetesError, match="unreachable"):
        kube.list(kube.core.list_namespace)
