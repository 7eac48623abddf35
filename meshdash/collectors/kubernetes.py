"""Paged lists from the Kubernetes API, read as raw JSON and parsed into the mesh model.

The official client's per-object model deserialisation is slow on big lists, so every list is
fetched with ``_preload_content=False`` and decoded with orjson. Lists are paged with
``limit``/``continue``. Everything read here is untrusted text and is bounded on the way in.
"""

import base64
import binascii
import dataclasses
import hashlib
import json
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import orjson
import yaml
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.utils import parse_quantity

from meshdash.collectors.waiting import WaitClock, seconds_left
from meshdash.mesh.checks.inputs import (
    LINKERD_INJECTOR,
    LINKERD_POLICY_VALIDATOR,
    MUTATING,
    VALIDATING,
    CheckInputs,
    Webhook,
)
from meshdash.mesh.kinds import KIND_BY_API_KIND, Kind
from meshdash.mesh.kinds import TABLE as KIND_TABLE
from meshdash.mesh.model import (
    TEAM_LABEL,
    ControlPlane,
    Event,
    Pod,
    Service,
    WorkloadKey,
    bound_labels,
    bound_text,
)
from meshdash.mesh.pods import pod_problems

PROXY_CONTAINER = "linkerd-proxy"
INJECT_ANNOTATION = "linkerd.io/inject"
PROXY_VERSION_ANNOTATION = "linkerd.io/proxy-version"
CONTROL_PLANE_NS_LABEL = "linkerd.io/control-plane-ns"
COMPONENT_LABEL = "linkerd.io/control-plane-component"
# Lists of APIs a cluster may not serve (no batch API, say): absent, they read as empty.
_OPTIONAL_LISTS = frozenset(
    {"controllerrevisions", *(kind.list_name for kind in KIND_TABLE if kind.api_group == "batch")}
)
# Lists that only add detail to the pages: a failure is named, the collection goes on.
DETAIL_LISTS = ("services", "events")
# The admission webhooks the checks read (admissionregistration.k8s.io/v1), by kind. Without
# RBAC on them (403) the failure is named and the webhook checks find nothing; an API server
# that does not serve them (404: only stand-ins, every real cluster since 1.16 does) reads as
# not collected, without an error.
WEBHOOK_LISTS = {
    "mutatingwebhookconfigurations": MUTATING,
    "validatingwebhookconfigurations": VALIDATING,
}
TRUST_ROOT_ANNOTATION = "linkerd.io/trust-root-sha256"
# Bounds on what the checks' inputs keep from the cluster.
MAX_WEBHOOKS = 1000  # across every configuration
MAX_WEBHOOKS_PER_CONFIGURATION = 64
MAX_RULES_PER_WEBHOOK = 64
MAX_SELECTOR_EXPRESSIONS = 32
MAX_SELECTOR_VALUES = 64
MAX_MANAGED_FIELDS = 64  # entries read per namespace
MAX_NAMESPACE_LABELS = 64
MAX_CA_BUNDLE = 256 * 1024  # characters of base64 decoded
DEFAULT_EVENTS_PER_OBJECT = 5
MAX_EVENT_MESSAGE = 1024
# Node events that concern the pods on the node: the kernel's OOM killer (node-problem-
# detector reports it on the Node, naming the process, not the pod).
_NODE_EVENTS_FOR_OOMKILLED_PODS = frozenset({"OOMKilling"})


def _decoded(data: bytes):
    """A JSON body, by orjson (the same values as json: the API, Go's int64, sends no integer
    past 64 bits, which orjson reads as a float); what orjson refuses and json reads (NaN) by
    json. ValueError on anything that is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


class KubernetesError(Exception):
    """A request to the API failed; the message is short and fit to show in the dashboard."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass
class WorkloadInfo:
    key: WorkloadKey
    team: str = ""
    last_rollout: float | None = None
    inject_annotation: str = ""
    created_at: float | None = None
    template_labels: dict[str, str] = field(default_factory=dict)  # what its pods carry
    labels: dict[str, str] = field(default_factory=dict)  # bound_labels, object and template


@dataclass
class ClusterState:
    """What one collection learned from the cluster; ``errors`` maps a list to why it failed."""

    namespaces: dict[str, str] = field(default_factory=dict)  # name -> inject annotation
    workloads: dict[WorkloadKey, WorkloadInfo] = field(default_factory=dict)
    pods: list[Pod] = field(default_factory=list)
    # Service accounts whose identity each workload's pods carry.
    service_accounts: dict[WorkloadKey, set[str]] = field(default_factory=dict)
    # Jobs started by a CronJob are shown as the CronJob: key of the job -> key of the cronjob.
    aliases: dict[WorkloadKey, WorkloadKey] = field(default_factory=dict)
    control_plane: ControlPlane = field(default_factory=ControlPlane)
    errors: dict[str, str] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)  # newest per object, with their workload
    # The Kubernetes side of what the on-call checks read (meshdash.mesh.checks.inputs);
    # the Prometheus side is filled by meshdash.collectors.prometheus.fill_check_inputs.
    check_inputs: CheckInputs = field(default_factory=CheckInputs)


