"""A stand-in for the Kubernetes API serving the demo mesh, over plain HTTP on loopback.

The official ``kubernetes`` client talks to it as to a real cluster (with the kubeconfig that
``start_demo`` writes): ``/version``; lists of namespaces, pods, services, serviceaccounts,
configmaps and secrets (``/api/v1/...``), of deployments, statefulsets, daemonsets, replicasets
and controllerrevisions (``/apis/apps/v1/...``), of jobs and cronjobs (``/apis/batch/v1/...``;
no CronJobs: that list is served empty) and of mutating and validating webhook configurations
(``/apis/admissionregistration.k8s.io/v1/...``), cluster-wide and per namespace; GET of one
object. Lists
have the real envelope (``apiVersion``, ``kind``, ``metadata.resourceVersion``,
``metadata.continue``, ``metadata.remainingItemCount``, ``items``), ``limit``/``continue``
paging with an opaque token (a bad one answers 400, a stale one 410, each with a ``Status``),
and ``labelSelector`` with ``=``, ``==`` and ``!=``. Every object is serialised once; a page is
a join of those bytes, cached, so a 20,000-pod list costs little more than copying it.

Objects are shaped as the API server returns them (see ``cluster_objects``): owner references
(pod -> ReplicaSet -> Deployment; StatefulSet, DaemonSet and Job pods directly), Linkerd's
injection labels and annotations, ``linkerd-init`` and ``linkerd-proxy`` containers on
injected pods (the proxy a native sidecar, an init container with ``restartPolicy: Always``, in
Jobs), the injected probes of the proxy's admin port and the applications' httpGet probes,
status with conditions and container statuses (Completed for a finished Job's pod),
namespaces' ``managedFields`` (when their inject annotation was set), and the admission webhooks
as their charts render them (Linkerd's, Gatekeeper's, Vault's), each with its ``caBundle``.
``KubeApiServer(None, objects=...)`` serves a fixed set of such objects instead (the collector
tests' small cluster).
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import yaml

from meshdash.demo.model import (
    CLUSTER_DOMAIN,
    HOSTILE_STATUS_MESSAGE,
    LINKERD_NAMESPACE,
    MIB,
    PROXY_ADMIN_PORT,
    PROXY_IMAGE,
    TRUST_DOMAIN,
    DemoEvent,
    DemoMesh,
    DemoNamespace,
    DemoPod,
    DemoWebhook,
    DemoWorkload,
    identity,
    new_uid,
    pod_labels,
    trust_root_sha256,
)

KUBERNETES_VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.4",
    "gitCommit": "a78aa47129b8539636eb86a9d00e31b2720fe06b",
    "gitTreeState": "clean",
    "buildDate": "2024-12-10T18:30:41Z",
    "goVersion": "go1.22.9",
    "compiler": "gc",
    "platform": "linux/amd64",
}

# resource -> (group path, kind, namespaced)
RESOURCES: dict[str, tuple[str, str, bool]] = {
    "namespaces": ("/api/v1", "Namespace", False),
    "pods": ("/api/v1", "Pod", True),
    "services": ("/api/v1", "Service", True),
    "events": ("/api/v1", "Event", True),
    "serviceaccounts": ("/api/v1", "ServiceAccount", True),
    "configmaps": ("/api/v1", "ConfigMap", True),
    "secrets": ("/api/v1", "Secret", True),
    "deployments": ("/apis/apps/v1", "Deployment", True),
    "statefulsets": ("/apis/apps/v1", "StatefulSet", True),
    "daemonsets": ("/apis/apps/v1", "DaemonSet", True),
    "replicasets": ("/apis/apps/v1", "ReplicaSet", True),
    "controllerrevisions": ("/apis/apps/v1", "ControllerRevision", True),
    # Jobs (their proxy a native sidecar); no CronJobs: the list exists, empty.
    "jobs": ("/apis/batch/v1", "Job", True),
    "cronjobs": ("/apis/batch/v1", "CronJob", True),
    # Linkerd's admission webhooks and others' on the same pods.
    "mutatingwebhookconfigurations": (
        "/apis/admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
        False,
    ),
    "validatingwebhookconfigurations": (
        "/apis/admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        False,
    ),
}
_CONTINUE_VERSION = "meshdash.demo/v1"
_LABEL_KEY = re.compile(r"^([a-z0-9.-]+/)?[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$")


def _api_version(resource: str) -> str:
    return RESOURCES[resource][0].removeprefix("/api/").removeprefix("/apis/")


def _time(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


# --- Objects, built once per mesh.


class _Objects:
    def __init__(self, mesh: DemoMesh):
        self.mesh = mesh
        self.rng = random.Random(mesh.seed * 7919 + 17)
        self.version = 1000
        self.by_resource: dict[str, list[dict]] = {name: [] for name in RESOURCES}
        self.namespace_inject = {
            ns.name: ns.annotations.get("linkerd.io/inject", "") for ns in mesh.namespaces
        }

    def meta(self, name: str, created: float, namespace: str | None = None, **extra) -> dict:
        self.version += 1
        meta = {"name": name}
        if namespace is not None:
            meta["namespace"] = namespace
        meta.update(
            uid=new_uid(self.rng),
            resourceVersion=str(self.version),
            creationTimestamp=_time(created),
        )
        meta.update({k: v for k, v in extra.items() if v})
        return meta

    def controller_meta(self, w: DemoWorkload, labels: dict[str, str]) -> dict:
        """The metadata of a StatefulSet or DaemonSet."""
        annotations = _own_annotations(w)
        return self.meta(
            w.name,
            w.created_at,
            w.namespace,
            labels=labels,
            annotations=annotations,
            generation=w.revision,
        )

    def add(self, resource: str, obj: dict) -> dict:
        self.by_resource[resource].append(obj)
        return obj

    def build(self) -> dict[str, list[dict]]:
        mesh = self.mesh
        for ns in mesh.namespaces:
            self.add(
                "namespaces",
                {
                    "metadata": self.meta(
                        ns.name,
                        ns.created_at,
                        labels=ns.labels,
                        annotations=ns.annotations,
                        managedFields=_namespace_managed_fields(ns),
                    ),
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                },
            )
        for w in mesh.all_workloads:
            self.workload(w)
        for event in mesh.events:
            self.event(event)
        self.control_plane_config()
        self.webhook_configurations()
        for items in self.by_resource.values():
            items.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return self.by_resource

    def workload(self, w: DemoWorkload) -> None:
        selector = {"app": w.name}
        if w.control_plane_component:
            selector["linkerd.io/control-plane-component"] = w.control_plane_component
        self.add(
            "serviceaccounts", {"metadata": self.meta(w.service_account, w.created_at, w.namespace)}
        )
        if w.service_name:
            self.service(w, selector)
        template = {
            "metadata": {"labels": dict(w.labels), "annotations": dict(w.annotations)},
            "spec": self.pod_spec(w, None),
        }
        if not template["metadata"]["annotations"]:
            del template["metadata"]["annotations"]
        replicas = len(w.pods)
        ready = sum(1 for pod in w.pods if pod.ready)
        labels = {"app": w.name, **({"team": w.team} if w.team else {})}
        if w.control_plane_component:
            labels["linkerd.io/control-plane-component"] = w.control_plane_component
        owner = None
        if w.kind == "deployment":
            owner = self.deployment(w, labels, selector, template, replicas, ready)
        elif w.kind == "job":
            owner = self.job(w, labels, template)
        elif w.kind == "statefulset":
            owner = self.add(
                "statefulsets",
                {
                    "metadata": self.controller_meta(w, labels),
                    "spec": {
                        "replicas": replicas,
                        "selector": {"matchLabels": selector},
                        "serviceName": w.service_name,
                        "template": template,
                        "podManagementPolicy": "OrderedReady",
                        "updateStrategy": {
                            "type": "RollingUpdate",
                            "rollingUpdate": {"partition": 0},
                        },
                        "revisionHistoryLimit": 10,
                    },
                    "status": {
                        "observedGeneration": w.revision,
                        "replicas": replicas,
                        "readyReplicas": ready,
                        "availableReplicas": ready,
                        "currentReplicas": replicas,
                        "updatedReplicas": replicas,
                        "currentRevision": f"{w.name}-{w.template_hash}",
                        "updateRevision": f"{w.name}-{w.template_hash}",
                        "collisionCount": 0,
                    },
                },
            )
        else:
            owner = self.add(
                "daemonsets",
                {
                    "metadata": self.controller_meta(w, labels),
                    "spec": {
                        "selector": {"matchLabels": selector},
                        "template": template,
                        "updateStrategy": {
                            "type": "RollingUpdate",
                            "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
                        },
                        "revisionHistoryLimit": 10,
                    },
                    "status": {
                        "currentNumberScheduled": replicas,
                        "desiredNumberScheduled": replicas,
                        "numberMisscheduled": 0,
                        "numberReady": ready,
                        "numberAvailable": ready,
                        "updatedNumberScheduled": replicas,
                        "observedGeneration": w.revision,
                    },
                },
            )
        if w.kind in ("statefulset", "daemonset"):
            self.controller_revision(w, owner, template)
        for pod in w.pods:
            self.pod(w, pod, owner)

    def event(self, event: DemoEvent) -> None:
        """A core/v1 Event, named as the API server names them (the object's name and a
        hex suffix), in the object's namespace (a Node's: default)."""
        involved = {
            "kind": event.kind,
            "name": event.name,
            "apiVersion": "apps/v1" if event.kind in ("Deployment", "ReplicaSet") else "v1",
        }
        if event.namespace:
            involved["namespace"] = event.namespace
        if event.kind == "Pod":
            involved["fieldPath"] = "spec.containers{app}"
        namespace = event.namespace or "default"
        suffix = f"{self.rng.getrandbits(64):016x}"[:16]
        self.add(
            "events",
            {
                "metadata": self.meta(f"{event.name}.{suffix}", event.first_seen, namespace),
                "involvedObject": involved,
                "reason": event.reason,
                "message": event.message,
                "source": {"component": event.source}
                | ({"host": event.name} if event.kind == "Node" else {}),
                "firstTimestamp": _time(event.first_seen),
                "lastTimestamp": _time(event.last_seen),
                "count": event.count,
                "type": event.type,
                "reportingComponent": event.source,
                "reportingInstance": "",
            },
        )

    def service(self, w: DemoWorkload, selector: dict[str, str]) -> None:
        self.add(
            "services",
            {
                "metadata": self.meta(
                    w.service_name,
                    w.created_at,
                    w.namespace,
                    labels={"app": w.name},
                    annotations=_described(w.annotations),
                ),
                "spec": {
                    "type": "ClusterIP",
                    "clusterIP": w.service_ip,
                    "clusterIPs": [w.service_ip],
                    "ipFamilies": ["IPv4"],
                    "ipFamilyPolicy": "SingleStack",
                    "internalTrafficPolicy": "Cluster",
                    "sessionAffinity": "None",
                    "ports": [
                        {
                            "name": w.protocol,
                            "port": w.port,
                            "protocol": "TCP",
                            "targetPort": w.port,
                        }
                    ],
                    "selector": selector,
                },
                "status": {"loadBalancer": {}},
            },
        )

    def job(self, w: DemoWorkload, labels: dict, template: dict) -> dict:
        """A Job run once; its pods carry the controller-uid labels the API server adds."""
        pod = w.pods[0]
        uid_labels = {
            "batch.kubernetes.io/controller-uid": w.controller_uid,
            "batch.kubernetes.io/job-name": w.name,
            "controller-uid": w.controller_uid,
            "job-name": w.name,
        }
        job_template = {
            **template,
            "metadata": {**template["metadata"], "labels": {**w.labels, **uid_labels}},
            "spec": {**template["spec"], "restartPolicy": "Never"},
        }
        started = _time(pod.started_at - 2)
        if w.finished:
            done = pod.started_at + 300
            status = {
                "startTime": started,
                "completionTime": _time(done),
                "succeeded": 1,
                "ready": 0,
                "terminating": 0,
                "uncountedTerminatedPods": {},
                "conditions": [
                    {
                        **_condition("SuccessCriteriaMet", True, done),
                        "reason": "CompletionsReached",
                    },
                    {**_condition("Complete", True, done), "reason": "CompletionsReached"},
                ],
            }
        else:
            status = {
                "startTime": started,
                "active": 1,
                "ready": 1,
                "terminating": 0,
                "uncountedTerminatedPods": {},
            }
        job = self.add(
            "jobs",
            {
                "metadata": self.meta(
                    w.name,
                    w.rollout_at,
                    w.namespace,
                    labels={**labels, **uid_labels},
                    annotations=_own_annotations(w),
                    generation=1,
                ),
                "spec": {
                    "parallelism": 1,
                    "completions": 1,
                    "backoffLimit": 6,
                    "completionMode": "NonIndexed",
                    "suspend": False,
                    "podReplacementPolicy": "TerminatingOrFailed",
                    "manualSelector": False,
                    "selector": {
                        "matchLabels": {"batch.kubernetes.io/controller-uid": w.controller_uid}
                    },
                    "template": job_template,
                },
                "status": status,
            },
        )
        job["metadata"]["uid"] = w.controller_uid
        return job

    def controller_revision(self, w: DemoWorkload, owner: dict, template: dict) -> None:
        """The current revision of a StatefulSet or DaemonSet: created at its last rollout."""
        revision_hash = w.template_hash
        if w.kind == "statefulset":
            name = f"{w.name}-{w.template_hash}"
            labels = {**w.labels, "controller-revision-hash": name}
        else:
            name = f"{w.name}-{revision_hash}"
            labels = {**w.labels, "controller-revision-hash": revision_hash}
        kind = "StatefulSet" if w.kind == "statefulset" else "DaemonSet"
        self.add(
            "controllerrevisions",
            {
                "metadata": self.meta(
                    name,
                    w.rollout_at,
                    w.namespace,
                    labels=labels,
                    ownerReferences=[_owner("apps/v1", kind, owner)],
                ),
                "data": {"spec": {"template": {"$patch": "replace", **template}}},
                "revision": w.revision,
            },
        )

    def deployment(self, w, labels, selector, template, replicas, ready) -> dict:
        revision = str(w.revision)
        deployment = self.add(
            "deployments",
            {
                "metadata": self.meta(
                    w.name,
                    w.created_at,
                    w.namespace,
                    labels=labels,
                    generation=w.revision,
                    annotations={
                        "deployment.kubernetes.io/revision": revision,
                        **_own_annotations(w),
                    },
                ),
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": selector},
                    "template": template,
                    "strategy": {
                        "type": "RollingUpdate",
                        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                    },
                    "revisionHistoryLimit": 10,
                    "progressDeadlineSeconds": 600,
                },
                "status": {
                    "observedGeneration": w.revision,
                    "replicas": replicas,
                    "updatedReplicas": replicas,
                    "readyReplicas": ready,
                    "availableReplicas": ready,
                    **({"unavailableReplicas": replicas - ready} if replicas > ready else {}),
                    "conditions": [
                        _condition(
                            "Available",
                            ready > 0,
                            w.rollout_at,
                            "MinimumReplicasAvailable" if ready else "MinimumReplicasUnavailable",
                        ),
                        _condition("Progressing", True, w.rollout_at, "NewReplicaSetAvailable"),
                    ],
                },
            },
        )
        # The current ReplicaSet (its creation is the last rollout) and, after a rollout, the
        # previous one scaled to zero.
        revisions = [(w.revision, w.template_hash, w.rollout_at, replicas, ready)]
        if w.revision > 1:
            old_hash = "".join(self.rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(10))
            previous = w.created_at + (w.rollout_at - w.created_at) * 0.5
            revisions.append((w.revision - 1, old_hash, previous, 0, 0))
        for number, hash_, created, count, count_ready in revisions:
            rs_labels = {**template["metadata"]["labels"], "pod-template-hash": hash_}
            rs_template = {**template, "metadata": {**template["metadata"], "labels": rs_labels}}
            self.add(
                "replicasets",
                {
                    "metadata": self.meta(
                        f"{w.name}-{hash_}",
                        created,
                        w.namespace,
                        labels=rs_labels,
                        generation=1,
                        annotations={
                            "deployment.kubernetes.io/revision": str(number),
                            "deployment.kubernetes.io/desired-replicas": str(replicas),
                            "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                        },
                        ownerReferences=[_owner("apps/v1", "Deployment", deployment)],
                    ),
                    "spec": {
                        "replicas": count,
                        "selector": {"matchLabels": {**selector, "pod-template-hash": hash_}},
                        "template": rs_template,
                    },
                    "status": {
                        "replicas": count,
                        "fullyLabeledReplicas": count,
                        "readyReplicas": count_ready,
                        "availableReplicas": count_ready,
                        "observedGeneration": 1,
                    },
                },
            )
        return self.by_resource["replicasets"][-len(revisions)]

    def pod_spec(self, w: DemoWorkload, pod: DemoPod | None) -> dict:
        image = f"registry.example.com/{w.namespace}/{w.name}:{w.labels.get('version', 'v1')}"
        app = {
            "name": w.control_plane_component or "app",
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "ports": [{"name": w.protocol, "containerPort": w.port, "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
        }
        # The kubelet's httpGet probes of the application: the proxy counts them (route "probe").
        for kind, path in (("readinessProbe", "/ready"), ("livenessProbe", "/healthz"))[
            : w.http_probes
        ]:
            app[kind] = _http_probe(path, w.port)
        if w.protocol == "tcp":
            app["readinessProbe"] = {
                "tcpSocket": {"port": w.port},
                "periodSeconds": 10,
                "timeoutSeconds": 1,
                "successThreshold": 1,
                "failureThreshold": 3,
            }
        spec = {
            "containers": [app],
            "serviceAccountName": w.service_account,
            "serviceAccount": w.service_account,
            "restartPolicy": "Never" if w.kind == "job" else "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler",
            "securityContext": {},
        }
        if pod is None:
            return spec
        spec["nodeName"] = pod.node
        if pod.has_proxy:
            proxy = _proxy_container(w, pod)
            if pod.native_sidecar:
                # A native sidecar: an init container that keeps running beside the app.
                spec["initContainers"] = [
                    _init_container(pod),
                    {**proxy, "restartPolicy": "Always"},
                ]
            else:
                spec["initContainers"] = [_init_container(pod)]
                spec["containers"] = [proxy, app]
        if w.kind == "statefulset":
            spec["hostname"] = pod.name
            spec["subdomain"] = w.service_name
        return spec

    def pod(self, w: DemoWorkload, pod: DemoPod, owner: dict) -> None:
        annotations = dict(w.annotations)
        if pod.has_proxy:
            annotations.update(
                {
                    "linkerd.io/created-by": f"linkerd/proxy-injector {pod.proxy_version}",
                    "linkerd.io/proxy-version": pod.proxy_version,
                    "linkerd.io/trust-root-sha256": pod.trust_root_sha256
                    or trust_root_sha256(self.mesh),
                    "viz.linkerd.io/tap-enabled": "true",
                }
            )
        owner_kind = {
            "deployment": "ReplicaSet",
            "statefulset": "StatefulSet",
            "job": "Job",
        }.get(w.kind, "DaemonSet")
        api_version = "batch/v1" if w.kind == "job" else "apps/v1"
        spec = self.pod_spec(w, pod)
        self.add(
            "pods",
            {
                "metadata": self.meta(
                    pod.name,
                    pod.created_at,
                    w.namespace,
                    labels=pod_labels(w, pod),
                    annotations=annotations,
                    ownerReferences=[_owner(api_version, owner_kind, owner)],
                    generateName=f"{pod.name.rsplit('-', 1)[0]}-",
                ),
                "spec": spec,
                "status": _pod_status(pod, spec),
            },
        )

    def webhook_configurations(self) -> None:
        """The mesh's admission webhooks, grouped by configuration, as the API server returns
        them (its defaults filled in: matchPolicy, scope, timeoutSeconds, reinvocationPolicy)."""
        by_configuration: dict[tuple[str, str], list[DemoWebhook]] = {}
        for hook in self.mesh.webhooks:
            by_configuration.setdefault((hook.kind, hook.configuration), []).append(hook)
        for (kind, name), hooks in by_configuration.items():
            first = hooks[0]
            webhooks = []
            for hook in hooks:
                entry = {
                    "name": hook.name,
                    "clientConfig": {
                        "service": {
                            "namespace": hook.service[0],
                            "name": hook.service[1],
                            "path": hook.path,
                            "port": 443,
                        },
                        "caBundle": _b64(hook.ca_pem),
                    },
                    "rules": [{"scope": "*", **rule} for rule in hook.rules],
                    "failurePolicy": hook.failure_policy,
                    "matchPolicy": "Equivalent",
                    "namespaceSelector": hook.namespace_selector,
                    "objectSelector": hook.object_selector,
                    "sideEffects": "None",
                    "timeoutSeconds": 10,
                    "admissionReviewVersions": ["v1", "v1beta1"],
                }
                if kind == "mutating":
                    entry["reinvocationPolicy"] = hook.reinvocation_policy
                webhooks.append(entry)
            self.add(
                f"{kind}webhookconfigurations",
                {
                    "metadata": self.meta(
                        name, first.created_at, labels=first.labels, generation=1
                    ),
                    "webhooks": webhooks,
                },
            )

    def control_plane_config(self) -> None:
        mesh, certs = self.mesh, self.mesh.certificates
        created = mesh.epoch - 400 * 86400
        values = {
            "linkerdVersion": mesh.linkerd_version,
            "clusterDomain": CLUSTER_DOMAIN,
            "identityTrustDomain": TRUST_DOMAIN,
            "identityTrustAnchorsPEM": certs.anchor_pem,
            "identity": {
                "issuer": {
                    "scheme": "linkerd.io/tls",
                    "issuanceLifetime": "24h0m0s",
                    "clockSkewAllowance": "20s",
                }
            },
            "proxy": {
                "image": {"name": PROXY_IMAGE, "version": ""},
                "resources": {"memory": {"limit": "250Mi", "request": "20Mi"}},
            },
            "controllerReplicas": 1,
        }
        labels = {"linkerd.io/control-plane-ns": LINKERD_NAMESPACE}
        self.add(
            "configmaps",
            {
                "metadata": self.meta(
                    "linkerd-config",
                    created,
                    LINKERD_NAMESPACE,
                    labels=labels,
                    annotations={"linkerd.io/created-by": f"linkerd/helm {mesh.linkerd_version}"},
                ),
                "data": {"values": yaml.safe_dump(values, sort_keys=True)},
            },
        )
        self.add(
            "configmaps",
            {
                "metadata": self.meta(
                    "linkerd-identity-trust-roots", created, LINKERD_NAMESPACE, labels=labels
                ),
                "data": {"ca-bundle.crt": certs.anchor_pem},
            },
        )
        issued = certs.issuer_not_after - 365 * 86400
        self.add(
            "secrets",
            {
                "metadata": self.meta(
                    "linkerd-identity-issuer", issued, LINKERD_NAMESPACE, labels=labels
                ),
                "type": "Opaque",
                "data": {"crt.pem": _b64(certs.issuer_pem), "key.pem": _b64(certs.issuer_key_pem)},
            },
        )


def _described(annotations: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in annotations.items() if k == "description"}


def _own_annotations(w: DemoWorkload) -> dict[str, str]:
    """A workload object's own annotations: its description and any set on it directly."""
    return {**_described(w.annotations), **w.object_annotations}


