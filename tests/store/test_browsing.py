"""The pods and Services lists, a Service's page, the mTLS and authorization pages, and the
workload page's events and decisions, read back from a written snapshot."""

import pytest

from meshdash.mesh.model import (
    Authorization,
    Edge,
    Event,
    Pod,
    Route,
    Service,
    Snapshot,
    Workload,
)
from meshdash.mesh.query import PodQuery, ServiceQuery, WorkloadQuery
from meshdash.store import lists


def _pod(namespace, name, **fields) -> Pod:
    return Pod(namespace=namespace, name=name, workload_kind="deployment", **fields)


PODS = [
    _pod("shop", "web-1", workload_name="web", node="n1", proxy_version="2.294.0", ready=True),
    _pod(
        "shop",
        "web-2",
        workload_name="web",
        node="n2",
        proxy_version="2.294.0",
        problems=["crashloop", "not-ready"],
        restarts=14,
        labels={"app": "web", "team": "payments"},
    ),
    _pod(
        "shop",
        "api-1",
        workload_name="api",
        node="n1",
        proxy_version="2.230.0",
        problems=["oomkilled"],
        proxy_last_termination="OOMKilled",
        rps=4.0,
        labels={"app": "api", "team": "payments"},
    ),
    _pod("batch", "job-1", workload_name="job", node="n2", problems=["init"], rps=1.0),
]


def _snapshot() -> Snapshot:
    web = Workload("shop", "deployment", "web", meshed_pods=2, labels={"team": "payments"})
    api = Workload("shop", "deployment", "api", meshed_pods=1, labels={"team": "payments"})
    api.labels["tier"] = "backend"
    job = Workload("batch", "deployment", "job", meshed_pods=1)
    plain = Edge("shop", "deployment", "web", "shop", "deployment", "api", rps=3.0)
    plain.dst_service = "api"
    secure = Edge("batch", "deployment", "job", "shop", "deployment", "api", rps=1.0, tls=True)
    secure.dst_service = "api"
    outside = Edge("", "", "", "shop", "deployment", "web", rps=2.0, src_meshed=False)
    return Snapshot(
        window="1m",
        taken_at=1_800_000_000.0,
        workloads=[job, api, web],
        edges=[plain, secure, outside],
        pods=PODS,
        routes=[
            Route("shop", "deployment", "web", "api-reads", service="api.shop", rps=2.0),
            Route("shop", "deployment", "api", "GET /", service="api.shop.svc.cluster.local:80"),
        ],
        services=[
            Service("shop", "api", workloads=["deployment/api"], rps=4.0, health="healthy"),
            Service("shop", "web", workloads=["deployment/web"], rps=2.0, health="critical"),
            Service("batch", "job", health="no-traffic"),
        ],
        authorizations=[
            Authorization("shop", "deployment", "api", "server", "api-http", http_denied_rps=2.0),
            Authorization(
                "shop",
                "deployment",
                "api",
                "server",
                "api-http",
                "authorizationpolicy",
                "api-callers",
                http_allowed_rps=4.0,
            ),
        ],
        events=[
            Event(
                "shop",
                "Pod",
                "web-2",
                "Warning",
                "BackOff",
                last_seen=10.0,
                workload_kind="deployment",
                workload_name="web",
            ),  # noqa: E501
            Event(
                "shop",
                "Deployment",
                "web",
                "Normal",
                "Scaled",
                last_seen=20.0,
                workload_kind="deployment",
                workload_name="web",
            ),  # noqa: E501
        ],
        health_rules={"min_requests": 20.0},
    )


@pytest.fixture
def version(store):
    return store.write(_snapshot())


