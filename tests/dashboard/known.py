"""A known mesh, built by hand, for the dashboard tests: every figure here is what a page must show.

120 generated workloads across three namespaces plus a few named ones with edges, pods and
routes; hostile text (markup in team labels, annotations, identities and pod statuses) wherever
the cluster could put free text.
"""

import time

from django.conf import settings

from meshdash.history import write as history_write
from meshdash.mesh.health import HealthRules, classify, judge_edge
from meshdash.mesh.model import (
    ControlPlane,
    Edge,
    Namespace,
    Pod,
    Route,
    Snapshot,
    Workload,
)
from meshdash.mesh.query import SORT_KEYS
from meshdash.store import SnapshotStore

HOSTILE = '<script>alert("x")</script>'
HOSTILE_ATTR = '"><img src=x onerror=alert(1)>'
NAMESPACES = ("shop", "payments", "legacy")
KIND_CYCLE = ("deployment", "deployment", "statefulset", "deployment", "daemonset")
GENERATED = 120
CP_VERSION = "stable-2.14.10"
OLD_VERSION = "stable-2.13.4"


def _health(w: Workload) -> str:
    return classify(
        HealthRules(),
        meshed_pods=w.meshed_pods,
        rps=w.rps,
        success_rate=w.success_rate,
        latency_ms_p99=w.latency_ms_p99,
    )


def generated_workload(i: int) -> Workload:
    """Workload number ``i``: its figures follow from ``i`` so tests can compute what to expect."""
    meshed = i % 10 != 7  # every tenth (7, 17, ...) has no proxy
    rps = round(i * 1.5, 2) if i % 6 else 0.0  # 0, 6, 12, ... take no traffic
    success = None if rps == 0 else round(1.0 - (i % 9) * 0.01, 4)
    p50 = None if rps == 0 else float(i % 40 + 1)
    w = Workload(
        namespace=NAMESPACES[i % 3],
        kind=KIND_CYCLE[i % 5],
        name=f"svc-{i:03d}",
        meshed_pods=(i % 3 + 1) if meshed else 0,
        total_pods=i % 3 + 1,
        success_rate=success,
        rps=rps,
        latency_ms_p50=p50,
        latency_ms_p95=None if p50 is None else p50 * 3,
        latency_ms_p99=None if p50 is None else p50 * 5,
        tcp_open_connections=float(i % 13),
        team="payments-team" if i % 4 == 0 else "",
    )
    w.health = _health(w)
    return w


def named_workloads() -> list[Workload]:
    frontend = Workload(
        namespace="shop",
        kind="deployment",
        name="frontend",
        meshed_pods=2,
        total_pods=2,
        success_rate=0.999,
        rps=250.0,
        latency_ms_p50=12.0,
        latency_ms_p95=40.0,
        latency_ms_p99=95.0,
        outbound_rps=300.0,
        outbound_success_rate=0.99,
        tcp_open_connections=42.0,
        team=HOSTILE,
        last_rollout=time.time() - 3 * 3600,
        inject_annotation=HOSTILE_ATTR,
    )
    cart = Workload(
        namespace="shop",
        kind="deployment",
        name="cart",
        meshed_pods=1,
        total_pods=1,
        success_rate=0.90,
        rps=120.0,
        latency_ms_p50=8.0,
        latency_ms_p95=20.0,
        latency_ms_p99=50.0,
    )
    ledger = Workload(
        namespace="payments",
        kind="statefulset",
        name="ledger",
        meshed_pods=3,
        total_pods=3,
        success_rate=1.0,
        rps=180.0,
        latency_ms_p50=3.0,
        latency_ms_p95=9.0,
        latency_ms_p99=20.0,
    )
    ingress = Workload(namespace="legacy", kind="deployment", name="ingress", total_pods=1)
    workloads = [frontend, cart, ledger, ingress]
    for w in workloads:
        w.health = _health(w)
    return workloads


def edges() -> list[Edge]:
    """The named workloads' edges, their health judged as the collector judges it."""
    found = [
        Edge(
            "shop",
            "deployment",
            "frontend",
            "shop",
            "deployment",
            "cart",
            rps=120.0,
            success_rate=0.90,
            latency_ms_p99=50.0,
            tls=True,
            client_id=f"frontend.shop.serviceaccount.identity.linkerd.{HOSTILE}",
            server_id="cart.shop.serviceaccount.identity.linkerd.cluster.local",
        ),
        Edge(
            "shop",
            "deployment",
            "frontend",
            "payments",
            "statefulset",
            "ledger",
            rps=180.0,
            success_rate=1.0,
            latency_ms_p99=20.0,
            tls=True,
            client_id="frontend.shop.serviceaccount.identity.linkerd.cluster.local",
            server_id="ledger.payments.serviceaccount.identity.linkerd.cluster.local",
        ),
        Edge(
            "legacy",
            "deployment",
            "ingress",
            "shop",
            "deployment",
            "frontend",
            rps=250.0,
            success_rate=0.999,
            latency_ms_p99=95.0,
            tls=False,
            src_meshed=False,
        ),
    ]
    for edge in found:
        edge.health = judge_edge(HealthRules(), edge)
    return found


