"""A small fixed cluster for the collector tests, matching fixture_data's metrics, served by the
demo's Kubernetes API stand-in (``meshdash.demo.kubeapi``: list semantics as the real API, paging
with ``limit`` and ``continue``), with switches to make it fail (HTTP status or garbage) per path
and a record of the requests. The objects validate against the Kubernetes schemas
(tests/demo/test_kubeapi.py)."""

import base64
import datetime
import random
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from meshdash.demo.kubeapi import KubeApiServer, KubeState, _KubeHandler, status_body
from meshdash.demo.model import ca_certificate
from meshdash.demo.runner import write_kubeconfig

ANCHOR_NOT_AFTER = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
ISSUER_NOT_AFTER = datetime.datetime(2027, 6, 7, 8, 9, 10, tzinfo=datetime.UTC)
CREATED = "2026-01-01T00:00:00Z"
NEWEST_RS = "2026-03-04T05:06:07Z"
NEWEST_REVISION = "2026-02-03T04:05:06Z"
NEWEST_JOB = "2026-04-05T06:07:08Z"


TOKEN = "test-token"
# The API group of each kind an owner reference names.
OWNER_API = {"ReplicaSet": "apps/v1", "StatefulSet": "apps/v1", "Deployment": "apps/v1"}
OWNER_API |= {"Job": "batch/v1", "CronJob": "batch/v1"}


def certificate_pem(common_name: str, not_after: datetime.datetime) -> bytes:
    """A self-signed CA certificate for ``common_name`` that expires at ``not_after``."""
    key = ec.generate_private_key(ec.SECP256R1())
    not_before = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    serial = random.getrandbits(63) + 1
    cert = ca_certificate(
        common_name, common_name, key.public_key(), key, serial, not_before, not_after, None
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def meta(name, namespace=None, *, labels=None, annotations=None, owner=None, created=CREATED):
    meta = {
        "name": name,
        "uid": f"uid-{namespace}-{name}",
        "creationTimestamp": created,
        "labels": labels or {},
        "annotations": annotations or {},
    }
    if namespace:
        meta["namespace"] = namespace
    if owner:
        kind, owner_name = owner
        meta["ownerReferences"] = [
            {
                "apiVersion": OWNER_API[kind],
                "kind": kind,
                "name": owner_name,
                "uid": f"uid-{namespace}-{owner_name}",
                "controller": True,
            }
        ]
    return meta


def workload(kind, namespace, name, *, team="", inject="", created=CREATED):
    """A Deployment, StatefulSet, Job or CronJob whose pods are labelled ``app: name``."""
    template = {
        "metadata": {"labels": {"app": name}, "annotations": {}},
        "spec": {"containers": [{"name": "app", "image": "example/app:1"}]},
    }
    if inject:
        template["metadata"]["annotations"]["linkerd.io/inject"] = inject
    spec = {"selector": {"matchLabels": {"app": name}}, "template": template}
    if kind == "Job":
        template["spec"]["restartPolicy"] = "Never"
        spec = {"template": template}
    elif kind == "CronJob":
        template["spec"]["restartPolicy"] = "Never"
        spec = {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}}
    return {
        "metadata": meta(name, namespace, labels={"team": team} if team else {}, created=created),
        "spec": spec,
    }


def pod(
    namespace,
    name,
    owner,
    *,
    proxy=True,
    phase="Running",
    ready=True,
    restarts=0,
    version="stable-2.14.10",
    sa="default",
    init_waiting=False,
    labels=None,
    annotations=None,
    memory_limit="64Mi",
    native_sidecar=False,
    last_termination="",
):
    containers = [{"name": "app", "image": "example/app:1"}]
    init_containers = []
    annotations = dict(annotations or {})
    labels = dict(labels or {})
    if proxy:
        container = {
            "name": "linkerd-proxy",
            "image": "cr.l5d.io/linkerd/proxy:stable-2.14.10",
            "resources": {"limits": {"memory": memory_limit}},
        }
        if native_sidecar:
            init_containers.append({**container, "restartPolicy": "Always"})
        else:
            containers.append(container)
        annotations["linkerd.io/proxy-version"] = version
        labels["linkerd.io/control-plane-ns"] = "linkerd"
    statuses = [
        {
            "name": c["name"],
            "ready": ready,
            "restartCount": restarts,
            "image": c["image"],
            "imageID": "",
            "state": {"running": {}},
        }
        for c in containers
    ]
    if last_termination:
        statuses[0]["lastState"] = {
            "terminated": {"exitCode": 137, "reason": last_termination, "startedAt": CREATED}
        }
    status = {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": str(ready)}],
        "containerStatuses": statuses,
    }
    spec = {"containers": containers, "nodeName": "node-1", "serviceAccountName": sa}
    if init_containers:
        spec["initContainers"] = init_containers
    if init_waiting:
        spec["initContainers"] = [{"name": "linkerd-init", "image": "example/init:1"}]
        status["initContainerStatuses"] = [
            {
                "name": "linkerd-init",
                "ready": False,
                "restartCount": 0,
                "image": "",
                "imageID": "",
                "state": {"waiting": {"reason": "PodInitializing"}},
            }
        ]
        status["phase"] = "Pending"
        for cs in statuses:
            cs["state"] = {"waiting": {"reason": "PodInitializing"}}
            cs["ready"] = False
        status["conditions"] = [{"type": "Ready", "status": "False"}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta(name, namespace, labels=labels, annotations=annotations, owner=owner),
        "spec": spec,
        "status": status,
    }