def parse_time(text: object) -> float | None:
    """RFC 3339 time from the API as unix seconds; None when missing or malformed."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _meta(obj: dict) -> dict:
    return _dict(obj.get("metadata"))


def _annotation(obj: dict, name: str) -> str:
    return bound_text(_dict(_meta(obj).get("annotations")).get(name, ""))


def _label(obj: dict, name: str) -> str:
    return bound_text(_dict(_meta(obj).get("labels")).get(name, ""))


def _controller(obj: dict) -> tuple[str, str] | None:
    for ref in _list(_meta(obj).get("ownerReferences")):
        ref = _dict(ref)
        if ref.get("controller"):
            return str(ref.get("kind", "")), bound_text(ref.get("name", ""))
    return None


def pod_status_text(pod: dict) -> str:
    """The STATUS column of ``kubectl get pods`` (printPod in kubectl), from a raw Pod."""
    spec, status = _dict(pod.get("spec")), _dict(pod.get("status"))
    reason = str(status.get("reason") or status.get("phase") or "")
    init_specs = _list(spec.get("initContainers"))
    sidecars = {
        _dict(c).get("name") for c in init_specs if _dict(c).get("restartPolicy") == "Always"
    }
    initializing = False
    for i, cs in enumerate(_list(status.get("initContainerStatuses"))):
        cs = _dict(cs)
        state = _dict(cs.get("state"))
        terminated, waiting = _dict(state.get("terminated")), _dict(state.get("waiting"))
        if terminated and terminated.get("exitCode") == 0:
            continue
        if cs.get("name") in sidecars and "running" in state:
            continue
        if terminated:
            if terminated.get("reason"):
                reason = f"Init:{terminated['reason']}"
            elif terminated.get("signal"):
                reason = f"Init:Signal:{terminated['signal']}"
            else:
                reason = f"Init:ExitCode:{terminated.get('exitCode')}"
        elif waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = f"Init:{waiting['reason']}"
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break
    if not initializing:
        has_running = False
        for cs in reversed(_list(status.get("containerStatuses"))):
            cs = _dict(cs)
            state = _dict(cs.get("state"))
            terminated, waiting = _dict(state.get("terminated")), _dict(state.get("waiting"))
            if waiting.get("reason"):
                reason = str(waiting["reason"])
            elif terminated.get("reason"):
                reason = str(terminated["reason"])
            elif terminated:
                if terminated.get("signal"):
                    reason = f"Signal:{terminated['signal']}"
                else:
                    reason = f"ExitCode:{terminated.get('exitCode')}"
            elif cs.get("ready") and "running" in state:
                has_running = True
        if reason == "Completed" and has_running:
            reason = "Running" if _is_ready(pod) else "NotReady"
    if _meta(pod).get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return bound_text(reason, 63)


def _is_ready(pod: dict) -> bool:
    for condition in _list(_dict(pod.get("status")).get("conditions")):
        condition = _dict(condition)
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def image_tag(image: str) -> str:
    """The tag of an image reference; empty when it has none or is pinned by digest."""
    if "@" in image:
        return ""
    name, _, tag = image.rpartition(":")
    return tag if name and "/" not in tag else ""


def _proxy_container(pod: dict) -> dict | None:
    """The proxy: a container named linkerd-proxy, or with native sidecars an init container
    of that name that restarts always (one that ran to completion would be no proxy)."""
    spec = _dict(pod.get("spec"))
    for container in _list(spec.get("containers")):
        if _dict(container).get("name") == PROXY_CONTAINER:
            return _dict(container)
    for container in _list(spec.get("initContainers")):
        container = _dict(container)
        if container.get("name") == PROXY_CONTAINER and container.get("restartPolicy") == "Always":
            return container
    return None


def _memory_bytes(text: object) -> float | None:
    if text in (None, ""):
        return None
    try:
        return float(parse_quantity(str(text)))
    except (ValueError, ArithmeticError):
        return None


def _last_termination(cs: dict) -> str:
    """Why a container's last run ended: its previous run's (``lastState``), else its current
    one's when that ended in failure ("Completed" is no news)."""
    last = _dict(_dict(cs.get("lastState")).get("terminated"))
    current = _dict(_dict(cs.get("state")).get("terminated"))
    if last:
        return bound_text(last.get("reason") or f"ExitCode:{last.get('exitCode')}", 63)
    if current and current.get("exitCode") != 0:
        return bound_text(current.get("reason") or f"ExitCode:{current.get('exitCode')}", 63)
    return ""


def _containers(raw: dict) -> dict:
    """Per container of ``raw``: the proxy's restarts and last termination, the application
    containers' first last termination (OOMKilled first), a waiting reason, the init
    container not done."""
    spec, status = _dict(raw.get("spec")), _dict(raw.get("status"))
    found = {
        "proxy_restarts": 0,
        "proxy_last_termination": "",
        "app_last_termination": "",
        "app_last_termination_container": "",
        "waiting_reason": "",
        "init_waiting": "",
    }
    sidecars = {
        _dict(c).get("name")
        for c in _list(spec.get("initContainers"))
        if _dict(c).get("restartPolicy") == "Always"
    }
    app_ends: list[tuple[str, str]] = []
    for init, statuses in (
        (True, _list(status.get("initContainerStatuses"))),
        (False, _list(status.get("containerStatuses"))),
    ):
        for cs in statuses:
            cs = _dict(cs)
            name = bound_text(cs.get("name", ""), 63)
            state = _dict(cs.get("state"))
            waiting = bound_text(_dict(state.get("waiting")).get("reason", ""), 63)
            ended = _last_termination(cs)
            if name == PROXY_CONTAINER:
                count = cs.get("restartCount")
                found["proxy_restarts"] = count if isinstance(count, int) and count > 0 else 0
                found["proxy_last_termination"] = ended
            elif ended:
                app_ends.append((name, ended))
            if init and name not in sidecars:
                done = _dict(state.get("terminated")).get("exitCode") == 0
                if not done and not found["init_waiting"]:
                    found["init_waiting"] = name
            if waiting and waiting not in ("PodInitializing", "ContainerCreating"):
                found["waiting_reason"] = found["waiting_reason"] or waiting
    if app_ends:
        name, reason = next((e for e in app_ends if e[1] == "OOMKilled"), app_ends[0])
        found["app_last_termination"], found["app_last_termination_container"] = reason, name
    return found


