"""The workload kinds meshdash shows, and every name each one goes by: one table.

Prometheus, the Kubernetes API, its client and kubectl each name a kind their own way; the
collectors, the dashboard and the commands it suggests all read those names from here.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str  # meshdash's name: in URLs, WorkloadKey.kind and the snapshot
    prom_label: str  # the label naming the owner on Linkerd's proxy series (dst_<it> for a peer)
    api_kind: str  # the object's kind in the API, as ownerReferences name it
    api_group: str  # the API group serving it
    list_name: str  # the API's resource name: the list the collector reads (and RBAC grants)
    short_name: str  # the short resource name kubectl and the linkerd CLI accept
    restartable: bool  # `kubectl rollout restart` supports it
    runs_to_completion: bool  # its pods end Succeeded when done (not a failure, not unmeshed)


# In the order a series' owner labels are read: the first one set names the owner.
TABLE: tuple[Kind, ...] = (
    Kind("deployment", "deployment", "Deployment", "apps", "deployments", "deploy", True, False),
    Kind("statefulset", "statefulset", "StatefulSet", "apps", "statefulsets", "sts", True, False),
    Kind("daemonset", "daemonset", "DaemonSet", "apps", "daemonsets", "ds", True, False),
    Kind("job", "k8s_job", "Job", "batch", "jobs", "job", False, True),
    Kind("cronjob", "cronjob", "CronJob", "batch", "cronjobs", "cj", False, True),
)

BY_NAME: dict[str, Kind] = {kind.name: kind for kind in TABLE}
KINDS: tuple[str, ...] = tuple(kind.name for kind in TABLE)
KIND_BY_PROM_LABEL: dict[str, str] = {kind.prom_label: kind.name for kind in TABLE}
KIND_BY_API_KIND: dict[str, str] = {kind.api_kind: kind.name for kind in TABLE}
RUNS_TO_COMPLETION: frozenset[str] = frozenset(k.name for k in TABLE if k.runs_to_completion)
