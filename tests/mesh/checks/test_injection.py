import pytest

from meshdash.mesh.checks import CRITICAL, WARNING, CheckInputs
from meshdash.mesh.checks.injection import (
    check_annotation_values,
    check_injection_events,
    check_misplaced_annotation,
    check_missing_proxy,
    check_stuck_init,
)
from meshdash.mesh.model import Event, WorkloadKey

from .helpers import DAY, NOW, ctx, namespace, pod, snapshot, workload


@pytest.mark.parametrize(
    "value, bad",
    [
        ("enabled", False),
        ("disabled", False),
        ("ingress", False),
        ("", False),
        ("true", True),
        ("Enabled", True),
        ("yes", True),
    ],
)
def test_annotation_values_everywhere(value, bad):
    snap = snapshot(
        workloads=[workload(inject_annotation=value)], namespaces=[namespace(inject=value)]
    )
    inputs = CheckInputs(workload_metadata_inject={WorkloadKey("shop", "deployment", "web"): value})
    found = check_annotation_values(ctx(snap, inputs))
    assert len(found) == (3 if bad else 0)
    if bad:
        assert {f.subject[0].kind for f in found} == {"namespace", "deployment"}
        assert all(f.severity == WARNING for f in found)
        assert any("metadata of deployment" in f.summary for f in found)


def test_annotation_on_workload_metadata_not_template():
    key = WorkloadKey("shop", "deployment", "web")
    snap = snapshot(workloads=[workload(total_pods=2)])
    (found,) = check_misplaced_annotation(
        ctx(snap, CheckInputs(workload_metadata_inject={key: "enabled"}))
    )
    assert found.subject[0].name == "web"
    assert "spec" in found.fix[0] and "linkerd.io/inject-" in found.fix[1]
    # On both: the template one counts.
    both = snapshot(workloads=[workload(inject_annotation="enabled")])
    assert (
        check_misplaced_annotation(
            ctx(both, CheckInputs(workload_metadata_inject={key: "enabled"}))
        )
        == []
    )


def unmeshed(name="web-1", **fields):
    return pod(
        name, has_proxy=False, proxy_version="", namespace_inject_annotation="enabled", **fields
    )


def test_pods_without_proxy_in_injected_namespace():
    snap = snapshot([unmeshed(), unmeshed("web-2"), pod("web-3")], namespaces=[namespace()])
    (found,) = check_missing_proxy(ctx(snap))
    assert found.severity == WARNING and found.summary.startswith("2 pod(s) of web")


def test_opt_outs_finished_jobs_and_other_namespaces_do_not_count():
    pods = [
        unmeshed("opt-1", workload="opt", inject_annotation="disabled"),
        unmeshed("job-1", kind="job", workload="migrate", phase="Succeeded", status="Completed"),
        unmeshed("job-2", kind="job", workload="migrate", phase="Failed"),
        pod("plain-1", namespace="plain", has_proxy=False, namespace_inject_annotation=""),
    ]
    snap = snapshot(pods, namespaces=[namespace(), namespace("plain", inject="")])
    # Scaled to zero: the workload has no pods at all.
    snap.workloads = [workload("idle", total_pods=0)]
    assert check_missing_proxy(ctx(snap)) == []


def test_pod_template_enabled_outside_injected_namespace():
    p = pod("web-1", namespace="plain", has_proxy=False, inject_annotation="enabled")
    (found,) = check_missing_proxy(ctx(snapshot([p], namespaces=[namespace("plain", inject="")])))
    assert "no proxy" in found.summary


def test_pods_created_before_namespace_annotated():
    inputs = CheckInputs(namespace_annotated_at={"shop": NOW - DAY})
    pods = [
        unmeshed("old-1", workload="old", created_at=NOW - 2 * DAY),
        unmeshed("new-1", workload="new", created_at=NOW - 60),
    ]
    found = {
        f.subject[0].name: f
        for f in check_missing_proxy(ctx(snapshot(pods, namespaces=[namespace()]), inputs))
    }
    assert "not restarted since namespace shop was annotated" in found["old"].summary
    assert found["old"].fix == ("kubectl -n shop rollout restart deploy/old",)
    assert "no proxy in an injected namespace" in found["new"].summary


@pytest.mark.parametrize("minutes, stuck", [(4.9, False), (5, False), (5.1, True), (30, True)])
def test_stuck_init_threshold(minutes, stuck):
    p = pod(
        status="Init:0/1",
        init_waiting="linkerd-init",
        ready=False,
        phase="Pending",
        created_at=NOW - minutes * 60,
    )
    found = check_stuck_init(ctx(snapshot([p])))
    assert bool(found) == stuck
    if found:
        assert "kubectl -n shop logs web-1 -c linkerd-init" in found[0].fix


def test_stuck_init_threshold_is_a_setting():
    p = pod(status="Init:0/1", created_at=NOW - 3 * 60)
    assert check_stuck_init(ctx(snapshot([p]), stuck_init_minutes=2))


def event(reason, message, **fields):
    values = dict(
        object_kind="ReplicaSet",
        object_name="web-abc",
        type="Warning",
        workload_kind="deployment",
        workload_name="web",
        count=3,
        last_seen=NOW,
    )
    values.update(fields)
    return Event("shop", reason=reason, message=message, **values)


def test_injection_events():
    events = [
        event(
            "FailedCreate",
            'Error creating: admission webhook "validation.gatekeeper.sh" denied the request: '
            "NET_ADMIN",
        ),
        event("FailedCreate", "Error creating: pods is forbidden: exceeded quota"),
        event(
            "InjectionSkipped",
            "hostNetwork is enabled",
            object_kind="Pod",
            object_name="api-1",
            workload_name="api",
        ),
        event("Scheduled", "assigned"),
    ]
    found = {f.subject[0].name: f for f in check_injection_events(ctx(snapshot(events=events)))}
    assert set(found) == {"web", "api"}
    assert found["web"].severity == CRITICAL and "denies" in found["web"].summary
    assert found["api"].severity == WARNING and "skipped" in found["api"].summary
    (count,) = [e for e in found["web"].evidence if e.label == "events"]
    assert count.value == 3


def test_a_workload_both_denied_and_skipped_is_one_finding():
    events = [
        event("InjectionSkipped", "hostNetwork is enabled", object_kind="Pod", object_name="web-1"),
        event(
            "FailedCreate",
            'Error creating: admission webhook "validation.gatekeeper.sh" denied the request',
        ),
    ]
    (found,) = check_injection_events(ctx(snapshot(events=events)))
    assert found.severity == CRITICAL
    assert "denies" in found.summary and "skipped" in found.summary
    assert [e.label for e in found.evidence] == ["FailedCreate", "InjectionSkipped", "events"]
    assert len({f.key for f in check_injection_events(ctx(snapshot(events=events)))}) == 1