def parse_pod(raw: dict, owner: WorkloadKey | None, namespace_inject: str) -> Pod:
    meta, status = _meta(raw), _dict(raw.get("status"))
    proxy = _proxy_container(raw)
    restarts = 0
    for cs in _list(status.get("containerStatuses")) + _list(status.get("initContainerStatuses")):
        count = _dict(cs).get("restartCount")
        restarts += count if isinstance(count, int) and count > 0 else 0
    proxy_version = ""
    proxy_limit = None
    if proxy is not None:
        proxy_version = _annotation(raw, PROXY_VERSION_ANNOTATION) or bound_text(
            image_tag(str(proxy.get("image", "")))
        )
        proxy_limit = _memory_bytes(
            _dict(_dict(proxy.get("resources")).get("limits")).get("memory")
        )
    pod = Pod(
        namespace=bound_text(meta.get("namespace", "")),
        name=bound_text(meta.get("name", "")),
        workload_kind=owner.kind if owner else "",
        workload_name=owner.name if owner else "",
        phase=bound_text(status.get("phase", ""), 63),
        status=pod_status_text(raw),
        ready=_is_ready(raw),
        restarts=restarts,
        node=bound_text(_dict(raw.get("spec")).get("nodeName", "")),
        created_at=parse_time(meta.get("creationTimestamp")),
        has_proxy=proxy is not None,
        proxy_version=proxy_version,
        inject_annotation=_annotation(raw, INJECT_ANNOTATION),
        namespace_inject_annotation=namespace_inject,
        proxy_memory_limit_bytes=proxy_limit,
        labels=bound_labels(meta.get("labels")),
        **_containers(raw),
    )
    pod.problems = pod_problems(pod)
    return pod


_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_GO_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def go_duration_seconds(text: object) -> float | None:
    """A Go duration such as ``24h0m0s`` in seconds; None when it is not one."""
    if not isinstance(text, str) or not text:
        return None
    parts = _GO_DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _GO_UNITS[u] for n, u in parts)


def certificate_not_after(pem: str | bytes) -> float | None:
    """The earliest not-after among the PEM certificates given (a bundle may hold several)."""
    data = pem.encode() if isinstance(pem, str) else pem
    certs = x509.load_pem_x509_certificates(data)
    return min(cert.not_valid_after_utc.timestamp() for cert in certs) if certs else None


# --- Reading from the API.


