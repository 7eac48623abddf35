import dataclasses
import inspect

from meshdash.mesh.checks import (
    CHECKS,
    CRITICAL,
    INFO,
    WARNING,
    CheckInputs,
    CheckThresholds,
    Finding,
    Ref,
    carry_since,
    run_checks,
    worst_first,
)
from meshdash.mesh.checks.findings import bounded

from .helpers import DAY, NOW, namespace, plane, pod, snapshot, workload


def f(check, severity, name="web", order=0.0, since=None):
    return Finding(
        check,
        severity,
        (Ref("shop", "deployment", name),),
        f"{check} {name}",
        since=since,
        order=order,
    )


def test_worst_first():
    found = worst_first(
        [f("b", INFO), f("a", WARNING, order=2), f("z", CRITICAL), f("a", WARNING, "x", order=1)]
    )
    assert [(x.severity, x.check, x.subject[0].name) for x in found] == [
        (CRITICAL, "z", "web"),
        (WARNING, "a", "x"),
        (WARNING, "a", "web"),
        (INFO, "b", "web"),
    ]


def test_carry_since_keyed_by_check_and_subject():
    previous = [f("a", WARNING, since=NOW - 3600), f("b", WARNING, since=NOW - 60)]
    new = [
        f("a", CRITICAL, since=NOW),
        f("a", WARNING, "other", since=NOW),
        f("c", INFO, since=NOW),
    ]
    got = {(x.check, x.subject[0].name): x.since for x in carry_since(previous, new)}
    assert got == {("a", "web"): NOW - 3600, ("a", "other"): NOW, ("c", "web"): NOW}


def test_bounded_keeps_the_worst_and_counts_the_rest():
    many = [f("a", WARNING, f"w{i}", order=i) for i in range(10)] + [f("a", CRITICAL, "worst")]
    kept = bounded(many, 3)
    assert [x.subject[0].name for x in kept] == ["worst", "w0", "w1"]
    assert [x.more for x in kept] == [0, 0, 8]
    assert bounded(many, 0) == worst_first(many)
    assert all(x.more == 0 for x in bounded(many, 11))


def messy_snapshot(taken_at=NOW):
    pods = [pod(f"web-{i}", workload=f"web{i}", proxy_version="edge-24.5.1") for i in range(5)]
    pods.append(pod("api-1", workload="api", proxy_version="edge-26.1.1"))
    snap = snapshot(
        pods,
        workloads=[workload("web0", inject_annotation="true")],
        namespaces=[namespace("shop", inject="true")],
        control_plane=plane(issuer_not_after=NOW + 30 * DAY),
    )
    snap.taken_at = taken_at
    return snap


def test_run_checks_worst_first_bounded_and_dated():
    found = run_checks(messy_snapshot(), CheckThresholds(max_findings_per_check=3))
    assert found == worst_first(found)
    assert found[0].severity == CRITICAL and found[0].check == "versions.proxy"
    old = [x for x in found if x.check == "versions.proxy" and x.severity == WARNING]
    assert len(old) == 2 and old[-1].more == 3  # 1 critical + 2 kept of 5, "and 3 more"
    assert {x.check for x in found} >= {"certificates.issuer", "injection.annotation"}
    assert all(x.since == NOW for x in found)


def test_run_checks_carries_since_across_collections():
    first = run_checks(messy_snapshot())
    second = run_checks(messy_snapshot(NOW + 60), previous=first)
    assert all(x.since == NOW for x in second)
    third = run_checks(messy_snapshot(NOW + 120), previous=[])
    assert all(x.since == NOW + 120 for x in third)


def test_a_clean_mesh_has_no_findings():
    snap = snapshot(
        [pod(proxy_cert_expiry=NOW + 20 * 3600, proxy_cert_refreshed_at=NOW - 4 * 3600)],
        workloads=[workload(inject_annotation="enabled")],
        namespaces=[namespace()],
    )
    assert run_checks(snap, inputs=CheckInputs()) == []


def test_every_check_documents_what_why_and_fix():
    for check_id, check in CHECKS.items():
        doc = inspect.getdoc(check)
        assert f"(`{check_id}`)" in doc, check_id
        assert "Detects" in doc and "Why it matters" in doc and "Fix" in doc, check_id


def test_findings_are_plain_data():
    (x,) = run_checks(snapshot(control_plane=plane(issuer_not_after=NOW - 60)))
    data = dataclasses.asdict(x)
    assert data["check"] == "certificates.issuer" and data["severity"] == CRITICAL
    assert "expired 1 min ago" in data["summary"]
    assert data["subject"] == (
        {"namespace": "linkerd", "kind": "control-plane", "name": "linkerd-identity-issuer"},
    )


def test_checks_import_no_django_or_redis():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[3] / "meshdash" / "mesh" / "checks"
    for path in root.glob("*.py"):
        text = path.read_text()
        assert not re.search(
            r"^\s*(from|import) (django|redis|meshdash\.(store|collectors|dashboard|history))\b",
            text,
            re.M,
        ), path


def test_findings_round_trip_through_json():
    import json

    from meshdash.mesh.checks import from_dict, to_dict

    for x in run_checks(messy_snapshot(), CheckThresholds(max_findings_per_check=2)):
        assert from_dict(json.loads(json.dumps(to_dict(x)))) == x
