import pytest

from meshdash.mesh.checks import CRITICAL, WARNING, CheckInputs, ControlPlaneClient
from meshdash.mesh.checks.control_plane import check_components, check_control_plane_calls

from .helpers import ctx, plane, pod, snapshot


def component_ctx(ready=1, total=1, pods=()):
    cp = plane(
        components=[
            {"name": "destination", "pods": total, "ready": ready, "version": "edge-25.4.4"}
        ]
    )
    return ctx(snapshot(pods, control_plane=cp))


def cp_pod(name="linkerd-destination-1", **fields):
    return pod(name, namespace="linkerd", workload="linkerd-destination", **fields)


@pytest.mark.parametrize(
    "ready, total, severity", [(2, 2, None), (1, 2, WARNING), (0, 2, CRITICAL)]
)
def test_component_readiness(ready, total, severity):
    found = check_components(component_ctx(ready, total))
    assert [f.severity for f in found] == ([severity] if severity else [])


@pytest.mark.parametrize("restarts, warns", [(2, False), (3, True), (4, True)])
def test_component_restarts(restarts, warns):
    found = check_components(component_ctx(pods=[cp_pod(restarts=restarts)]))
    assert bool(found) == warns
    if warns:
        assert found[0].summary == f"destination: {restarts} restarts"


def test_component_oom():
    found = check_components(
        component_ctx(
            pods=[
                cp_pod(
                    app_last_termination="OOMKilled", app_last_termination_container="destination"
                )
            ]
        )
    )
    assert [(f.severity, f.summary) for f in found] == [
        (CRITICAL, "destination: 1 pod(s) OOMKilled")
    ]


@pytest.mark.parametrize(
    "success, severity",
    [(0.995, None), (0.99, None), (0.989, WARNING), (0.9, WARNING), (0.899, CRITICAL)],
)
def test_calls_success_rate(success, severity):
    inputs = CheckInputs(
        control_plane_clients=[ControlPlaneClient("destination", rps=5, success_rate=success)]
    )
    found = check_control_plane_calls(ctx(inputs=inputs))
    assert [f.severity for f in found] == ([severity] if severity else [])


@pytest.mark.parametrize("p99, slow", [(999, False), (1000, False), (1001, True)])
def test_calls_latency(p99, slow):
    inputs = CheckInputs(
        control_plane_clients=[ControlPlaneClient("identity", success_rate=1.0, latency_ms_p99=p99)]
    )
    assert bool(check_control_plane_calls(ctx(inputs=inputs))) == slow


def test_proxies_failing_to_reach_component():
    client = ControlPlaneClient("identity", success_rate=1.0, failing_pods=(("shop", "web-1"),))
    (found,) = check_control_plane_calls(ctx(inputs=CheckInputs(control_plane_clients=[client])))
    assert found.severity == CRITICAL and "cannot reach identity" in found.summary
    assert found.subject[1].name == "web-1"


def test_component_commands_name_its_deployment():
    (found,) = check_components(component_ctx(pods=[cp_pod(restarts=5)]))
    assert found.fix[0] == "kubectl -n linkerd describe deploy/linkerd-destination"
    assert found.subject[0].name == "destination"


def test_the_policy_controllers_logs_are_read_from_linkerd_destination():
    # The policy controller runs in linkerd-destination's pods: there is no linkerd-policy.
    client = ControlPlaneClient("policy", success_rate=0.5, rps=2)
    (found,) = check_control_plane_calls(ctx(inputs=CheckInputs(control_plane_clients=[client])))
    assert any("deploy/linkerd-destination" in command for command in found.fix)
    assert not any("linkerd-policy" in command for command in found.fix)
    assert "linkerd.io/control-plane-component=destination" in found.fix[0]