class KubernetesClient:
    """Paged, raw-JSON reads from the API, timing the wait on it."""

    def __init__(
        self,
        api_client: k8s.ApiClient,
        *,
        page_size: int = 500,
        timeout: float = 20.0,
        linkerd_namespace: str = "linkerd",
        events_per_object: int = DEFAULT_EVENTS_PER_OBJECT,
    ):
        self.api_client = api_client
        self.core = k8s.CoreV1Api(api_client)
        self.apps = k8s.AppsV1Api(api_client)
        self.batch = k8s.BatchV1Api(api_client)
        self.admission = k8s.AdmissionregistrationV1Api(api_client)
        self.page_size = page_size
        self.timeout = timeout
        self.linkerd_namespace = linkerd_namespace
        self.events_per_object = events_per_object
        self._waiting = WaitClock()

    @property
    def request_count(self) -> int:
        return self._waiting.count

    @property
    def seconds(self) -> float:
        """Wall time spent waiting on the API (and decoding its answers)."""
        return self._waiting.seconds

    @classmethod
    def from_settings(cls) -> "KubernetesClient":
        from django.conf import settings

        configuration = k8s.Configuration()
        if settings.KUBE_IN_CLUSTER:
            k8s_config.load_incluster_config(client_configuration=configuration)
        else:
            k8s_config.load_kube_config(
                config_file=settings.KUBECONFIG or None,
                context=settings.KUBE_CONTEXT or None,
                client_configuration=configuration,
            )
        # One attempt per request: the collection's deadline decides when to give up.
        configuration.retries = 0
        return cls(
            k8s.ApiClient(configuration),
            page_size=settings.KUBE_PAGE_SIZE,
            timeout=settings.KUBE_TIMEOUT_SECONDS,
            linkerd_namespace=settings.LINKERD_NAMESPACE,
            events_per_object=settings.MESHDASH_EVENTS_PER_OBJECT,
        )

    def _call(self, method: Callable, *args, timeout: float | None = None, **kwargs) -> dict:
        timeout = self.timeout if timeout is None else min(timeout, self.timeout)
        if timeout <= 0:
            raise KubernetesError("collection deadline passed before the request")
        try:
            with self._waiting.request():
                response = method(*args, _preload_content=False, _request_timeout=timeout, **kwargs)
                body = _decoded(response.data)
        except ApiException as exc:
            raise KubernetesError(
                f"Kubernetes API answered HTTP {exc.status}", status=exc.status
            ) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise KubernetesError("Kubernetes API answered nonsense (not JSON)") from exc
        except Exception as exc:  # urllib3 and socket errors have no common base worth naming
            raise KubernetesError(
                bound_text(f"Kubernetes API unreachable ({type(exc).__name__})", 200)
            ) from exc
        if not isinstance(body, dict):
            raise KubernetesError("Kubernetes API answered nonsense (not an object)")
        return body

    def list(self, method: Callable, *, deadline: float | None = None) -> list[dict]:
        """Every item of a list, page by page."""
        items: list[dict] = []
        token = None
        while True:
            remaining = seconds_left(deadline)
            kwargs = {"limit": self.page_size}
            if token:
                kwargs["_continue"] = token
            body = self._call(method, timeout=remaining, **kwargs)
            page = body.get("items")
            if not isinstance(page, list):
                raise KubernetesError("Kubernetes API answered nonsense (a list without items)")
            items.extend(item for item in page if isinstance(item, dict))
            token = _meta(body).get("continue")
            if not token:
                return items

    def read(self, method: Callable, name: str, *, deadline: float | None = None) -> dict:
        remaining = seconds_left(deadline)
        return self._call(method, name, self.linkerd_namespace, timeout=remaining)

    def _list_method(self, kind: Kind) -> Callable:
        """The client's cluster-wide list of a kind, named as the client names it (``StatefulSet``:
        ``AppsV1Api.list_stateful_set_for_all_namespaces``)."""
        api = {"apps": self.apps, "batch": self.batch}[kind.api_group]
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", kind.api_kind).lower()
        return getattr(api, f"list_{snake}_for_all_namespaces")

    def list_calls(self) -> dict[str, Callable]:
        """Every cluster-wide list a collection reads, by its API resource name (what RBAC
        must grant ``list`` on: tests/deploy/test_rbac.py checks it)."""
        return {
            "namespaces": self.core.list_namespace,
            "pods": self.core.list_pod_for_all_namespaces,
            **{kind.list_name: self._list_method(kind) for kind in KIND_TABLE},
            # Read for the workload that owns them and its last rollout.
            "replicasets": self.apps.list_replica_set_for_all_namespaces,
            "controllerrevisions": self.apps.list_controller_revision_for_all_namespaces,
            # The Services list and the pages' events.
            "services": self.core.list_service_for_all_namespaces,
            "events": self.core.list_event_for_all_namespaces,
            # The admission webhooks that see pod creation, for the webhook checks.
            "mutatingwebhookconfigurations": self.admission.list_mutating_webhook_configuration,
            "validatingwebhookconfigurations": (
                self.admission.list_validating_webhook_configuration
            ),
        }

    def fetch(self, *, deadline: float | None = None, max_concurrency: int = 4) -> "RawCluster":
        """Every list and object meshdash reads, fetched concurrently."""
        lists = self.list_calls()
        objects = {
            "trust_roots": (self.core.read_namespaced_config_map, "linkerd-identity-trust-roots"),
            "issuer": (self.core.read_namespaced_secret, "linkerd-identity-issuer"),
            "linkerd_config": (self.core.read_namespaced_config_map, "linkerd-config"),
        }
        raw = RawCluster()
        lock = threading.Lock()

        def run(name: str, call: Callable) -> None:
            try:
                value = call()
            except KubernetesError as exc:
                if name in _OPTIONAL_LISTS and exc.status == 404:
                    value = []
                elif name in WEBHOOK_LISTS and exc.status == 404:
                    return  # not served: not collected (see WEBHOOK_LISTS)
                else:
                    with lock:
                        raw.errors[name] = str(exc)
                    return
            with lock:
                raw.data[name] = value

        with ThreadPoolExecutor(max_concurrency, thread_name_prefix="kube") as pool:
            for name, method in lists.items():
                pool.submit(run, name, lambda m=method: self.list(m, deadline=deadline))
            for name, (method, obj) in objects.items():
                pool.submit(run, name, lambda m=method, o=obj: self.read(m, o, deadline=deadline))
        return raw


@dataclass
class RawCluster:
    data: dict[str, object] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


# --- From raw JSON to the model.


def _workload_keys(raw: RawCluster) -> dict[tuple[str, str, str], dict]:
    """(namespace, kind, name) -> raw object, for every workload kind meshdash shows."""
    found = {}
    for kind in KIND_TABLE:
        for obj in _list(raw.data.get(kind.list_name)):
            meta = _meta(obj)
            key = (
                bound_text(meta.get("namespace", "")),
                kind.name,
                bound_text(meta.get("name", "")),
            )
            if key[0] and key[2]:
                found[key] = obj
    return found


