"""What every check reads: one snapshot, the thresholds, the collector's extra inputs and,
for the trend checks, the long history."""

import functools
from dataclasses import dataclass, field

from meshdash.mesh.checks.findings import Ref
from meshdash.mesh.checks.inputs import CheckHistory, CheckInputs
from meshdash.mesh.checks.thresholds import CheckThresholds
from meshdash.mesh.model import Pod, Snapshot, Workload

FINISHED_PHASES = frozenset({"Succeeded", "Failed"})


@dataclass
class Context:
    snapshot: Snapshot
    thresholds: CheckThresholds = field(default_factory=CheckThresholds)
    inputs: CheckInputs = field(default_factory=CheckInputs)
    history: CheckHistory | None = None

    @property
    def now(self) -> float:
        return self.snapshot.taken_at

    @property
    def control_plane_namespace(self) -> str:
        return self.snapshot.control_plane.namespace or "linkerd"

    def data_plane_pods(self) -> list[Pod]:
        """Running (not finished) pods with a proxy, outside the control plane."""
        return self._data_plane_pods

    @functools.cached_property
    def _data_plane_pods(self) -> list[Pod]:
        return [
            p
            for p in self.snapshot.pods
            if p.has_proxy
            and p.phase not in FINISHED_PHASES
            and p.namespace != self.control_plane_namespace
        ]


def pod_ref(pod: Pod) -> Ref:
    return Ref(pod.namespace, "pod", pod.name)


def owner_ref(pod: Pod) -> Ref:
    """The pod's workload, or the pod itself when it has none."""
    if pod.workload_kind and pod.workload_name:
        return Ref(pod.namespace, pod.workload_kind, pod.workload_name)
    return pod_ref(pod)


def workload_ref(workload: Workload) -> Ref:
    return Ref(workload.namespace, workload.kind, workload.name)


def restart_command(ref: Ref) -> str:
    """How to restart a workload's pods (a bare pod or a Job: delete the pod)."""
    from meshdash.mesh.kinds import BY_NAME

    kind = BY_NAME.get(ref.kind)
    if kind is not None and kind.restartable:
        return f"kubectl -n {ref.namespace} rollout restart {kind.short_name}/{ref.name}"
    if ref.kind == "pod":
        return f"kubectl -n {ref.namespace} delete pod {ref.name}"
    return f"kubectl -n {ref.namespace} get {ref.kind} {ref.name}"


# Components served by another component's Deployment: the policy controller is a container
# of linkerd-destination's pods (linkerd2's chart), with no Deployment of its own.
_SERVED_BY = {"policy": "destination"}


def component_deployment(component: str) -> str:
    """A control-plane component's Deployment: ``destination`` -> ``linkerd-destination``
    (components are named by their ``linkerd.io/control-plane-component`` label), ``policy``
    -> ``linkerd-destination``."""
    if component.startswith("linkerd-"):
        return component
    return f"linkerd-{_SERVED_BY.get(component, component)}"