EVENTS_AT = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)


def event(namespace, kind, name, reason, message, *, event_type="Warning", at=0):
    """A core/v1 Event about ``kind``/``name``, ``at`` minutes after EVENTS_AT."""
    seen = (EVENTS_AT + datetime.timedelta(minutes=at)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "metadata": meta(f"{name}.{at:04d}", namespace or "default", created=seen),
        "involvedObject": {
            "kind": kind,
            "name": name,
            **({"namespace": namespace} if namespace else {}),
            "apiVersion": "apps/v1" if kind in ("Deployment", "ReplicaSet") else "v1",
        },
        "reason": reason,
        "message": message,
        "type": event_type,
        "count": 2,
        "firstTimestamp": seen,
        "lastTimestamp": seen,
        "source": {"component": "kubelet" if kind == "Pod" else "controller"},
    }


def cluster() -> dict[str, list[dict]]:
    """The objects the server serves, by resource (as ``meshdash.demo.kubeapi.RESOURCES``)."""
    ns = [
        {
            "metadata": meta("shop", annotations={"linkerd.io/inject": "enabled"}),
        },
        {
            "metadata": meta("batch", annotations={"linkerd.io/inject": "true"}),
        },
        {"metadata": meta("legacy")},
        {"metadata": meta("linkerd")},
        {"metadata": meta("empty")},
    ]
    deployments = [
        workload("Deployment", "shop", "web", team="storefront", inject="enabled"),
        workload("Deployment", "shop", "api", team="storefront"),
        workload("Deployment", "shop", "idle"),
        workload("Deployment", "shop", "quiet"),
        workload("Deployment", "legacy", "mainframe"),
        workload("Deployment", "linkerd", "linkerd-identity"),
        workload("Deployment", "linkerd", "linkerd-destination"),
    ]
    replicasets = [
        {
            "metadata": meta(rs, namespace, owner=("Deployment", dep), created=created),
            "spec": {"selector": {"matchLabels": {"app": dep}}},
        }
        for namespace, dep, rs, created in [
            ("shop", "web", "web-old11", "2026-02-01T00:00:00Z"),
            ("shop", "web", "web-abc12", NEWEST_RS),
            ("shop", "api", "api-def34", CREATED),
            ("shop", "idle", "idle-5", CREATED),
            ("shop", "quiet", "quiet-6", CREATED),
            ("legacy", "mainframe", "mainframe-7", CREATED),
            ("linkerd", "linkerd-identity", "linkerd-identity-1", CREATED),
            ("linkerd", "linkerd-destination", "linkerd-destination-1", CREATED),
        ]
    ]
    statefulsets = [
        workload("StatefulSet", "shop", "db"),
        workload("StatefulSet", "shop", "cache"),
    ]
    revisions = [
        {
            "metadata": meta(f"db-{i}", "shop", owner=("StatefulSet", "db"), created=created),
            "data": {"spec": {"template": {"$patch": "replace"}}},
            "revision": i + 1,
        }
        for i, created in enumerate(["2026-01-15T00:00:00Z", NEWEST_REVISION])
    ]
    cronjobs = [workload("CronJob", "batch", "nightly")]
    jobs = [
        {
            "metadata": meta("report", "batch", owner=("CronJob", "nightly"), created=NEWEST_JOB),
            "spec": {"template": {"metadata": {}}},
        },
        {
            "metadata": meta("migrate", "batch", created=NEWEST_JOB),
            "spec": {"template": {"metadata": {}}},
        },
    ]
    pods = [
        pod("shop", "web-abc12-x1", ("ReplicaSet", "web-abc12"), sa="web"),
        pod(
            "shop",
            "web-abc12-x2",
            ("ReplicaSet", "web-abc12"),
            proxy=False,
            restarts=3,
            annotations={"linkerd.io/inject": "disabled"},
            last_termination="OOMKilled",
        ),
        pod("shop", "api-def34-y2", ("ReplicaSet", "api-def34"), sa="api-sa"),
        pod("shop", "api-def34-y3", ("ReplicaSet", "api-def34"), sa="api-sa", init_waiting=True),
        pod("shop", "db-0", ("StatefulSet", "db"), version="stable-2.13.0", sa="db"),
        pod("shop", "idle-5-z", ("ReplicaSet", "idle-5"), phase="Failed", ready=False),
        pod("shop", "quiet-6-q", ("ReplicaSet", "quiet-6"), sa="quiet"),
        pod("batch", "report-q", ("Job", "report"), sa="cron"),
        pod("shop", "cache-0", ("StatefulSet", "cache"), sa="cache", native_sidecar=True),
        pod(
            "batch",
            "migrate-m",
            ("Job", "migrate"),
            phase="Succeeded",
            ready=False,
            native_sidecar=True,
        ),
        pod("legacy", "mainframe-7-m", ("ReplicaSet", "mainframe-7"), proxy=False),
        pod(
            "linkerd",
            "linkerd-identity-1-a",
            ("ReplicaSet", "linkerd-identity-1"),
            labels={"linkerd.io/control-plane-component": "identity"},
        ),
        pod(
            "linkerd",
            "linkerd-destination-1-a",
            ("ReplicaSet", "linkerd-destination-1"),
            labels={"linkerd.io/control-plane-component": "destination"},
            ready=False,
        ),
    ]
    services = [
        {
            "metadata": meta("api", "shop"),
            "spec": {"selector": {"app": "api"}},
        }
    ]
    events = [
        event("shop", "Pod", "web-abc12-x2", "BackOff", "Back-off restarting failed container app"),
        event("shop", "Pod", "web-abc12-x2", "Unhealthy", "Readiness probe failed: 503", at=1),
        event("shop", "ReplicaSet", "api-def34", "FailedCreate", "pods is forbidden", at=2),
        event(
            "shop",
            "Deployment",
            "web",
            "InjectionSkipped",
            'Linkerd sidecar proxy injection skipped: pod has annotation "linkerd.io/inject: '
            'disabled"',
            event_type="Normal",
            at=3,
        ),
        event("", "Node", "node-1", "OOMKilling", "Killed process 42 (app)", at=4),
        event("shop", "Pod", "gone-pod", "BackOff", "a pod that no longer exists", at=5),
    ]
    anchor = certificate_pem("root.linkerd.cluster.local", ANCHOR_NOT_AFTER).decode()
    later_anchor = certificate_pem(
        "root2.linkerd.cluster.local", ANCHOR_NOT_AFTER + datetime.timedelta(days=900)
    ).decode()
    issuer = certificate_pem("identity.linkerd.cluster.local", ISSUER_NOT_AFTER)
    return {
        "namespaces": ns,
        "pods": pods,
        "services": services,
        "events": events,
        "deployments": deployments,
        "statefulsets": statefulsets,
        "daemonsets": [],
        "replicasets": replicasets,
        "controllerrevisions": revisions,
        "jobs": jobs,
        "cronjobs": cronjobs,
        "configmaps": [
            {
                "metadata": meta("linkerd-identity-trust-roots", "linkerd"),
                "data": {"ca-bundle.crt": later_anchor + anchor},
            },
            {
                "metadata": meta("linkerd-config", "linkerd"),
                "data": {
                    "values": "linkerdVersion: stable-2.14.10\nidentity:\n  issuer:\n"
                    "    scheme: kubernetes.io/tls\n"
                },
            },
        ],
        "secrets": [
            {
                "type": "kubernetes.io/tls",
                "metadata": meta("linkerd-identity-issuer", "linkerd"),
                "data": {"tls.crt": base64.b64encode(issuer).decode(), "tls.key": ""},
            }
        ],
    }