def build_cluster_state(
    raw: RawCluster,
    linkerd_namespace: str = "linkerd",
    events_per_object: int = DEFAULT_EVENTS_PER_OBJECT,
) -> ClusterState:
    state = ClusterState(errors=dict(raw.errors))
    for obj in _list(raw.data.get("namespaces")):
        name = bound_text(_meta(obj).get("name", ""))
        if name:
            state.namespaces[name] = _annotation(obj, INJECT_ANNOTATION)

    objects = _workload_keys(raw)
    # Jobs a CronJob started belong to the CronJob.
    for (ns, kind, name), obj in objects.items():
        if kind == "job":
            owner = _controller(obj)
            if owner and owner[0] == "CronJob" and (ns, "cronjob", owner[1]) in objects:
                state.aliases[WorkloadKey(ns, "job", name)] = WorkloadKey(ns, "cronjob", owner[1])

    for (ns, kind, name), obj in objects.items():
        key = WorkloadKey(ns, kind, name)
        if key in state.aliases:
            continue
        template_meta = _dict(_dict(_dict(obj.get("spec")).get("template")).get("metadata"))
        if kind == "cronjob":
            job_template = _dict(_dict(obj.get("spec")).get("jobTemplate"))
            template_meta = _dict(
                _dict(_dict(job_template.get("spec")).get("template")).get("metadata")
            )
        team = _label(obj, TEAM_LABEL) or bound_text(
            _dict(template_meta.get("labels")).get(TEAM_LABEL, "")
        )
        created = parse_time(_meta(obj).get("creationTimestamp"))
        template_labels = {
            bound_text(k): bound_text(v, 63) for k, v in _dict(template_meta.get("labels")).items()
        }
        state.workloads[key] = WorkloadInfo(
            key=key,
            team=team,
            inject_annotation=bound_text(
                _dict(template_meta.get("annotations")).get(INJECT_ANNOTATION, "")
            ),
            created_at=created,
            template_labels=template_labels,
            labels=bound_labels({**_dict(_meta(obj).get("labels")), **template_labels}),
        )

    # Last rollout: the newest ReplicaSet of a Deployment, the newest ControllerRevision of a
    # StatefulSet or DaemonSet, the newest Job of a CronJob.
    rs_owner: dict[tuple[str, str], WorkloadKey] = {}
    for list_name, owner_kind in (("replicasets", "Deployment"), ("controllerrevisions", None)):
        for obj in _list(raw.data.get(list_name)):
            meta = _meta(obj)
            owner = _controller(obj)
            if not owner or owner[0] not in KIND_BY_API_KIND:
                continue
            if owner_kind and owner[0] != owner_kind:
                continue
            ns = bound_text(meta.get("namespace", ""))
            key = WorkloadKey(ns, KIND_BY_API_KIND[owner[0]], owner[1])
            if list_name == "replicasets":
                rs_owner[(ns, bound_text(meta.get("name", "")))] = key
            _note_rollout(state, key, parse_time(meta.get("creationTimestamp")))
    for job_key, cron_key in state.aliases.items():
        job = objects.get((job_key.namespace, job_key.kind, job_key.name), {})
        _note_rollout(state, cron_key, parse_time(_meta(job).get("creationTimestamp")))
    # Without a revision to go by, the workload was last rolled out when it was created.
    for info in state.workloads.values():
        if info.last_rollout is None:
            info.last_rollout = info.created_at

    service_accounts: dict[WorkloadKey, set[str]] = defaultdict(set)
    for obj in _list(raw.data.get("pods")):
        meta = _meta(obj)
        ns = bound_text(meta.get("namespace", ""))
        owner = _pod_owner(obj, ns, rs_owner, state)
        pod = parse_pod(obj, owner, state.namespaces.get(ns, ""))
        state.pods.append(pod)
        if owner:
            sa = _dict(obj.get("spec")).get("serviceAccountName") or "default"
            service_accounts[owner].add(bound_text(sa))
    state.service_accounts = dict(service_accounts)
    state.control_plane = build_control_plane(raw, state.pods, linkerd_namespace, state.errors)
    state.services = build_services(raw, state)
    state.events = build_events(raw, state, rs_owner, events_per_object)
    state.check_inputs = build_check_inputs(raw, state, objects)
    return state


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def build_services(raw: RawCluster, state: ClusterState) -> list[Service]:
    """Services with the workloads whose pod template their selector matches."""
    by_namespace: dict[str, list[WorkloadInfo]] = defaultdict(list)
    for info in state.workloads.values():
        by_namespace[info.key.namespace].append(info)
    services = []
    for obj in _list(raw.data.get("services")):
        meta, spec = _meta(obj), _dict(obj.get("spec"))
        namespace, name = bound_text(meta.get("namespace", "")), bound_text(meta.get("name", ""))
        if not namespace or not name:
            continue
        selector = {
            bound_text(k): bound_text(v, 63) for k, v in _dict(spec.get("selector")).items()
        }
        ports = []
        for port in _list(spec.get("ports"))[:20]:
            port = _dict(port)
            label = f"{port.get('port', '')}/{port.get('protocol', 'TCP')}"
            ports.append(bound_text(f"{port['name']} {label}" if port.get("name") else label, 80))
        backing = sorted(
            f"{info.key.kind}/{info.key.name}"
            for info in by_namespace.get(namespace, [])
            if _selects(selector, info.template_labels)
        )
        services.append(
            Service(
                namespace=namespace,
                name=name,
                type=bound_text(spec.get("type", "ClusterIP"), 63),
                cluster_ip=bound_text(spec.get("clusterIP", ""), 63),
                ports=ports,
                selector=selector,
                workloads=backing[:50],
            )
        )
    return sorted(services, key=lambda s: (s.namespace, s.name))


def _event_time(obj: dict) -> float | None:
    series = _dict(obj.get("series"))
    return (
        parse_time(series.get("lastObservedTime"))
        or parse_time(obj.get("lastTimestamp"))
        or parse_time(obj.get("eventTime"))
        or parse_time(_meta(obj).get("creationTimestamp"))
    )


