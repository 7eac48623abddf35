"""A small Kubernetes API server for the collector tests: list semantics as the real API
(``items``, ``metadata.continue``, ``limit``), a fixed cluster matching fixture_data's metrics,
and switches to make it fail (HTTP status or garbage) per path."""

import base64
import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests import servers

ANCHOR_NOT_AFTER = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
ISSUER_NOT_AFTER = datetime.datetime(2027, 6, 7, 8, 9, 10, tzinfo=datetime.UTC)
CREATED = "2026-01-01T00:00:00Z"
NEWEST_RS = "2026-03-04T05:06:07Z"
NEWEST_REVISION = "2026-02-03T04:05:06Z"
NEWEST_JOB = "2026-04-05T06:07:08Z"


def certificate_pem(common_name: str, not_after: datetime.datetime) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def _meta(name, namespace=None, *, labels=None, annotations=None, owner=None, created=CREATED):
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
        meta["ownerReferences"] = [
            {"apiVersion": "v1", "kind": owner[0], "name": owner[1], "uid": "x", "controller": True}
        ]
    return meta


def _workload(kind, api, namespace, name, *, team="", inject="", created=CREATED):
    template = {"metadata": {"labels": {"app": name}, "annotations": {}}}
    if inject:
        template["metadata"]["annotations"]["linkerd.io/inject"] = inject
    spec = {"template": template}
    if kind == "CronJob":
        spec = {"jobTemplate": {"spec": {"template": template}}}
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": _meta(name, namespace, labels={"team": team} if team else {}, created=created),
        "spec": spec,
    }


def _pod(
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
        "metadata": _meta(name, namespace, labels=labels, annotations=annotations, owner=owner),
        "spec": spec,
        "status": status,
    }


