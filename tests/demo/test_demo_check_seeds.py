"""The demo mesh seeds what the on-call checks that read the cluster must find, its truth names
those objects (``DemoMesh.kubernetes_check_seeds``), and the Kubernetes API stand-in serves them
as the API server would; the older seeds the checks read are still there."""

import base64
import datetime

import pytest
from cryptography import x509

from meshdash.collectors.kubernetes import annotated_at, pod_status_text
from meshdash.demo import model
from meshdash.demo.kubeapi import cluster_objects
from meshdash.demo.model import build_mesh, trust_root_sha256

EPOCH = 1_772_409_600.0  # 2026-03-02T00:00:00Z
SEED_NAMES = {
    "trust-root",
    "misplaced-inject",
    "annotated-after-pods",
    "webhook-denied",
    "conflicting-webhooks",
    "linkerd-webhook-ca",
}


@pytest.fixture(scope="module", params=[(300, 1), (60, 5), (40, 1)], ids=str)
def mesh(request):
    workloads, seed = request.param
    return build_mesh(workloads, seed=seed, epoch=EPOCH)


@pytest.fixture(scope="module")
def objects(mesh):
    return cluster_objects(mesh)


def _by_name(items):
    return {(o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in items}


def test_every_seed_is_there_and_repeats_with_the_seed(mesh):
    seeds = mesh.kubernetes_check_seeds()
    assert set(seeds) == SEED_NAMES
    assert all(seeds.values()), seeds
    again = build_mesh(len(mesh.workloads), seed=mesh.seed, epoch=EPOCH)
    assert again.kubernetes_check_seeds() == seeds
    assert len(seeds["trust-root"]) == 1 and len(seeds["webhook-denied"]) == 1


def test_the_seeds_leave_the_other_troubles_alone(mesh):
    seeds = mesh.kubernetes_check_seeds()
    pods = {(p.namespace, p.name): (w, p) for w in mesh.all_workloads for p in w.pods}
    for name in seeds["trust-root"]:
        w, pod = pods[name]
        assert w.meshed and pod.exports_metrics and pod.ready
        assert not pod.failing_control_plane and not pod.cert_refresh_errors_per_second
    for name in seeds["annotated-after-pods"]:
        w, pod = pods[name]
        # Unmeshed from the start: the traffic truth (no metrics) holds as before.
        assert not w.meshed and not pod.has_proxy and "linkerd.io/inject" not in w.annotations
    denied = seeds["webhook-denied"]
    assert not any(e.workload in denied for e in mesh.events if e.reason == "InjectionSkipped")


def test_it_serves_linkerds_webhooks_and_the_conflicting_ones(mesh, objects):
    mutating = _by_name(objects["mutatingwebhookconfigurations"])
    validating = _by_name(objects["validatingwebhookconfigurations"])
    assert set(mutating) == {
        ("", "linkerd-proxy-injector-webhook-config"),
        ("", "vault-agent-injector-cfg"),
    }
    assert set(validating) == {
        ("", "linkerd-policy-validator-webhook-config"),
        ("", "gatekeeper-validating-webhook-configuration"),
    }
    injector = mutating[("", "linkerd-proxy-injector-webhook-config")]["webhooks"]
    assert [h["name"] for h in injector] == ["linkerd-proxy-injector.linkerd.io"]
    (hook,) = injector
    # As linkerd2's chart renders it, with the API server's defaults.
    assert hook["failurePolicy"] == "Ignore" and hook["reinvocationPolicy"] == "Never"
    assert hook["rules"][0]["resources"] == ["pods", "services"]
    assert hook["clientConfig"]["service"] == {
        "namespace": "linkerd",
        "name": "linkerd-proxy-injector",
        "path": "/",
        "port": 443,
    }
    gatekeeper = validating[("", "gatekeeper-validating-webhook-configuration")]["webhooks"]
    assert [h["name"] for h in gatekeeper] == [
        "validation.gatekeeper.sh",
        "check-ignore-label.gatekeeper.sh",
    ]
    assert "reinvocationPolicy" not in gatekeeper[0]  # a validating webhook has none
    truth = {(h.configuration, h.name): h for h in mesh.webhooks}
    for config in [*mutating.values(), *validating.values()]:
        for served in config["webhooks"]:
            want = truth[(config["metadata"]["name"], served["name"])]
            pem = base64.b64decode(served["clientConfig"]["caBundle"])
            (cert,) = x509.load_pem_x509_certificates(pem)
            assert cert.not_valid_after_utc.timestamp() == want.ca_not_after
            assert served["failurePolicy"] == want.failure_policy


def test_linkerds_policy_validator_ca_expires_within_the_warning_window(mesh):
    (name,) = mesh.kubernetes_check_seeds()["linkerd-webhook-ca"]
    assert name == "linkerd-policy-validator-webhook-config"
    hook = next(h for h in mesh.webhooks if h.configuration == name)
    assert 7 * 86400 < hook.ca_not_after - EPOCH < 60 * 86400


def test_it_serves_the_pod_that_trusts_another_anchor(mesh, objects):
    (stale,) = mesh.kubernetes_check_seeds()["trust-root"]
    expected = trust_root_sha256(mesh)
    served = {}
    for pod in objects["pods"]:
        annotations = pod["metadata"].get("annotations", {})
        if "linkerd.io/trust-root-sha256" in annotations:
            served[(pod["metadata"]["namespace"], pod["metadata"]["name"])] = annotations[
                "linkerd.io/trust-root-sha256"
            ]
    different = {name for name, sha in served.items() if sha != expected}
    assert different == {stale}
    assert len(served[stale]) == 64 and int(served[stale], 16) >= 0


def test_it_serves_inject_on_a_deployments_metadata_not_its_template(mesh, objects):
    (key,) = mesh.kubernetes_check_seeds()["misplaced-inject"]
    namespace, kind, name = key
    assert kind == "deployment"
    deployment = _by_name(objects["deployments"])[(namespace, name)]
    assert deployment["metadata"]["annotations"]["linkerd.io/inject"] == "enabled"
    template = deployment["spec"]["template"]["metadata"]
    assert "linkerd.io/inject" not in template.get("annotations", {})


def test_it_serves_a_namespace_annotated_after_some_of_its_pods(mesh, objects):
    seeded = mesh.kubernetes_check_seeds()["annotated-after-pods"]
    namespaces = {namespace for namespace, _ in seeded}
    assert len(namespaces) == 1
    (namespace,) = namespaces
    served = _by_name(objects["namespaces"])[("", namespace)]
    at = annotated_at(served, "linkerd.io/inject")
    assert at == mesh_namespace(mesh, namespace).annotated_at // 1  # served to the second
    pods = _by_name(objects["pods"])
    for name in seeded:
        created = datetime.datetime.fromisoformat(
            pods[name]["metadata"]["creationTimestamp"].replace("Z", "+00:00")
        ).timestamp()
        assert created < at
        assert pods[name]["metadata"].get("annotations", {}).get("linkerd.io/inject") is None
    # Every other namespace was annotated when it was created.
    for ns in mesh.namespaces:
        if ns.name != namespace and ns.annotations.get("linkerd.io/inject"):
            other = _by_name(objects["namespaces"])[("", ns.name)]
            assert annotated_at(other, "linkerd.io/inject") == ns.created_at // 1


def mesh_namespace(mesh, name):
    return next(ns for ns in mesh.namespaces if ns.name == name)


def test_the_older_seeds_the_checks_read_are_still_there(mesh, objects):
    # The issuer within the 60-day warning window (not the 7-day critical one).
    left = mesh.certificates.issuer_not_after - EPOCH
    assert 7 * 86400 < left < 60 * 86400
    # One pod stuck in Init:0/1, as kubectl shows it.
    stuck = [p for w in mesh.all_workloads for p in w.pods if p.init_stuck]
    assert len(stuck) == 1
    pod = _by_name(objects["pods"])[(stuck[0].namespace, stuck[0].name)]
    assert pod_status_text(pod) == "Init:0/1"
    # InjectionSkipped and a webhook's denial among the events.
    reasons = {(e["reason"], e["message"].split(":")[0]) for e in objects["events"]}
    assert any(reason == "InjectionSkipped" for reason, _ in reasons)
    denials = [
        e
        for e in objects["events"]
        if e["reason"] == "FailedCreate" and "admission webhook" in e["message"]
    ]
    assert denials and all("denied the request" in e["message"] for e in denials)
    assert {(e["involvedObject"]["kind"]) for e in denials} == {"ReplicaSet"}
    # The namespace annotated "true", which the injector ignores.
    invalid = [ns for ns in mesh.namespaces if ns.annotations.get("linkerd.io/inject") == "true"]
    assert [ns.name for ns in invalid] == ["legacy-batch"]
    assert round(left / 86400) == model.ISSUER_DAYS_LEFT