def build_events(
    raw: RawCluster,
    state: ClusterState,
    rs_owner: dict[tuple[str, str], WorkloadKey],
    per_object: int,
) -> list[Event]:
    """The newest ``per_object`` events of each object that is a workload, one of its
    ReplicaSets or pods, or a node (the OOM killer's, for its pods whose container was
    OOMKilled), each with the workload it is shown with."""
    pod_owner = {
        (p.namespace, p.name): WorkloadKey(p.namespace, p.workload_kind, p.workload_name)
        for p in state.pods
        if p.workload_kind
    }
    oomkilled_on: dict[str, list[WorkloadKey]] = defaultdict(list)
    for pod in state.pods:
        if pod.node and "oomkilled" in pod.problems and (pod.namespace, pod.name) in pod_owner:
            oomkilled_on[pod.node].append(pod_owner[(pod.namespace, pod.name)])
    by_object: dict[tuple[str, str, str], list[tuple[float, Event, list[WorkloadKey]]]] = (
        defaultdict(list)
    )
    for obj in _list(raw.data.get("events")):
        involved = _dict(obj.get("involvedObject") or obj.get("regarding"))
        kind = bound_text(involved.get("kind", ""), 63)
        name = bound_text(involved.get("name", ""))
        namespace = bound_text(involved.get("namespace") or _meta(obj).get("namespace", ""))
        reason = bound_text(obj.get("reason", ""), 128)
        owners: list[WorkloadKey] = []
        if kind == "Pod":
            owners = [pod_owner[(namespace, name)]] if (namespace, name) in pod_owner else []
        elif kind == "ReplicaSet":
            owners = [rs_owner[(namespace, name)]] if (namespace, name) in rs_owner else []
        elif kind == "Node" and reason in _NODE_EVENTS_FOR_OOMKILLED_PODS:
            owners = oomkilled_on.get(name, [])
        elif kind in KIND_BY_API_KIND:
            key = WorkloadKey(namespace, KIND_BY_API_KIND[kind], name)
            key = state.aliases.get(key, key)
            owners = [key] if key in state.workloads else []
        owners = [o for o in owners if o in state.workloads]
        if not owners:
            continue
        seen = _event_time(obj)
        count = obj.get("count") or _dict(obj.get("series")).get("count") or 1
        source = _dict(obj.get("source")).get("component") or obj.get("reportingComponent")
        event = Event(
            namespace=namespace,
            object_kind=kind,
            object_name=name,
            type=bound_text(obj.get("type", ""), 63),
            reason=reason,
            message=bound_text(obj.get("message") or obj.get("note") or "", MAX_EVENT_MESSAGE),
            count=count if isinstance(count, int) and count > 0 else 1,
            first_seen=parse_time(obj.get("firstTimestamp")) or seen,
            last_seen=seen,
            source=bound_text(source or "", 128),
        )
        by_object[(namespace, kind, name)].append((seen or 0.0, event, owners))
    events = []
    for entries in by_object.values():
        entries.sort(key=lambda entry: -entry[0])
        for _, event, owners in entries[:per_object]:
            for owner in dict.fromkeys(owners):
                events.append(
                    dataclasses.replace(
                        event,
                        namespace=owner.namespace,  # a Node's event: its pod's namespace
                        workload_kind=owner.kind,
                        workload_name=owner.name,
                    )
                )
    events.sort(key=lambda e: (e.namespace, e.workload_kind, e.workload_name, -(e.last_seen or 0)))
    return events


def _note_rollout(state: ClusterState, key: WorkloadKey, at: float | None) -> None:
    info = state.workloads.get(key)
    if info is not None and at is not None:
        info.last_rollout = at if info.last_rollout is None else max(at, info.last_rollout)


def _pod_owner(
    pod: dict, ns: str, rs_owner: dict[tuple[str, str], WorkloadKey], state: ClusterState
) -> WorkloadKey | None:
    owner = _controller(pod)
    if owner is None:
        return None
    kind, name = owner
    if kind == "ReplicaSet":
        return rs_owner.get((ns, name))
    if kind not in KIND_BY_API_KIND:
        return None
    key = WorkloadKey(ns, KIND_BY_API_KIND[kind], name)
    return state.aliases.get(key, key)


