import dataclasses
import time

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from meshdash.mesh.model import ControlPlane, Namespace, Snapshot, WorkloadKey
from meshdash.mesh.query import WorkloadQuery
from meshdash.store import SnapshotMeta, SnapshotStore, StoreUnavailable
from tests import servers
from tests.store import synthetic


def test_it_reads_nothing_from_an_empty_store(store):
    assert store.meta("1m") is None
    assert store.current_version("1m") is None
    page = store.workload_page("1m", WorkloadQuery(page=3))
    assert (page.items, page.total, page.page) == ([], 0, 1)
    assert store.workload("1m", "ns", "deployment", "web") is None
    assert store.workload_detail("1m", "ns", "deployment", "web") is None
    assert store.namespaces("1m") == []
    assert store.namespace_names("1m") == []
    assert store.control_plane("1m") is None
    assert store.overview("1m") is None
    assert store.history("ns", "deployment", "web") == []


def test_it_round_trips_meta(store, mesh):
    snap = dataclasses.replace(mesh, errors={"routes": "timeout after 5s"}, query_count=17)
    version = store.write(snap)
    meta = store.meta("1m")
    assert meta == SnapshotMeta(
        version=version,
        window="1m",
        taken_at=snap.taken_at,
        collect_seconds=snap.collect_seconds,
        errors={"routes": "timeout after 5s"},
        prometheus_seconds=snap.prometheus_seconds,
        kubernetes_seconds=snap.kubernetes_seconds,
        query_count=17,
        workload_count=len(snap.workloads),
    )
    assert meta.stale  # partial failure
    assert meta.age_seconds(snap.taken_at + 12.5) == 12.5
    assert store.meta("10m") is None


def test_it_round_trips_every_workload_exactly(store, mesh):
    store.write(mesh)
    for workload in mesh.workloads:
        assert store.workload("1m", workload.namespace, workload.kind, workload.name) == workload
    assert store.workload("1m", "nowhere", "deployment", "api-1") is None


def test_it_reads_several_workloads_in_one_call(store, mesh):
    assert store.workloads("1m", [mesh.workloads[0].key]) == {mesh.workloads[0].key: None}
    store.write(mesh)
    missing = WorkloadKey("nowhere", "deployment", "api-1")
    wanted = [mesh.workloads[5].key, missing, mesh.workloads[2].key]
    assert store.workloads("1m", wanted) == {
        mesh.workloads[5].key: mesh.workloads[5],
        missing: None,
        mesh.workloads[2].key: mesh.workloads[2],
    }
    assert store.workloads("1m", []) == {}


def test_it_keeps_none_and_hostile_text(store):
    snap = synthetic.snapshot(20, seed=3)
    hostile = snap.workloads[0]
    hostile.name = '"><img src=x onerror=alert(1)>\n\\u0000'
    hostile.success_rate = None
    hostile.latency_ms_p99 = None
    hostile.team = "payments:ns:x"
    store.write(snap)
    got = store.workload("1m", hostile.namespace, hostile.kind, hostile.name)
    assert got == hostile
    assert got.success_rate is None and got.latency_ms_p99 is None


def test_it_reads_the_detail_of_a_workload(store, mesh):
    store.write(mesh)
    for workload in mesh.workloads[:40]:
        detail = store.workload_detail("1m", workload.namespace, workload.kind, workload.name)
        assert detail.workload == workload
        key = workload.key
        callers = [e for e in mesh.edges if e.dst == key]
        callees = [e for e in mesh.edges if e.src == key]
        assert sorted(detail.callers, key=repr) == sorted(callers, key=repr)
        assert sorted(detail.callees, key=repr) == sorted(callees, key=repr)
        assert [e.rps for e in detail.callers] == sorted((e.rps for e in callers), reverse=True)
        pods = [
            p
            for p in mesh.pods
            if (p.namespace, p.workload_kind, p.workload_name)
            == (key.namespace, key.kind, key.name)
        ]
        assert detail.pods == sorted(pods, key=lambda p: p.name)
        routes = [
            r
            for r in mesh.routes
            if (r.namespace, r.kind, r.name) == (key.namespace, key.kind, key.name)
        ]
        assert detail.routes == routes


def test_it_round_trips_namespaces_and_control_plane(store, mesh):
    store.write(mesh)
    assert store.namespaces("1m") == sorted(mesh.namespaces, key=lambda n: n.name)
    expected = sorted({n.name for n in mesh.namespaces} | {w.namespace for w in mesh.workloads})
    assert store.namespace_names("1m") == expected
    assert store.control_plane("1m") == mesh.control_plane


def test_it_lists_namespaces_that_only_workloads_name(store):
    snap = synthetic.snapshot(10, seed=2)
    snap.namespaces = [Namespace(name="zz-empty")]
    snap.control_plane = ControlPlane()
    store.write(snap)
    names = store.namespace_names("1m")
    assert "zz-empty" in names
    assert {w.namespace for w in snap.workloads} <= set(names)
    assert store.namespaces("1m") == [Namespace(name="zz-empty")]


