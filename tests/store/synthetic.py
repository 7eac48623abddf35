"""Deterministic synthetic snapshots for the store tests: random but reproducible meshes with
ties, None values and awkward names, so sorting and filtering have something to get wrong."""

import random

from meshdash.mesh.health import HEALTH_STATES
from meshdash.mesh.model import (
    ControlPlane,
    Edge,
    Namespace,
    Pod,
    Route,
    Snapshot,
    Workload,
)

AWKWARD_NAMES = ["api.*[(", "<script>alert(1)</script>", "Web-Frontend", "ünïcode-svc", "a\tb"]


def workload(rng: random.Random, namespace: str, kind: str, name: str) -> Workload:
    total = rng.randint(0, 5)
    meshed = rng.randint(0, total)
    traffic = rng.random() > 0.2
    rps = round(rng.choice([0.0, 1.0, 2.5, rng.uniform(0, 500)]), 3) if traffic else 0.0

    def maybe(value):
        return value if traffic and rng.random() > 0.1 else None

    return Workload(
        namespace=namespace,
        kind=kind,
        name=name,
        meshed_pods=meshed,
        total_pods=total,
        success_rate=maybe(rng.choice([1.0, 0.99, rng.random()])),
        rps=rps,
        latency_ms_p50=maybe(rng.choice([5.0, rng.uniform(1, 50)])),
        latency_ms_p95=maybe(rng.uniform(10, 500)),
        latency_ms_p99=maybe(rng.choice([100.0, rng.uniform(50, 5000)])),
        outbound_rps=rng.uniform(0, 100),
        outbound_success_rate=maybe(rng.random()),
        tcp_open_connections=float(rng.randint(0, 20)),
        tcp_read_bytes_per_second=rng.uniform(0, 1e6),
        tcp_write_bytes_per_second=rng.uniform(0, 1e6),
        team=rng.choice(["", "payments", "search", "identity"]),
        last_rollout=rng.choice([None, 1_700_000_000.0 + rng.randint(0, 10**6)]),
        inject_annotation=rng.choice(["", "enabled", "disabled"]),
        health=rng.choice(HEALTH_STATES),
    )


def snapshot(
    workloads: int = 200,
    *,
    seed: int = 1,
    window: str = "1m",
    taken_at: float = 1_700_000_000.0,
    pods_per_workload: int = 2,
    edges_per_workload: int = 2,
    awkward: bool = True,
    unique_names: bool = False,
) -> Snapshot:
    rng = random.Random(seed)
    namespaces = [f"ns-{i}" for i in range(max(1, workloads // 40))]
    kinds = ["deployment", "statefulset", "daemonset"]
    items = []
    for i in range(workloads):
        # Repeated names across namespaces and kinds give the name sort ties to break.
        name = (
            rng.choice(["api", "web", "db", "cache", "worker"])
            + f"-{i if unique_names else i % 97}"
        )
        if awkward and i < len(AWKWARD_NAMES):
            name = AWKWARD_NAMES[i]
        items.append(workload(rng, rng.choice(namespaces), rng.choice(kinds), name))
    # Namespace, kind and name together identify a workload.
    unique = {w.key: w for w in items}
    items = list(unique.values())
    rng.shuffle(items)

    edges = []
    for src in items:
        for dst in rng.sample(items, min(edges_per_workload, len(items))):
            edges.append(
                Edge(
                    src.namespace,
                    src.kind,
                    src.name,
                    dst.namespace,
                    dst.kind,
                    dst.name,
                    rps=rng.uniform(0, 50),
                    success_rate=rng.choice([None, rng.random()]),
                    latency_ms_p99=rng.uniform(1, 900),
                    tls=rng.random() > 0.3,
                    client_id=f"{src.name}.{src.namespace}.serviceaccount.identity.linkerd.cluster.local",
                    server_id=f"{dst.name}.{dst.namespace}.serviceaccount.identity.linkerd.cluster.local",
                )
            )
    pods = []
    routes = []
    for w in items:
        for p in range(pods_per_workload):
            pods.append(
                Pod(
                    namespace=w.namespace,
                    name=f"{w.name}-5d8f9c7b6-{p:05d}",
                    workload_kind=w.kind,
                    workload_name=w.name,
                    phase="Running",
                    status="Running",
                    ready=True,
                    restarts=rng.randint(0, 3),
                    node=f"node-{rng.randint(1, 20)}",
                    created_at=1_699_000_000.0,
                    has_proxy=True,
                    proxy_version="stable-2.14.10",
                    proxy_memory_bytes=float(rng.randint(10, 60) * 2**20),
                    proxy_memory_limit_bytes=float(250 * 2**20),
                    proxy_cert_expiry=1_700_086_400.0,
                )
            )
        if rng.random() < 0.1:
            routes.append(Route(w.namespace, w.kind, w.name, "GET /healthz", "svc", 1.0, 1.0, 2.0))
    namespace_rows = [
        Namespace(
            name=n, inject_annotation="enabled", workloads=sum(w.namespace == n for w in items)
        )
        for n in namespaces
    ]
    return Snapshot(
        window=window,
        taken_at=taken_at,
        collect_seconds=1.5,
        workloads=items,
        edges=edges,
        routes=routes,
        pods=pods,
        namespaces=namespace_rows,
        control_plane=ControlPlane(
            version="stable-2.14.10",
            components=[
                {"name": "destination", "pods": 1, "ready": 1, "version": "stable-2.14.10"}
            ],
            trust_anchor_not_after=1_800_000_000.0,
            issuer_not_after=1_700_500_000.0,
            data_plane_versions={"stable-2.14.10": len(pods)},
        ),
        errors={},
        prometheus_seconds=0.8,
        kubernetes_seconds=0.4,
        query_count=12,
    )