def _namespace_managed_fields(ns: DemoNamespace) -> list[dict]:
    """Who set what on a namespace (``metadata.managedFields``): created with its labels (and
    its annotations, unless they came later), then ``kubectl annotate`` at ``annotated_at``."""
    created: dict = {"f:labels": {".": {}, **{f"f:{k}": {} for k in ns.labels}}}
    entries = []
    later = ns.annotated_at is not None and "linkerd.io/inject" in ns.annotations
    annotations = {f"f:{k}": {} for k in ns.annotations}
    if later:
        annotations.pop("f:linkerd.io/inject")
    if annotations:
        created["f:annotations"] = {".": {}, **annotations}
    entries.append(_managed("kubectl-client-side-apply", ns.created_at, {"f:metadata": created}))
    if later:
        annotated = {"f:annotations": {".": {}, "f:linkerd.io/inject": {}}}
        entries.append(_managed("kubectl-annotate", ns.annotated_at, {"f:metadata": annotated}))
    return entries


def _managed(manager: str, at: float, fields: dict) -> dict:
    return {
        "manager": manager,
        "operation": "Update",
        "apiVersion": "v1",
        "time": _time(at),
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    }


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _owner(api_version: str, kind: str, owner: dict) -> dict:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _condition(kind: str, ok: bool, since: float, reason: str = "") -> dict:
    condition = {
        "type": kind,
        "status": "True" if ok else "False",
        "lastTransitionTime": _time(since),
    }
    if kind in ("Available", "Progressing"):
        condition["lastUpdateTime"] = _time(since)
    if reason:
        condition["reason"] = reason
    return condition


