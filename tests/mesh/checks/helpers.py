"""Hand-made snapshots for the checks' tests."""

from meshdash.mesh.checks import CheckInputs, CheckThresholds, Context
from meshdash.mesh.model import ControlPlane, Namespace, Pod, Snapshot, Workload

NOW = 1_800_000_000.0
DAY = 86400.0
HOUR = 3600.0
MIB = 2**20


def pod(name="web-1", namespace="shop", workload="web", kind="deployment", **fields):
    values = dict(
        workload_kind=kind,
        workload_name=workload,
        phase="Running",
        status="Running",
        ready=True,
        has_proxy=True,
        proxy_version="edge-25.4.4",
        created_at=NOW - DAY,
    )
    values.update(fields)
    return Pod(namespace, name, **values)


def workload(name="web", namespace="shop", kind="deployment", **fields):
    return Workload(namespace, kind, name, **fields)


def plane(**fields):
    values = dict(
        version="edge-25.4.4",
        components=[
            {"name": "destination", "pods": 1, "ready": 1, "version": "edge-25.4.4"},
            {"name": "identity", "pods": 1, "ready": 1, "version": "edge-25.4.4"},
        ],
        trust_anchor_not_after=NOW + 365 * DAY,
        issuer_not_after=NOW + 300 * DAY,
    )
    values.update(fields)
    return ControlPlane(**values)


def snapshot(pods=(), workloads=(), namespaces=(), control_plane=None, **fields):
    return Snapshot(
        window="1m",
        taken_at=NOW,
        pods=list(pods),
        workloads=list(workloads),
        namespaces=list(namespaces),
        control_plane=control_plane or plane(),
        **fields,
    )


def ctx(snap=None, inputs=None, history=None, **thresholds):
    return Context(
        snap or snapshot(),
        CheckThresholds(**thresholds),
        inputs or CheckInputs(),
        history,
    )


def namespace(name="shop", inject="enabled"):
    return Namespace(name, inject_annotation=inject)