class _FaultyHandler(_KubeHandler):
    """The stand-in's answers, unless a fault is set for the path (or ``"*"``): an HTTP
    status, or ``"garbage"`` (200 with a body that is no JSON)."""

    server: "KubeServer"

    def _answer(self) -> tuple[int, bytes]:
        url = urlsplit(self.path)
        self.server.requests.append((url.path, parse_qs(url.query)))
        fault = self.server.faults.get(url.path, self.server.faults.get("*"))
        if fault == "garbage":
            return 200, b"<html>this is no API</html>"
        if isinstance(fault, int):
            return fault, status_body(fault, "InternalError", "a fault the test set")
        # A test may have changed the objects since the last request.
        self.server.state = KubeState(self.server.objects)
        return super()._answer()


class KubeServer(KubeApiServer):
    """The stand-in serving ``objects`` (``cluster()`` by default), which a test may change or
    replace; ``faults`` maps a path to its fault, ``requests`` lists (path, query) as asked."""

    handler_class = _FaultyHandler

    def __init__(self, objects: dict[str, list[dict]] | None = None):
        self.objects = cluster() if objects is None else objects
        self.faults: dict[str, int | str] = {}
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.kubeconfig = ""
        super().__init__(None, token=TOKEN, objects=self.objects)
        self.start()

    def write_kubeconfig(self, path: Path) -> str:
        """A kubeconfig for this server at ``path``, also kept in ``kubeconfig``; its path."""
        write_kubeconfig(Path(path), self.url, self.token)
        self.kubeconfig = str(path)
        return self.kubeconfig


def start(objects: dict[str, list[dict]] | None = None) -> KubeServer:
    return KubeServer(objects)