def _http_probe(path: str, port: int) -> dict:
    return {
        "httpGet": {"path": path, "port": port, "scheme": "HTTP"},
        "periodSeconds": 10,
        "timeoutSeconds": 1,
        "successThreshold": 1,
        "failureThreshold": 3,
    }


def _init_container(pod: DemoPod) -> dict:
    return {
        "name": "linkerd-init",
        "image": "cr.l5d.io/linkerd/proxy-init:v2.4.3",
        "imagePullPolicy": "IfNotPresent",
        "args": [
            "--incoming-proxy-port",
            "4143",
            "--outgoing-proxy-port",
            "4140",
            "--proxy-uid",
            "2102",
            "--inbound-ports-to-ignore",
            "4190,4191,4567,4568",
        ],
        "resources": {
            "limits": {"cpu": "100m", "memory": "20Mi"},
            "requests": {"cpu": "100m", "memory": "20Mi"},
        },
        "securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}, "runAsUser": 65534},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }


def _proxy_container(w: DemoWorkload, pod: DemoPod) -> dict:
    return {
        "name": "linkerd-proxy",
        "image": f"{PROXY_IMAGE}:{pod.proxy_version}",
        "imagePullPolicy": "IfNotPresent",
        "ports": [
            {"name": "linkerd-proxy", "containerPort": 4143, "protocol": "TCP"},
            {"name": "linkerd-admin", "containerPort": PROXY_ADMIN_PORT, "protocol": "TCP"},
        ],
        "env": [
            {
                "name": "_pod_sa",
                "valueFrom": {
                    "fieldRef": {"apiVersion": "v1", "fieldPath": "spec.serviceAccountName"}
                },
            },
            {
                "name": "_pod_ns",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}},
            },
            {
                "name": "LINKERD2_PROXY_IDENTITY_LOCAL_NAME",
                "value": identity("$(_pod_sa)", "$(_pod_ns)"),
            },
            {"name": "LINKERD2_PROXY_ADMIN_LISTEN_ADDR", "value": f"0.0.0.0:{PROXY_ADMIN_PORT}"},
        ],
        "resources": {
            "limits": {"memory": f"{pod.memory_limit // MIB}Mi"},
            "requests": {"cpu": "100m", "memory": "20Mi"},
        },
        # The injected probes: the kubelet's requests to the admin port, counted as inbound.
        "livenessProbe": {**_http_probe("/live", PROXY_ADMIN_PORT), "initialDelaySeconds": 10},
        "readinessProbe": {**_http_probe("/ready", PROXY_ADMIN_PORT), "initialDelaySeconds": 2},
        "securityContext": {
            "runAsUser": 2102,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }


def _pod_status(pod: DemoPod, spec: dict) -> dict:
    start = _time(pod.started_at)
    node_number = int(pod.node.rsplit("-", 1)[1])
    status = {
        "phase": pod.phase,
        "hostIP": f"192.168.{node_number // 250}.{node_number % 250 + 1}",
        "podIP": pod.ip,
        "podIPs": [{"ip": pod.ip}],
        "startTime": start,
        "qosClass": "Burstable",
    }
    containers = [c["name"] for c in spec["containers"]]
    if pod.init_stuck:
        status["conditions"] = [
            _condition("PodReadyToStartContainers", True, pod.started_at),
            {
                **_condition("Initialized", False, pod.started_at, "ContainersNotInitialized"),
                "message": "containers with incomplete status: [linkerd-init]",
            },
            {
                **_condition("Ready", False, pod.started_at, "ContainersNotReady"),
                "message": f"containers with unready status: [{' '.join(containers)}]",
            },
            {
                **_condition("ContainersReady", False, pod.started_at, "ContainersNotReady"),
                "message": f"containers with unready status: [{' '.join(containers)}]",
            },
            _condition("PodScheduled", True, pod.started_at),
        ]
        status["initContainerStatuses"] = [
            {
                "name": "linkerd-init",
                "image": "cr.l5d.io/linkerd/proxy-init:v2.4.3",
                "imageID": "",
                "ready": False,
                "restartCount": 0,
                "started": False,
                "state": {
                    "waiting": {"reason": "PodInitializing", "message": HOSTILE_STATUS_MESSAGE}
                },
            }
        ]
        status["containerStatuses"] = [
            {
                "name": c["name"],
                "image": c["image"],
                "imageID": "",
                "ready": False,
                "restartCount": 0,
                "started": False,
                "state": {"waiting": {"reason": "PodInitializing"}},
            }
            for c in spec["containers"]
        ]
        return status
    completed = pod.phase == "Succeeded"
    done = _time(pod.started_at + 300)
    status["conditions"] = [
        _condition(kind, kind not in ("Ready", "ContainersReady") or pod.ready, pod.started_at + 2)
        for kind in (
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled",
        )
    ]
    if completed:
        for condition in status["conditions"]:
            if condition["status"] == "False":
                condition["reason"] = "PodCompleted"

    def terminated(container_id: str, finished: str) -> dict:
        return {
            "terminated": {
                "exitCode": 0,
                "reason": "Completed",
                "startedAt": start,
                "finishedAt": finished,
                "containerID": container_id,
            }
        }

    if "initContainers" in spec:
        init_id = f"containerd://{pod.ip.replace('.', '')}0init"
        status["initContainerStatuses"] = [
            {
                "name": "linkerd-init",
                "image": "cr.l5d.io/linkerd/proxy-init:v2.4.3",
                "imageID": "cr.l5d.io/linkerd/proxy-init@sha256:" + "0" * 64,
                "containerID": init_id,
                "ready": True,
                "restartCount": 0,
                "started": False,
                "state": terminated(init_id, start),
            }
        ]
    sidecars = [c for c in spec.get("initContainers", []) if c.get("restartPolicy") == "Always"]
    statuses = []
    for c in [*sidecars, *spec["containers"]]:
        proxy = c["name"] == "linkerd-proxy"
        restarts = pod.proxy_restarts if proxy else pod.restarts
        ended = pod.proxy_last_termination if proxy else pod.app_last_termination
        container_id = f"containerd://{pod.ip.replace('.', '')}{c['name']}"
        state = terminated(container_id, done) if completed else {"running": {"startedAt": start}}
        # A not-ready pod's proxy is ready; its application is not.
        ready = pod.ready or (proxy and pod.running)
        if pod.crash_looping and not proxy:
            state = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off 5m0s restarting failed container={c['name']} "
                    f"pod={pod.name}_{pod.namespace}({pod.ip})",
                }
            }
        entry = {
            "name": c["name"],
            "image": c["image"],
            "imageID": c["image"].split(":")[0] + "@sha256:" + "1" * 64,
            "containerID": container_id,
            "ready": ready,
            "restartCount": restarts,
            "started": not completed and "waiting" not in state,
            "state": state,
        }
        if restarts:
            oom = (ended or "OOMKilled") == "OOMKilled"
            entry["lastState"] = {
                "terminated": {
                    "exitCode": 137 if oom else 1,
                    "reason": ended or "OOMKilled",
                    "startedAt": start,
                    "finishedAt": start,
                    "containerID": container_id,
                }
            }
        if c in sidecars:
            status["initContainerStatuses"].append(entry)
        else:
            statuses.append(entry)
    status["containerStatuses"] = statuses
    return status