def build_control_plane(
    raw: RawCluster, pods: list[Pod], linkerd_namespace: str, errors: dict[str, str]
) -> ControlPlane:
    plane = ControlPlane(namespace=linkerd_namespace)
    config = _dict(raw.data.get("linkerd_config"))
    values_text = _dict(config.get("data")).get("values")
    if isinstance(values_text, str):
        try:
            values = yaml.safe_load(values_text)
            plane.version = bound_text(_dict(values).get("linkerdVersion", ""), 63)
            lifetime = _dict(_dict(_dict(values).get("identity")).get("issuer")).get(
                "issuanceLifetime"
            )
            plane.leaf_lifetime_seconds = go_duration_seconds(lifetime) or 86400.0
        except yaml.YAMLError:
            errors["linkerd_config"] = "linkerd-config holds values that are not YAML"

    roots = _dict(_dict(raw.data.get("trust_roots")).get("data")).get("ca-bundle.crt")
    if "trust_roots" not in errors:
        try:
            plane.trust_anchor_not_after = certificate_not_after(str(roots or ""))
        except ValueError:
            errors["trust_roots"] = "linkerd-identity-trust-roots holds no valid certificate"

    secret_data = _dict(_dict(raw.data.get("issuer")).get("data"))
    encoded = secret_data.get("crt.pem") or secret_data.get("tls.crt")
    if "issuer" not in errors:
        try:
            plane.issuer_not_after = certificate_not_after(base64.b64decode(str(encoded or "")))
        except ValueError:
            errors["issuer"] = "linkerd-identity-issuer holds no valid certificate"

    components: dict[str, dict] = {}
    raw_pods = {
        (bound_text(_meta(p).get("namespace", "")), bound_text(_meta(p).get("name", ""))): p
        for p in _list(raw.data.get("pods"))
        if _meta(p).get("namespace") == linkerd_namespace
    }
    for pod in pods:
        if pod.namespace != linkerd_namespace:
            continue
        component = _label(raw_pods.get((pod.namespace, pod.name), {}), COMPONENT_LABEL)
        if not component:
            continue
        entry = components.setdefault(
            component, {"name": component, "pods": 0, "ready": 0, "version": ""}
        )
        entry["pods"] += 1
        entry["ready"] += int(pod.ready)
        entry["version"] = entry["version"] or pod.proxy_version
    plane.components = sorted(components.values(), key=lambda c: c["name"])
    plane.data_plane_versions = dict(
        Counter(p.proxy_version for p in pods if p.has_proxy and p.namespace != linkerd_namespace)
    )
    return plane


# --- What the on-call checks read (meshdash.mesh.checks.inputs.CheckInputs, Kubernetes side).


def build_check_inputs(
    raw: RawCluster, state: ClusterState, objects: dict[tuple[str, str, str], dict]
) -> CheckInputs:
    """The checks' inputs the cluster's lists hold: the issuer's chain, the trust roots' hash
    and each pod's, the inject annotation on workloads' own metadata, when each namespace got
    its inject annotation, namespace labels, and the admission webhooks on pod creation."""
    inputs = CheckInputs()
    roots = _dict(_dict(raw.data.get("trust_roots")).get("data")).get("ca-bundle.crt")
    roots = roots if isinstance(roots, str) else None
    inputs.control_plane_trust_root_sha256 = trust_roots_sha256(roots)
    inputs.issuer_signed_by_anchor = issuer_signed_by_anchor(roots, _issuer_pem(raw))

    for obj in _list(raw.data.get("pods")):
        sha = _annotation(obj, TRUST_ROOT_ANNOTATION)
        meta = _meta(obj)
        name = (bound_text(meta.get("namespace", "")), bound_text(meta.get("name", "")))
        if sha and all(name):
            inputs.pod_trust_roots[name] = bound_text(sha, 128)

    for (namespace, kind, name), obj in objects.items():
        key = WorkloadKey(namespace, kind, name)
        own = _annotation(obj, INJECT_ANNOTATION)
        if own and key in state.workloads:
            inputs.workload_metadata_inject[key] = own

    for obj in _list(raw.data.get("namespaces")):
        name = bound_text(_meta(obj).get("name", ""))
        if not name:
            continue
        inputs.namespace_labels[name] = selector_labels(_meta(obj).get("labels"))
        annotated = annotated_at(obj, INJECT_ANNOTATION)
        if annotated is not None:
            inputs.namespace_annotated_at[name] = annotated

    if all(name in raw.data for name in WEBHOOK_LISTS):
        hooks: list[Webhook] = []
        for list_name, kind in WEBHOOK_LISTS.items():
            for obj in _list(raw.data.get(list_name)):
                hooks.extend(parse_webhook_configuration(obj, kind))
        inputs.webhooks = hooks[:MAX_WEBHOOKS]
    return inputs


def _issuer_pem(raw: RawCluster) -> bytes | None:
    """The issuer certificate from its Secret (``crt.pem``, or cert-manager's ``tls.crt``)."""
    data = _dict(_dict(raw.data.get("issuer")).get("data"))
    encoded = data.get("crt.pem") or data.get("tls.crt")
    if not isinstance(encoded, str) or not encoded:
        return None
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None


def trust_roots_sha256(roots: str | None) -> str:
    """What Linkerd's proxy injector writes as ``linkerd.io/trust-root-sha256``: the hex
    SHA-256 of the trust roots exactly as linkerd-identity-trust-roots holds them (it reads
    ``ca-bundle.crt`` as mounted and renders ``identityTrustAnchorsPEM | sha256sum``)."""
    if not roots:
        return ""
    return hashlib.sha256(roots.encode()).hexdigest()


def issuer_signed_by_anchor(roots: str | None, issuer: str | bytes | None) -> bool | None:
    """Whether the issuer certificate (its first in the PEM) was issued by one of the trust
    roots: the root's subject is the issuer's issuer name, and the root's key verifies its
    signature. None when either is missing or holds no certificate (nothing to judge)."""
    if not roots or not issuer:
        return None
    data = issuer.encode() if isinstance(issuer, str) else issuer
    try:
        anchors = x509.load_pem_x509_certificates(roots.encode())
        issuer_cert = x509.load_pem_x509_certificates(data)[0]
    except (ValueError, IndexError):
        return None
    for anchor in anchors:
        try:
            issuer_cert.verify_directly_issued_by(anchor)
        except (ValueError, TypeError, InvalidSignature):
            continue  # another name, a key type it cannot verify, or not its signature
        return True
    return False