def _names(page) -> list[str]:
    return [item.name for item in page.items]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        (PodQuery(), ["job-1", "api-1", "web-1", "web-2"]),
        (PodQuery(problem="crashloop"), ["web-2"]),
        (PodQuery(problem="oomkilled"), ["api-1"]),
        (PodQuery(problem="init"), ["job-1"]),
        (PodQuery(node="n1"), ["api-1", "web-1"]),
        (PodQuery(proxy_version="2.230.0"), ["api-1"]),
        (PodQuery(labels=("team=payments",)), ["api-1", "web-2"]),
        (PodQuery(labels=("team=payments", "app=web")), ["web-2"]),
        (PodQuery(namespaces=("batch",)), ["job-1"]),
        (PodQuery(search="WEB"), ["web-1", "web-2"]),
        (PodQuery(sort="restarts", descending=True, per_page=1), ["web-2"]),
        (PodQuery(sort="rps", descending=True), ["api-1", "job-1", "web-1", "web-2"]),
        (PodQuery(problem="crashloop", node="n1"), []),
    ],
)
def test_it_pages_filters_and_sorts_pods(store, version, query, names):
    page = store.pod_page("1m", query, version=version)
    assert _names(page) == names
    assert page.total == (4 if query == PodQuery(sort="restarts", descending=True, per_page=1)
                          else len(names))  # fmt: skip


def test_it_reads_the_second_page_of_a_filtered_pod_view_from_the_cache(store, version):
    query = PodQuery(node="n2", per_page=1)
    first = store.pod_page("1m", query, version=version)
    cold = []
    second = store.pod_page(
        "1m",
        PodQuery(node="n2", per_page=1, page=2),
        version=version,
        on_cold=lambda: cold.append(1),
    )
    assert (_names(first), _names(second), first.total, cold) == (["job-1"], ["web-2"], 2, [])


def test_it_refuses_an_unknown_pod_sort(store, version):
    with pytest.raises(ValueError):
        store.pod_page("1m", PodQuery(sort="bogus"), version=version)


def test_it_pages_services_worst_first_and_by_namespace(store, version):
    assert _names(store.service_page("1m", ServiceQuery(), version=version)) == [
        "web",
        "job",
        "api",
    ]
    page = store.service_page("1m", ServiceQuery(namespaces=("shop",), sort="rps"), version=version)
    assert _names(page) == ["web", "api"]
    page = store.service_page("1m", ServiceQuery(health="healthy"), version=version)
    assert _names(page) == ["api"]


def test_it_reads_a_service_with_its_workloads_callers_and_routes(store, version):
    detail = store.service_detail("1m", "shop", "api", version=version)
    assert [w.name for w in detail.workloads] == ["api"]
    assert [(e.src_name, e.rps) for e in detail.callers] == [("web", 3.0), ("job", 1.0)]
    assert sorted(r.route for r in detail.routes) == ["GET /", "api-reads"]
    assert store.service_detail("1m", "shop", "gone", version=version) is None


def test_it_lists_plain_text_edges_and_unmeshed_clients(store, version):
    posture = store.mtls("1m", version=version)
    assert [(e.src_name, e.dst_name) for e in posture.plaintext_edges] == [("web", "api")]
    assert [(e.src_meshed, e.dst_name) for e in posture.unmeshed_clients] == [(False, "web")]


def test_it_bounds_the_plain_text_edges(monkeypatch):
    monkeypatch.setattr(lists, "MAX_PLAINTEXT_EDGES", 2)
    edges = [
        Edge("a", "deployment", f"c{i}", "a", "deployment", "s", rps=float(i)) for i in range(5)
    ]
    plain, _ = lists.plaintext_edges(edges)
    assert [e.src_name for e in plain] == ["c4", "c3"]


def test_it_reads_the_denials_first(store, version):
    summary = store.authz("1m", version=version)
    assert [(a.server, a.policy, a.http_denied_rps) for a in summary.top_denials] == [
        ("api-http", "", 2.0)
    ]
    assert summary.total == len(summary.by_policy) == 2


def test_a_workload_page_has_its_events_newest_first_and_its_decisions(store, version):
    detail = store.workload_detail("1m", "shop", "deployment", "web", version=version)
    assert [e.reason for e in detail.events] == ["Scaled", "BackOff"]
    detail = store.workload_detail("1m", "shop", "deployment", "api", version=version)
    assert {a.policy for a in detail.authorizations} == {"", "api-callers"}
    assert detail.events == []


def test_it_filters_workloads_by_labels(store, version):
    page = store.workload_page("1m", WorkloadQuery(labels=("team=payments",)), version=version)
    assert sorted(_names(page)) == ["api", "web"]
    both = WorkloadQuery(labels=("team=payments", "tier=backend"))
    assert _names(store.workload_page("1m", both, version=version)) == ["api"]


def test_it_keeps_the_rules_judged_by(store, version):
    assert store.meta("1m", version=version).health_rules == {"min_requests": 20.0}