def cluster_objects(mesh: DemoMesh) -> dict[str, list[dict]]:
    """Every object the stand-in serves, per resource, sorted by namespace and name."""
    return _Objects(mesh).build()


# --- Serving.


@dataclass
class _Collection:
    """One resource's items, serialised once."""

    resource: str
    keys: list[tuple[str, str]] = field(default_factory=list)  # (namespace, name)
    labels: list[dict[str, str]] = field(default_factory=list)
    items: list[bytes] = field(default_factory=list)
    singles: dict[tuple[str, str], bytes] = field(default_factory=dict)


class KubeState:
    """The serialised cluster and the page cache: everything a request reads. ``objects`` is
    what ``cluster_objects`` gives, or a fixed set of the same shape (the tests'); a resource
    it leaves out is not served (404), as an API group the cluster does not have."""

    def __init__(self, objects: dict[str, list[dict]]):
        self.resource_version = "0"
        self.collections: dict[str, _Collection] = {}
        newest = 0
        for resource, items in objects.items():
            group, kind, _ = RESOURCES[resource]
            collection = _Collection(resource)
            head = f'{{"kind":"{kind}","apiVersion":"{_api_version(resource)}",'.encode()
            for obj in items:
                meta = obj["metadata"]
                key = (meta.get("namespace", ""), meta["name"])
                collection.keys.append(key)
                collection.labels.append(meta.get("labels", {}))
                item = json.dumps(obj, separators=(",", ":")).encode()
                collection.items.append(item)
                # A single GET answers the same object with its kind and apiVersion first.
                collection.singles[key] = head + item[1:]
                newest = max(newest, int(meta.get("resourceVersion", 0)))
            self.collections[resource] = collection
        self.resource_version = str(newest + 1)
        self._pages: dict[tuple, tuple[int, bytes]] = {}
        self._lock = threading.Lock()

    def list_page(
        self, resource: str, namespace: str, selector: str, limit: int, token: str
    ) -> tuple[int, bytes]:
        cache_key = (resource, namespace, selector, limit, token)
        with self._lock:
            cached = self._pages.get(cache_key)
        if cached is None:
            cached = self._render_page(resource, namespace, selector, limit, token)
            with self._lock:
                self._pages[cache_key] = cached
        return cached

    def _render_page(self, resource, namespace, selector, limit, token) -> tuple[int, bytes]:
        try:
            requirements = _parse_selector(selector)
        except ValueError as exc:
            return 400, status_body(400, "BadRequest", str(exc))
        scope = f"{resource}/{namespace}/{selector}"
        start = 0
        if token:
            try:
                start = self._decode_token(token, scope)
            except LookupError:
                return 410, status_body(
                    410,
                    "Expired",
                    "The provided continue parameter is too old "
                    "to display a consistent list result. You can start a new "
                    "list without the continue parameter.",
                )
            except ValueError as exc:
                return 400, status_body(400, "BadRequest", f"continue key is not valid: {exc}")
        collection = self.collections[resource]
        chosen = [
            i
            for i, (key, labels) in enumerate(zip(collection.keys, collection.labels, strict=True))
            if (not namespace or key[0] == namespace) and _matches(labels, requirements)
        ]
        end = len(chosen) if limit <= 0 else min(len(chosen), start + limit)
        metadata = {"resourceVersion": self.resource_version}
        if end < len(chosen):
            metadata["continue"] = self._encode_token(scope, end)
            if not requirements:
                metadata["remainingItemCount"] = len(chosen) - end
        kind = RESOURCES[resource][1]
        head = json.dumps(
            {"kind": f"{kind}List", "apiVersion": _api_version(resource), "metadata": metadata},
            separators=(",", ":"),
        )
        items = b",".join(collection.items[i] for i in chosen[start:end])
        return 200, head[:-1].encode() + b',"items":[' + items + b"]}"

    def _encode_token(self, scope: str, start: int) -> str:
        raw = json.dumps(
            {"v": _CONTINUE_VERSION, "rv": self.resource_version, "scope": scope, "start": start}
        )
        return base64.urlsafe_b64encode(raw.encode()).decode()

    def _decode_token(self, token: str, scope: str) -> int:
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
        except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
            raise ValueError("not a continue token") from exc
        if not isinstance(data, dict) or data.get("v") != _CONTINUE_VERSION:
            raise ValueError("not a continue token")
        if (
            data.get("scope") != scope
            or not isinstance(data.get("start"), int)
            or data["start"] < 0
        ):
            raise ValueError("the token belongs to another list")
        if data.get("rv") != self.resource_version:
            raise LookupError("stale token")
        return data["start"]

    def single(self, resource: str, namespace: str, name: str) -> tuple[int, bytes]:
        body = self.collections[resource].singles.get((namespace, name))
        if body is None:
            return 404, status_body(
                404, "NotFound", f'{resource} "{name}" not found', {"name": name, "kind": resource}
            )
        return 200, body