def selector_labels(labels: object) -> dict[str, str]:
    """A namespace's labels as the webhooks' namespaceSelector sees them: all of them (unlike
    bound_labels, which drops the system's), at most MAX_NAMESPACE_LABELS, bounded."""
    if not isinstance(labels, dict):
        return {}
    kept = {}
    for key in sorted(labels, key=str)[:MAX_NAMESPACE_LABELS]:
        kept[bound_text(key, 317)] = bound_text(labels[key], 63)
    return kept


def annotated_at(obj: dict, annotation: str) -> float | None:
    """When ``annotation`` was last set on the object, from ``metadata.managedFields``: the
    time of the newest entry whose fieldsV1 owns ``f:metadata`` / ``f:annotations`` /
    ``f:<annotation>``. None when no entry owns it (or has no readable time)."""
    newest = None
    for entry in _list(_meta(obj).get("managedFields"))[:MAX_MANAGED_FIELDS]:
        entry = _dict(entry)
        fields = _dict(_dict(_dict(entry.get("fieldsV1")).get("f:metadata")).get("f:annotations"))
        if f"f:{annotation}" not in fields:
            continue
        at = parse_time(entry.get("time"))
        if at is not None and (newest is None or at > newest):
            newest = at
    return newest


def _strings(value: object, limit: int = MAX_RULES_PER_WEBHOOK) -> list[str]:
    return [bound_text(v, 253) for v in _list(value)[:limit] if isinstance(v, str)]


def intercepts_pod_creation(rules: object) -> bool:
    """Whether a webhook's rules match creating a pod: a rule with the core group (or
    ``*``), ``pods`` (or ``*``, ``*/*``) and ``CREATE`` (or ``*``), and v1 (or ``*``) when
    it names versions."""
    for rule in _list(rules)[:MAX_RULES_PER_WEBHOOK]:
        rule = _dict(rule)
        groups, resources = _strings(rule.get("apiGroups")), _strings(rule.get("resources"))
        operations, versions = _strings(rule.get("operations")), rule.get("apiVersions")
        if not ({"", "*"} & set(groups)):
            continue
        if not ({"pods", "*", "*/*"} & set(resources)):
            continue
        if not ({"CREATE", "*"} & set(operations)):
            continue
        if versions is not None and not ({"v1", "*"} & set(_strings(versions))):
            continue
        return True
    return False


def label_selector(value: object) -> dict | None:
    """A namespaceSelector as the checks read it ({"matchLabels", "matchExpressions"}),
    bounded; None when empty (every namespace)."""
    selector = _dict(value)
    match_labels = {
        bound_text(k, 317): bound_text(v, 63)
        for k, v in list(_dict(selector.get("matchLabels")).items())[:MAX_SELECTOR_EXPRESSIONS]
    }
    expressions = []
    for expr in _list(selector.get("matchExpressions"))[:MAX_SELECTOR_EXPRESSIONS]:
        expr = _dict(expr)
        expressions.append(
            {
                "key": bound_text(expr.get("key", ""), 317),
                "operator": bound_text(expr.get("operator", ""), 16),
                "values": _strings(expr.get("values"), MAX_SELECTOR_VALUES),
            }
        )
    if not match_labels and not expressions:
        return None
    found: dict = {}
    if match_labels:
        found["matchLabels"] = match_labels
    if expressions:
        found["matchExpressions"] = expressions
    return found


def ca_bundle_not_after(encoded: object) -> float | None:
    """The not-after of the first certificate of a webhook's ``caBundle`` (base64 of PEM);
    None when it is missing or not one."""
    if not isinstance(encoded, str) or not encoded or len(encoded) > MAX_CA_BUNDLE:
        return None
    try:
        certs = x509.load_pem_x509_certificates(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        return None
    return certs[0].not_valid_after_utc.timestamp() if certs else None


def parse_webhook_configuration(obj: dict, kind: str) -> list[Webhook]:
    """The webhooks of one Mutating- or ValidatingWebhookConfiguration that intercept pod
    creation, each with its position in the configuration. Linkerd's own two configurations
    are kept whatever their rules (the policy validator's are policy resources, not pods):
    the checks look for them by name."""
    configuration = bound_text(_meta(obj).get("name", ""))
    if not configuration:
        return []
    linkerd = configuration in (LINKERD_INJECTOR, LINKERD_POLICY_VALIDATOR)
    found = []
    for index, hook in enumerate(_list(obj.get("webhooks"))[:MAX_WEBHOOKS_PER_CONFIGURATION]):
        hook = _dict(hook)
        if not linkerd and not intercepts_pod_creation(hook.get("rules")):
            continue
        failure = hook.get("failurePolicy")
        reinvocation = hook.get("reinvocationPolicy")
        found.append(
            Webhook(
                configuration=configuration,
                name=bound_text(hook.get("name", ""), 253),
                kind=kind,
                namespace_selector=label_selector(hook.get("namespaceSelector")),
                failure_policy=bound_text(failure, 16)
                if failure and isinstance(failure, str)
                else "Fail",
                reinvocation_policy=(
                    bound_text(reinvocation, 16)
                    if reinvocation and isinstance(reinvocation, str)
                    else "Never"
                ),
                ca_bundle_not_after=ca_bundle_not_after(
                    _dict(hook.get("clientConfig")).get("caBundle")
                ),
                index=index,
            )
        )
    return found