def pods(now: float) -> list[Pod]:
    return [
        Pod(
            "shop",
            "frontend-7d9f-abcde",
            "deployment",
            "frontend",
            phase="Running",
            status="Running",
            ready=True,
            restarts=0,
            node="node-1",
            created_at=now - 7200,
            has_proxy=True,
            proxy_version=CP_VERSION,
            proxy_memory_bytes=20 * 2**20,
            proxy_memory_limit_bytes=250 * 2**20,
            proxy_cert_expiry=now + 20 * 3600,
        ),
        Pod(
            "shop",
            "frontend-7d9f-fghij",
            "deployment",
            "frontend",
            phase="Pending",
            status=f"Init:0/1 {HOSTILE}",
            ready=False,
            restarts=3,
            node="node-2",
            created_at=now - 600,
            has_proxy=False,
            inject_annotation=HOSTILE_ATTR,
        ),
        Pod(
            "shop",
            "cart-5c6d-klmno",
            "deployment",
            "cart",
            phase="Running",
            status="Running",
            ready=True,
            has_proxy=True,
            proxy_version=OLD_VERSION,
        ),
    ]


def known_snapshot(
    window: str = "1m", taken_at: float | None = None, errors: dict | None = None
) -> Snapshot:
    now = time.time() if taken_at is None else taken_at
    workloads = [generated_workload(i) for i in range(GENERATED)] + named_workloads()
    namespaces = []
    for name, inject in (("shop", "enabled"), ("payments", "true"), ("legacy", "")):
        members = [w for w in workloads if w.namespace == name]
        namespaces.append(
            Namespace(
                name=name,
                inject_annotation=inject,
                workloads=len(members),
                meshed_pods=sum(w.meshed_pods for w in members),
                total_pods=sum(w.total_pods for w in members),
                rps=sum(w.rps for w in members),
                success_rate=0.99,
                health_counts={"healthy": sum(1 for w in members if w.health == "healthy")},
            )
        )
    return Snapshot(
        window=window,
        taken_at=now,
        collect_seconds=1.25,
        workloads=workloads,
        edges=edges(),
        routes=[
            Route(
                "shop",
                "deployment",
                "frontend",
                route=f"GET /api/{HOSTILE}",
                service="frontend",
                rps=10.0,
                success_rate=1.0,
                latency_ms_p99=15.0,
            )
        ],
        pods=pods(now),
        namespaces=namespaces,
        control_plane=ControlPlane(
            version=CP_VERSION,
            components=[
                {"name": "linkerd-destination", "pods": 1, "ready": 1, "version": CP_VERSION}
            ],
            trust_anchor_not_after=now + 300 * 86400,
            issuer_not_after=now + 5 * 86400,
            data_plane_versions={CP_VERSION: 100, OLD_VERSION: 20},
        ),
        errors=errors or {},
    )


def write_known(
    redis_client, minutes: int = 5, window: str = "1m", *, durable: bool = False, **kwargs
) -> Snapshot:
    """Write ``minutes`` snapshots a minute apart (history for sparklines); return the last.

    ``durable``: record them in the durable history too (meshdash.history, in the database),
    as a collection does, for the workload page's charts."""
    store = SnapshotStore(redis_client, settings.MESHDASH_REDIS_PREFIX, snapshot_ttl_seconds=60)
    now = time.time()
    snapshot = None
    for back in range(minutes - 1, -1, -1):
        snapshot = known_snapshot(window, taken_at=now - back * 60, **kwargs)
        store.write(snapshot)
        if durable:
            history_write.record(snapshot)
    return snapshot


def all_workloads() -> list[Workload]:
    return [generated_workload(i) for i in range(GENERATED)] + named_workloads()


HEALTH_RANK = {"critical": 0, "warning": 1, "not-meshed": 2, "no-traffic": 3, "healthy": 4}


def ident(w) -> str:
    """How pages and the API name a workload: namespace/kind/name."""
    return f"{w.namespace}/{w.kind}/{w.name}"


def expected(sort="health", descending=False, keep=lambda w: True) -> list[str]:
    """The documented order: by the key, None last either way, ties by namespace/kind/name."""
    attr = SORT_KEYS[sort]
    chosen = sorted(
        (w for w in all_workloads() if keep(w)), key=lambda w: (w.namespace, w.kind, w.name)
    )

    def value(w):
        return HEALTH_RANK[w.health] if sort == "health" else getattr(w, attr)

    valued = [w for w in chosen if value(w) is not None]
    valued.sort(key=value, reverse=descending)
    return [ident(w) for w in valued + [w for w in chosen if value(w) is None]]