def cluster() -> dict[str, list[dict] | dict]:
    """The objects the server serves, keyed by API path."""
    ns = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": _meta("shop", annotations={"linkerd.io/inject": "enabled"}),
        },
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": _meta("batch", annotations={"linkerd.io/inject": "true"}),
        },
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta("legacy")},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta("linkerd")},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta("empty")},
    ]
    deployments = [
        _workload("Deployment", "apps/v1", "shop", "web", team="storefront", inject="enabled"),
        _workload("Deployment", "apps/v1", "shop", "api", team="storefront"),
        _workload("Deployment", "apps/v1", "shop", "idle"),
        _workload("Deployment", "apps/v1", "shop", "quiet"),
        _workload("Deployment", "apps/v1", "legacy", "mainframe"),
        _workload("Deployment", "apps/v1", "linkerd", "linkerd-identity"),
        _workload("Deployment", "apps/v1", "linkerd", "linkerd-destination"),
    ]
    replicasets = [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": _meta(rs, namespace, owner=("Deployment", dep), created=created),
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
        _workload("StatefulSet", "apps/v1", "shop", "db"),
        _workload("StatefulSet", "apps/v1", "shop", "cache"),
    ]
    revisions = [
        {
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": _meta(f"db-{i}", "shop", owner=("StatefulSet", "db"), created=created),
        }
        for i, created in enumerate(["2026-01-15T00:00:00Z", NEWEST_REVISION])
    ]
    cronjobs = [_workload("CronJob", "batch/v1", "batch", "nightly")]
    jobs = [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": _meta("report", "batch", owner=("CronJob", "nightly"), created=NEWEST_JOB),
            "spec": {"template": {"metadata": {}}},
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": _meta("migrate", "batch", created=NEWEST_JOB),
            "spec": {"template": {"metadata": {}}},
        },
    ]
    pods = [
        _pod("shop", "web-abc12-x1", ("ReplicaSet", "web-abc12"), sa="web"),
        _pod(
            "shop",
            "web-abc12-x2",
            ("ReplicaSet", "web-abc12"),
            proxy=False,
            restarts=3,
            annotations={"linkerd.io/inject": "disabled"},
        ),
        _pod("shop", "api-def34-y2", ("ReplicaSet", "api-def34"), sa="api-sa"),
        _pod("shop", "api-def34-y3", ("ReplicaSet", "api-def34"), sa="api-sa", init_waiting=True),
        _pod("shop", "db-0", ("StatefulSet", "db"), version="stable-2.13.0", sa="db"),
        _pod("shop", "idle-5-z", ("ReplicaSet", "idle-5"), phase="Failed", ready=False),
        _pod("shop", "quiet-6-q", ("ReplicaSet", "quiet-6"), sa="quiet"),
        _pod("batch", "report-q", ("Job", "report"), sa="cron"),
        _pod("shop", "cache-0", ("StatefulSet", "cache"), sa="cache", native_sidecar=True),
        _pod(
            "batch",
            "migrate-m",
            ("Job", "migrate"),
            phase="Succeeded",
            ready=False,
            native_sidecar=True,
        ),
        _pod("legacy", "mainframe-7-m", ("ReplicaSet", "mainframe-7"), proxy=False),
        _pod(
            "linkerd",
            "linkerd-identity-1-a",
            ("ReplicaSet", "linkerd-identity-1"),
            labels={"linkerd.io/control-plane-component": "identity"},
        ),
        _pod(
            "linkerd",
            "linkerd-destination-1-a",
            ("ReplicaSet", "linkerd-destination-1"),
            labels={"linkerd.io/control-plane-component": "destination"},
            ready=False,
        ),
    ]
    services = [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta("api", "shop"),
            "spec": {"selector": {"app": "api"}},
        }
    ]
    anchor = certificate_pem("root.linkerd.cluster.local", ANCHOR_NOT_AFTER).decode()
    later_anchor = certificate_pem(
        "root2.linkerd.cluster.local", ANCHOR_NOT_AFTER + datetime.timedelta(days=900)
    ).decode()
    issuer = certificate_pem("identity.linkerd.cluster.local", ISSUER_NOT_AFTER)
    return {
        "/api/v1/namespaces": ns,
        "/api/v1/pods": pods,
        "/api/v1/services": services,
        "/apis/apps/v1/deployments": deployments,
        "/apis/apps/v1/statefulsets": statefulsets,
        "/apis/apps/v1/daemonsets": [],
        "/apis/apps/v1/replicasets": replicasets,
        "/apis/apps/v1/controllerrevisions": revisions,
        "/apis/batch/v1/jobs": jobs,
        "/apis/batch/v1/cronjobs": cronjobs,
        "/api/v1/namespaces/linkerd/configmaps/linkerd-identity-trust-roots": {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("linkerd-identity-trust-roots", "linkerd"),
            "data": {"ca-bundle.crt": later_anchor + anchor},
        },
        "/api/v1/namespaces/linkerd/secrets/linkerd-identity-issuer": {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": _meta("linkerd-identity-issuer", "linkerd"),
            "data": {"tls.crt": base64.b64encode(issuer).decode(), "tls.key": ""},
        },
        "/api/v1/namespaces/linkerd/configmaps/linkerd-config": {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("linkerd-config", "linkerd"),
            "data": {
                "values": "linkerdVersion: stable-2.14.10\nidentity:\n  issuer:\n"
                "    scheme: kubernetes.io/tls\n"
            },
        },
    }


class _Handler(BaseHTTPRequestHandler):
    server: "KubeServer"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        self.server.requests.append((url.path, query))
        fault = self.server.faults.get(url.path, self.server.faults.get("*"))
        if fault == "garbage":
            return self._send(200, b"<html>this is no API</html>")
        if isinstance(fault, int):
            return self._send(fault, json.dumps({"kind": "Status", "code": fault}).encode())
        obj = self.server.objects.get(url.path)
        if obj is None:
            return self._send(404, json.dumps({"kind": "Status", "code": 404}).encode())
        if isinstance(obj, dict):
            return self._send(200, json.dumps(obj).encode())
        offset = int(query.get("continue", ["0"])[0] or 0)
        limit = int(query.get("limit", [str(len(obj) or 1)])[0])
        page = obj[offset : offset + limit]
        meta = {"resourceVersion": "42"}
        if offset + limit < len(obj):
            meta["continue"] = str(offset + limit)
        kind = (page[0]["kind"] if page else "Object") + "List"
        body = {"apiVersion": "v1", "kind": kind, "metadata": meta, "items": page}
        return self._send(200, json.dumps(body).encode())

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class KubeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int):
        super().__init__(("127.0.0.1", port), _Handler)
        self.objects = cluster()
        self.faults: dict[str, object] = {}
        self.requests: list = []
        self.url = f"http://127.0.0.1:{port}"
        self.kubeconfig = ""
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def start() -> KubeServer:
    return KubeServer(servers.free_port())


def kubeconfig(url: str) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "test",
            "clusters": [{"name": "test", "cluster": {"server": url}}],
            "users": [{"name": "test", "user": {"token": "test-token"}}],
            "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}],
        }
    )