def test_it_keeps_windows_apart(store, mesh):
    store.write(mesh)
    other = synthetic.snapshot(30, seed=9, window="10m")
    store.write(other)
    assert store.meta("1m").workload_count == len(mesh.workloads)
    assert store.meta("10m").workload_count == len(other.workloads)
    assert store.workload_page("10m", WorkloadQuery(per_page=200)).total == len(other.workloads)


def test_it_writes_an_empty_snapshot(store, mesh):
    store.write(mesh)
    version = store.write(Snapshot(window="1m", taken_at=mesh.taken_at + 10))
    meta = store.meta("1m")
    assert (meta.version, meta.workload_count) == (version, 0)
    assert store.workload_page("1m", WorkloadQuery()).total == 0
    assert store.overview("1m").totals.workloads == 0


def test_it_marks_failures_and_clears_them_on_success(store, mesh):
    store.record_failure("1m", "no snapshot yet: Prometheus refused the connection", 5.0)
    assert store.meta("1m") is None
    assert store.last_failure("1m") == ("no snapshot yet: Prometheus refused the connection", 5.0)

    store.write(mesh)
    meta = store.meta("1m")
    assert (meta.failure_reason, meta.failed_at, meta.stale) == (None, None, False)
    assert store.last_failure("1m") is None

    store.record_failure("1m", "Prometheus timed out", mesh.taken_at + 30)
    meta = store.meta("1m")
    assert (meta.failure_reason, meta.failed_at) == ("Prometheus timed out", mesh.taken_at + 30)
    assert meta.stale
    assert store.meta("10m") is None  # failures are per window

    store.write(dataclasses.replace(mesh, taken_at=mesh.taken_at + 60))
    assert not store.meta("1m").stale


def test_it_raises_store_unavailable_when_redis_is_down(settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{servers.free_port()}/0"
    store = SnapshotStore.from_settings()
    started = time.monotonic()
    for read in (
        lambda: store.meta("1m"),
        lambda: store.workload_page("1m", WorkloadQuery()),
        lambda: store.workload("1m", "a", "deployment", "b"),
        lambda: store.overview("1m"),
        lambda: store.history("a", "deployment", "b"),
        lambda: store.try_lock("1m", 5),
        lambda: store.write(synthetic.snapshot(3)),
        lambda: store.record_failure("1m", "x", 1.0),
    ):
        with pytest.raises(StoreUnavailable):
            read()
    assert time.monotonic() - started < 8  # each read gives up quickly


def test_it_recovers_after_a_redis_restart(tmp_path, mesh):
    proc, port = servers.start_redis(tmp_path / "one")
    client = redis.Redis(port=port, retry=Retry(NoBackoff(), 0))
    store = SnapshotStore(client, snapshot_ttl_seconds=60)
    try:
        store.write(mesh)
        assert store.meta("1m") is not None
        servers.stop(proc)
        with pytest.raises(StoreUnavailable):
            store.meta("1m")
        proc, _ = servers.start_redis(tmp_path / "two", port)
        # A fresh Redis lost the data and the loaded scripts; the store copes with both.
        assert store.meta("1m") is None
        assert store.workload_page("1m", WorkloadQuery(search="api")).total == 0
        store.write(mesh)
        assert store.workload_page("1m", WorkloadQuery(search="api")).total > 0
    finally:
        servers.stop(proc)
        client.close()


def test_it_builds_from_settings(redis_client, settings):
    settings.MESHDASH_REDIS_PREFIX = "fromsettings"
    store = SnapshotStore.from_settings()
    store.write(synthetic.snapshot(5))
    assert redis_client.exists("fromsettings:1m:current")
    assert SnapshotStore.from_settings().client is store.client  # one pool per process
    assert SnapshotStore.from_settings() is store  # one store per configuration
    settings.MESHDASH_SNAPSHOT_TTL_SECONDS = 77
    other = SnapshotStore.from_settings()
    assert other is not store and other.snapshot_ttl_ms == 77_000


def test_it_keeps_the_checks_findings_with_their_snapshot(store, mesh):
    from meshdash.mesh.checks import CRITICAL, Evidence, Finding, Ref

    finding = Finding(
        "certificates.issuer",
        CRITICAL,
        (Ref("linkerd", "namespace", "linkerd"),),
        "identity issuer expired 6 min ago",
        evidence=(Evidence("expired", "6 min ago", "secret linkerd/linkerd-identity-issuer"),),
        since=mesh.taken_at - 60,
        fix=("linkerd upgrade --identity-issuer-certificate-file=issuer.crt",),
        runbook="Rotate the issuer.",
    )
    assert store.findings("1m") is None  # no snapshot
    store.write(mesh)
    assert store.findings("1m") is None  # a collection that did not run the checks
    first = store.write(mesh, findings=[finding])
    assert store.findings("1m") == [finding]
    store.write(mesh, findings=[])
    assert store.findings("1m") == []
    assert store.findings("1m", version=first) == [finding]
