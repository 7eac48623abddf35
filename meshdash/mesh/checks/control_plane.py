"""Control-plane checks: its components' health, and the proxies' calls to it."""

from collections import defaultdict

from meshdash.mesh.checks.context import Context, component_deployment, pod_ref
from meshdash.mesh.checks.findings import (
    CONTROL_PLANE,
    CRITICAL,
    WARNING,
    Evidence,
    Finding,
    Ref,
    percent,
)


def _camel(name: str) -> str:
    """``proxy-injector`` -> ``proxyInjector`` (Helm values' spelling)."""
    first, *rest = name.split("-")
    return first + "".join(part.capitalize() for part in rest)


def check_components(ctx: Context) -> list[Finding]:
    """**Control-plane components** (`control-plane.components`).

    Detects: components with pods not ready (warning; critical when none is ready),
    OOMKilled containers (critical), and at least `control_plane_restarts_warning` (3)
    restarts across a component's pods (warning).

    Why it matters: without destination proxies lose service discovery and policy; without
    identity no leaf renews; without the injector new pods start unmeshed.

    Fix: describe the pods and read their logs; raise limits after an OOMKill.
    """
    t = ctx.thresholds
    ns = ctx.control_plane_namespace
    pods_of: dict[str, list] = defaultdict(list)
    for pod in ctx.snapshot.pods:
        if pod.namespace == ns and pod.phase not in ("Succeeded", "Failed"):
            pods_of[pod.workload_name or pod.name].append(pod)
    found = []
    for component in ctx.snapshot.control_plane.components:
        name = component.get("name", "")
        total, ready = int(component.get("pods", 0)), int(component.get("ready", 0))
        deployment = component_deployment(name)
        pods = pods_of.get(deployment, []) + (pods_of.get(name, []) if name != deployment else [])
        ref = Ref(ns, CONTROL_PLANE, name)
        source = f"deployment {ns}/{deployment}"
        fix = (
            f"kubectl -n {ns} describe deploy/{deployment}",
            f"kubectl -n {ns} logs deploy/{deployment} --all-containers --since=1h",
        )
        if total and ready < total:
            found.append(
                Finding(
                    check="control-plane.components",
                    severity=CRITICAL if ready == 0 else WARNING,
                    subject=(ref,),
                    summary=f"{name}: {ready} of {total} pods ready",
                    evidence=(Evidence("ready pods", f"{ready}/{total}", source),),
                    fix=fix,
                    runbook="Find why the pods are not ready (events, logs, probes).",
                    order=ready - total,
                )
            )
        oomed = [
            p for p in pods if "OOMKilled" in (p.proxy_last_termination, p.app_last_termination)
        ]
        if oomed:
            found.append(
                Finding(
                    check="control-plane.components",
                    severity=CRITICAL,
                    subject=(ref,) + tuple(pod_ref(p) for p in oomed[:5]),
                    summary=f"{name}: {len(oomed)} pod(s) OOMKilled",
                    evidence=tuple(
                        Evidence(
                            "last termination",
                            f"OOMKilled ({p.app_last_termination_container or 'linkerd-proxy'})",
                            f"pod {p.namespace}/{p.name}",
                        )
                        for p in oomed[:5]
                    ),
                    fix=fix + (f"kubectl -n {ns} top pod --containers",),
                    runbook="Raise the component's memory limit (Helm values "
                    f"{_camel(name.removeprefix('linkerd-'))}Resources) and upgrade.",
                    order=-len(oomed),
                )
            )
        restarts = sum(p.restarts for p in pods)
        if restarts >= t.control_plane_restarts_warning:
            found.append(
                Finding(
                    check="control-plane.components",
                    severity=WARNING,
                    subject=(ref,),
                    summary=f"{name}: {restarts} restarts",
                    evidence=tuple(
                        Evidence("restarts", p.restarts, f"pod {p.namespace}/{p.name}")
                        for p in pods[:5]
                    ),
                    fix=fix
                    + (f"kubectl -n {ns} logs deploy/{deployment} --all-containers --previous",),
                    runbook="Read the previous run's logs of the restarting container.",
                    order=-restarts,
                )
            )
    return found


def check_control_plane_calls(ctx: Context) -> list[Finding]:
    """**Proxies' calls to the control plane** (`control-plane.calls`).

    Detects, from the proxies' `control_*` metrics: a component answering below
    `control_plane_success_warning` (99 %, warning) or `control_plane_success_critical`
    (90 %, critical), a p99 above `control_plane_latency_warning_ms` (1 s, warning), and
    proxies failing every call to destination or identity (critical).

    Why it matters: a proxy that cannot reach destination routes on stale endpoints and
    policy; one that cannot reach identity stops renewing its leaf.

    Fix: check the component's pods and the network path (NetworkPolicy, CNI) from the
    failing proxies to it.
    """
    t = ctx.thresholds
    ns = ctx.control_plane_namespace
    found = []
    for client in ctx.inputs.control_plane_clients:
        ref = Ref(ns, CONTROL_PLANE, client.component)
        source = f"proxies' control_response_total to {client.component}"
        fix = (
            f"kubectl -n {ns} get pods -l linkerd.io/control-plane-component="
            f"{component_deployment(client.component).removeprefix('linkerd-')}",
            f"kubectl -n {ns} logs deploy/{component_deployment(client.component)} "
            "--all-containers --since=1h",
        )
        severity = None
        if client.success_rate is not None:
            if client.success_rate < t.control_plane_success_critical:
                severity = CRITICAL
            elif client.success_rate < t.control_plane_success_warning:
                severity = WARNING
        slow = (
            client.latency_ms_p99 is not None
            and client.latency_ms_p99 > t.control_plane_latency_warning_ms
        )
        if severity or slow:
            found.append(
                Finding(
                    check="control-plane.calls",
                    severity=severity or WARNING,
                    subject=(ref,),
                    summary=f"Proxies' calls to {client.component}: success "
                    f"{percent(client.success_rate)}, p99 "
                    + (
                        "unknown"
                        if client.latency_ms_p99 is None
                        else f"{client.latency_ms_p99:.0f} ms"
                    ),
                    evidence=(
                        Evidence("success rate", client.success_rate, source),
                        Evidence("p99 ms", client.latency_ms_p99, source),
                        Evidence("requests per second", client.rps, source),
                    ),
                    fix=fix,
                    runbook="The component is failing or slow for the proxies: check its pods, "
                    "their resources and logs.",
                    order=client.success_rate if client.success_rate is not None else 1.0,
                )
            )
        if client.failing_pods:
            found.append(
                Finding(
                    check="control-plane.calls",
                    severity=CRITICAL,
                    subject=(ref,)
                    + tuple(Ref(pns, "pod", name) for pns, name in client.failing_pods[:5]),
                    summary=f"{len(client.failing_pods)} proxy(ies) cannot reach "
                    f"{client.component}",
                    evidence=tuple(
                        Evidence("every call failed", client.component, f"pod {pns}/{name}")
                        for pns, name in client.failing_pods[:5]
                    ),
                    fix=fix
                    + (
                        f"kubectl -n {client.failing_pods[0][0]} logs {client.failing_pods[0][1]} "
                        "-c linkerd-proxy --since=10m",
                    ),
                    runbook="Those proxies cannot connect to the control plane: check "
                    "NetworkPolicies and the CNI between them and it.",
                    order=-len(client.failing_pods),
                )
            )
    return found
