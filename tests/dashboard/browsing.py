"""A small mesh with what the browsing pages show: pods in trouble (OOMKilled proxy, stuck init,
CrashLoopBackOff), Services, plain-text edges, an unmeshed client, denials and events."""

import time

from django.conf import settings

from meshdash.mesh.model import (
    Authorization,
    Edge,
    Event,
    Namespace,
    Pod,
    Service,
    Snapshot,
    Workload,
)
from meshdash.mesh.pods import pod_problems
from meshdash.store import SnapshotStore

HOSTILE = '<script>alert("x")</script>'
NOW = time.time()


def _pod(name, **kwargs) -> Pod:
    pod = Pod(
        namespace=kwargs.pop("namespace", "payments"),
        name=name,
        workload_kind="deployment",
        workload_name=kwargs.pop("workload", "api"),
        phase="Running",
        status="Running",
        ready=True,
        node="node-a",
        created_at=NOW - 7200,
        has_proxy=True,
        proxy_version="stable-2.14.10",
        proxy_memory_bytes=20 * 2**20,
        proxy_memory_limit_bytes=64 * 2**20,
        proxy_cert_expiry=NOW + 20 * 3600,
        proxy_cert_refreshed_at=NOW - 4 * 3600,
        labels={"team": "payments", "app": "api"},
        rps=5.0,
        success_rate=1.0,
        latency_ms_p99=12.0,
    )
    for key, value in kwargs.items():
        setattr(pod, key, value)
    pod.problems = pod_problems(pod)
    return pod


def pods() -> list[Pod]:
    return [
        _pod("api-healthy-1"),
        _pod(
            "api-oom-2",
            proxy_last_termination="OOMKilled",
            proxy_restarts=3,
            restarts=3,
            proxy_memory_bytes=63 * 2**20,
        ),
        _pod(
            "api-init-3",
            phase="Pending",
            status="Init:0/1",
            ready=False,
            init_waiting="linkerd-init",
            has_proxy=True,
            proxy_cert_expiry=None,
            proxy_cert_refreshed_at=None,
        ),
        _pod(
            "web-crash-1",
            namespace="shop",
            workload="web",
            status="CrashLoopBackOff",
            waiting_reason="CrashLoopBackOff",
            ready=False,
            restarts=12,
            app_last_termination="Error",
            app_last_termination_container="web",
            node="node-b",
            proxy_version="stable-2.13.4",
            labels={"team": "shop"},
        ),
        _pod(
            "web-expired-2",
            namespace="shop",
            workload="web",
            proxy_cert_expiry=NOW - 360,
            proxy_cert_refreshed_at=NOW - 86400 - 360,
            labels={"team": "shop"},
        ),
        _pod(
            HOSTILE.lower()[:40].replace(" ", "-"), namespace="shop", workload="web", status=HOSTILE
        ),
    ]


def workloads() -> list[Workload]:
    return [
        Workload(
            "payments",
            "deployment",
            "api",
            3,
            3,
            0.987,
            10.0,
            5,
            9,
            20,
            health="warning",
            health_reason="success 98.7 % is below 99 %",
            mtls_share=1.0,
            authz_denied_rps=2.5,
            labels={"team": "payments"},
            team="payments",
        ),
        Workload(
            "shop",
            "deployment",
            "web",
            3,
            3,
            1.0,
            4.0,
            5,
            9,
            20,
            health="healthy",
            health_reason="success 100 % (at least 99 %)",
            mtls_share=0.5,
            labels={"team": "shop"},
            team="shop",
        ),
        Workload("shop", "deployment", "legacy-client", 0, 1, None, 0.0, health="not-meshed"),
    ]


def services() -> list[Service]:
    return [
        Service(
            "payments",
            "api",
            cluster_ip="10.0.0.1",
            ports=["http 8080/TCP"],
            selector={"app": "api"},
            workloads=["deployment/api"],
            meshed=True,
            rps=9.5,
            success_rate=0.987,
            latency_ms_p99=20,
            mtls_share=1.0,
            callers=1,
            health="warning",
            health_reason="success 98.7 % is below 99 %",
        ),
        Service(
            "shop",
            "web",
            ports=["http 80/TCP"],
            workloads=["deployment/web"],
            meshed=True,
            rps=4.0,
            success_rate=1.0,
            mtls_share=0.5,
            callers=2,
            health="healthy",
        ),
    ]


def edges() -> list[Edge]:
    return [
        Edge(
            "shop",
            "deployment",
            "web",
            "payments",
            "deployment",
            "api",
            rps=9.5,
            success_rate=0.987,
            tls=True,
            dst_service="api",
            health="warning",
        ),
        Edge(
            "payments",
            "deployment",
            "api",
            "shop",
            "deployment",
            "web",
            rps=2.0,
            success_rate=1.0,
            tls=False,
            dst_service="web",
            health="healthy",
        ),
        Edge(
            "shop",
            "deployment",
            "legacy-client",
            "shop",
            "deployment",
            "web",
            rps=2.0,
            success_rate=1.0,
            tls=False,
            src_meshed=False,
            dst_service="web",
        ),
    ]


def authorizations() -> list[Authorization]:
    return [
        Authorization(
            "payments",
            "deployment",
            "api",
            "server",
            "api-http",
            "authorizationpolicy",
            "web-may-call",
            http_allowed_rps=9.5,
        ),
        Authorization(
            "payments", "deployment", "api", "server", "api-http", "", "", http_denied_rps=2.5
        ),
        Authorization(
            "shop",
            "deployment",
            "web",
            "default",
            "all-unauthenticated",
            "default",
            "all-unauthenticated",
            http_allowed_rps=4.0,
            tcp_denied_per_second=0.5,
        ),
    ]


def events() -> list[Event]:
    return [
        Event(
            "payments",
            "Pod",
            "api-oom-2",
            "Warning",
            "OOMKilling",
            "Memory cgroup out of memory: Killed process (linkerd2-proxy)",
            3,
            NOW - 600,
            NOW - 60,
            "kubelet",
            "deployment",
            "api",
        ),
        Event(
            "payments",
            "ReplicaSet",
            "api-5d9",
            "Warning",
            "FailedCreate",
            HOSTILE,
            1,
            NOW - 300,
            NOW - 300,
            "replicaset-controller",
            "deployment",
            "api",
        ),
    ]


def browsing_snapshot(window: str = "1m") -> Snapshot:
    return Snapshot(
        window=window,
        taken_at=NOW,
        workloads=workloads(),
        edges=edges(),
        pods=pods(),
        namespaces=[
            Namespace(
                "payments",
                workloads=1,
                meshed_pods=3,
                total_pods=3,
                mtls_share=1.0,
                authz_denied_rps=2.5,
            ),
            Namespace("shop", workloads=2, meshed_pods=3, total_pods=4, mtls_share=0.5),
        ],
        services=services(),
        authorizations=authorizations(),
        events=events(),
        health_rules={"warning_success": 0.99, "critical_success": 0.95, "min_requests": 20},
    )


def write_browsing(redis_client, window: str = "1m") -> Snapshot:
    store = SnapshotStore(redis_client, settings.MESHDASH_REDIS_PREFIX, snapshot_ttl_seconds=60)
    snapshot = browsing_snapshot(window)
    store.write(snapshot)
    return snapshot