def status_body(code: int, reason: str, message: str, details: dict | None = None) -> bytes:
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details is not None:
        status["details"] = details
    return json.dumps(status).encode()


def _parse_selector(selector: str) -> list[tuple[str, str | None, bool]]:
    """``a=b,c==d,e!=f,g,!h`` as (key, value or None for existence, wanted) requirements."""
    requirements: list[tuple[str, str | None, bool]] = []
    for part in filter(None, (p.strip() for p in selector.split(","))):
        if "!=" in part:
            key, value = part.split("!=", 1)
            requirements.append((key.strip(), value.strip(), False))
        elif "=" in part:
            key, value = part.replace("==", "=", 1).split("=", 1)
            requirements.append((key.strip(), value.strip(), True))
        elif _LABEL_KEY.match(part.removeprefix("!")):
            requirements.append((part.removeprefix("!"), None, not part.startswith("!")))
        else:
            raise ValueError(f"unable to parse requirement: {part!r}: only =, ==, != and existence")
    return requirements


def _matches(labels: dict[str, str], requirements: list[tuple[str, str | None, bool]]) -> bool:
    for key, value, wanted in requirements:
        present = key in labels if value is None else labels.get(key) == value
        if present != wanted:
            return False
    return True


class _KubeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: KubeApiServer

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        code, body = self._answer()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.write(body)

    def _answer(self) -> tuple[int, bytes]:
        token = self.server.token
        if token and self.headers.get("Authorization", "") != f"Bearer {token}":
            return 401, status_body(401, "Unauthorized", "Unauthorized")
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if query.get("watch") in ("true", "1"):
            return 405, status_body(405, "MethodNotAllowed", "the demo stand-in does not watch")
        parts = [p for p in url.path.split("/") if p]
        state = self.server.state
        if parts == ["version"]:
            return 200, json.dumps(KUBERNETES_VERSION).encode()
        if parts[:2] == ["api", "v1"]:
            rest, group = parts[2:], "/api/v1"
        elif parts[:3] in (
            ["apis", "apps", "v1"],
            ["apis", "batch", "v1"],
            ["apis", "admissionregistration.k8s.io", "v1"],
        ):
            rest, group = parts[3:], "/" + "/".join(parts[:3])
        else:
            return _not_found()
        namespace = ""
        if len(rest) >= 2 and rest[0] == "namespaces":
            if len(rest) == 2 and group == "/api/v1":
                return state.single("namespaces", "", rest[1])
            namespace, rest = rest[1], rest[2:]
        if not rest or rest[0] not in state.collections or RESOURCES[rest[0]][0] != group:
            return _not_found()
        resource = rest[0]
        if namespace and not RESOURCES[resource][2]:
            return _not_found()
        if len(rest) == 2:
            return state.single(resource, namespace, rest[1])
        if len(rest) > 2:
            return _not_found()
        try:
            limit = int(query.get("limit", "0") or 0)
        except ValueError:
            return 400, status_body(400, "BadRequest", f"invalid limit: {query['limit']!r}")
        return state.list_page(
            resource, namespace, query.get("labelSelector", ""), limit, query.get("continue", "")
        )

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the http.server API)
        """Paged lists make many requests; the stand-in stays quiet."""


def _not_found() -> tuple[int, bytes]:
    return 404, status_body(404, "NotFound", "the server could not find the requested resource", {})


class KubeApiServer(ThreadingHTTPServer):
    """The stand-in: ``KubeApiServer(mesh).start()``; ``url`` once bound. ``objects``
    serves a fixed set instead of the mesh's (``KubeState``)."""

    daemon_threads = True
    handler_class: type[BaseHTTPRequestHandler] = _KubeHandler

    def handle_error(self, request, client_address) -> None:
        """A client that hung up mid-answer is not an error of the stand-in."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def __init__(
        self,
        mesh: DemoMesh | None,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = "",
        objects: dict[str, list[dict]] | None = None,
    ):
        self.state = KubeState(cluster_objects(mesh) if objects is None else objects)
        self.token = token
        super().__init__((host, port), self.handler_class)
        self._thread = threading.Thread(target=self.serve_forever, name="demo-kubeapi", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> KubeApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join()
