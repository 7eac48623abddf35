"""The on-call checks' Kubernetes inputs (ClusterState.check_inputs): each parser on
hand-written API objects, hostile ones included, then the collector through the official client
against the demo mesh's stand-in, whose truth says what it must find."""

import base64
import datetime
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from meshdash.collectors import kubernetes as kube
from meshdash.collectors.kubernetes import (
    MAX_MANAGED_FIELDS,
    MAX_WEBHOOKS,
    MAX_WEBHOOKS_PER_CONFIGURATION,
    RawCluster,
    annotated_at,
    build_cluster_state,
    ca_bundle_not_after,
    intercepts_pod_creation,
    issuer_signed_by_anchor,
    label_selector,
    parse_webhook_configuration,
    selector_labels,
    trust_roots_sha256,
)
from meshdash.demo.kubeapi import cluster_objects
from meshdash.demo.model import build_mesh, ca_certificate, trust_root_sha256
from meshdash.mesh.checks import CHECKS, CRITICAL, INFO, WARNING, Context
from meshdash.mesh.checks.inputs import (
    LINKERD_INJECTOR,
    LINKERD_POLICY_VALIDATOR,
    MUTATING,
    VALIDATING,
)
from meshdash.mesh.model import MAX_TEXT, Namespace, Snapshot, Workload, WorkloadKey
from tests.collectors import kube_server
from tests.collectors.conftest import kube_client_for

START = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
END = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _pem(cert) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _ca(subject, issuer, subject_key, signing_key, not_after=END):
    return ca_certificate(
        subject, issuer, subject_key.public_key(), signing_key, 7, START, not_after, None
    )


@pytest.fixture(scope="module")
def chain():
    """A trust anchor, an issuer it signed, and the anchor's key."""
    anchor_key, issuer_key = _key(), _key()
    anchor = _ca("root.linkerd.cluster.local", "root.linkerd.cluster.local", anchor_key, anchor_key)
    issuer = _ca(
        "identity.linkerd.cluster.local", "root.linkerd.cluster.local", issuer_key, anchor_key
    )
    return _pem(anchor), _pem(issuer), anchor_key


# --- The trust roots and the issuer.


def test_the_trust_roots_hash_is_the_sha256_of_the_bundle_as_stored():
    bundle = "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n"
    assert trust_roots_sha256(bundle) == hashlib.sha256(bundle.encode()).hexdigest()
    # Byte for byte, as the injector hashes the mounted file: no trimming.
    assert trust_roots_sha256(bundle) != trust_roots_sha256(bundle.strip())
    assert trust_roots_sha256(None) == trust_roots_sha256("") == ""


def test_an_issuer_signed_by_the_anchor_verifies(chain):
    anchor, issuer, _ = chain
    assert issuer_signed_by_anchor(anchor, issuer) is True
    assert issuer_signed_by_anchor(anchor, issuer.encode()) is True


def test_an_issuer_verifies_against_any_root_of_a_bundle(chain):
    anchor, issuer, _ = chain
    other_key = _key()
    other = _pem(_ca("root.other", "root.other", other_key, other_key))
    assert issuer_signed_by_anchor(other + anchor, issuer) is True
    assert issuer_signed_by_anchor(other, issuer) is False


def test_an_issuer_with_the_anchors_name_but_another_signature_does_not_verify(chain):
    anchor, _, _ = chain
    impostor_key = _key()
    # Same issuer name as the anchor's subject, signed by a key that is not the anchor's.
    forged = _pem(
        _ca("identity.linkerd.cluster.local", "root.linkerd.cluster.local", _key(), impostor_key)
    )
    assert issuer_signed_by_anchor(anchor, forged) is False


def test_an_issuer_naming_another_issuer_does_not_verify(chain):
    anchor, _, anchor_key = chain
    # Signed by the anchor's key, but naming someone else as its issuer.
    renamed = _pem(_ca("identity.linkerd.cluster.local", "root.elsewhere", _key(), anchor_key))
    assert issuer_signed_by_anchor(anchor, renamed) is False


@pytest.mark.parametrize(
    ("roots", "issuer"),
    [
        (None, "x"),
        ("", "x"),
        ("x", None),
        ("not a certificate", "not a certificate either"),
        ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", b"\x00\xff"),
    ],
)
def test_missing_or_garbage_certificates_judge_nothing(chain, roots, issuer):
    anchor, good_issuer, _ = chain
    assert issuer_signed_by_anchor(roots, issuer) is None
    if roots is None:
        assert issuer_signed_by_anchor(anchor, None) is None
    assert issuer_signed_by_anchor("garbage", good_issuer) is None


# --- managedFields.


def _namespace(entries):
    return {"metadata": {"name": "shop", "managedFields": entries}}


def _entry(at, *annotations, manager="kubectl-annotate"):
    fields = {"f:metadata": {"f:annotations": {".": {}, **{f"f:{a}": {} for a in annotations}}}}
    return {"manager": manager, "operation": "Update", "time": at, "fieldsV1": fields}


def test_the_annotation_time_is_the_newest_entry_that_owns_it():
    ns = _namespace(
        [
            _entry("2026-01-01T00:00:00Z", "description"),
            _entry("2026-02-01T00:00:00Z", "linkerd.io/inject"),
            _entry("2026-03-01T00:00:00Z", "linkerd.io/inject", manager="helm"),
            _entry("2026-04-01T00:00:00Z", "other"),  # newer, but not about inject
        ]
    )
    want = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC).timestamp()
    assert annotated_at(ns, "linkerd.io/inject") == want


@pytest.mark.parametrize(
    "entries",
    [
        None,
        "managed",
        [],
        [None, 3, "x"],
        [{"time": "2026-01-01T00:00:00Z", "fieldsV1": "f:metadata"}],
        [{"time": "yesterday", **_entry("x", "linkerd.io/inject")}],
        [{"fieldsV1": {"f:metadata": {"f:annotations": ["f:linkerd.io/inject"]}}}],
        [{"time": 12, "fieldsV1": {"f:metadata": {"f:labels": {"f:linkerd.io/inject": {}}}}}],
    ],
)
def test_odd_managed_fields_give_no_time(entries):
    assert annotated_at(_namespace(entries), "linkerd.io/inject") is None


def test_only_the_first_managed_fields_entries_are_read():
    filler = [_entry("2026-01-01T00:00:00Z", "other")] * MAX_MANAGED_FIELDS
    late = _entry("2026-05-01T00:00:00Z", "linkerd.io/inject")
    assert annotated_at(_namespace([*filler, late]), "linkerd.io/inject") is None
    assert annotated_at(_namespace([late, *filler]), "linkerd.io/inject") is not None


def test_namespace_labels_keep_the_system_ones_and_are_bounded():
    labels = selector_labels({"kubernetes.io/metadata.name": "shop", "linkerd.io/x": "y" * 500})
    assert labels["kubernetes.io/metadata.name"] == "shop"
    assert len(labels["linkerd.io/x"]) <= 63
    assert len(selector_labels({f"k{i}": "v" for i in range(10_000)})) == kube.MAX_NAMESPACE_LABELS
    assert selector_labels(["a"]) == {} and selector_labels(None) == {}


# --- Webhooks.


def _rule(groups=("",), resources=("pods",), operations=("CREATE",), versions=("v1",)):
    rule = {"apiGroups": list(groups), "resources": list(resources), "operations": list(operations)}
    if versions is not None:
        rule["apiVersions"] = list(versions)
    return rule


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ([_rule()], True),
        ([_rule(groups=("*",), resources=("*",), operations=("*",), versions=("*",))], True),
        ([_rule(resources=("*/*",))], True),
        ([_rule(versions=None)], True),
        ([_rule(resources=("services",)), _rule()], True),
        ([_rule(resources=("pods/exec",))], False),  # a subresource only
        ([_rule(resources=("namespaces",))], False),
        ([_rule(groups=("apps",))], False),
        ([_rule(operations=("UPDATE", "DELETE"))], False),
        ([_rule(versions=("v2",))], False),
        ([], False),
        (None, False),
        ("pods", False),
        ([{"apiGroups": "", "resources": "pods", "operations": "CREATE"}], False),
        ([None, 7], False),
    ],
)
def test_it_keeps_the_rules_that_match_creating_a_pod(rules, expected):
    assert intercepts_pod_creation(rules) is expected


def test_a_selector_is_kept_bounded_and_empty_means_every_namespace():
    assert (
        label_selector({}) is None and label_selector(None) is None and label_selector("x") is None
    )
    assert label_selector({"matchLabels": {}, "matchExpressions": []}) is None
    selector = label_selector(
        {
            "matchLabels": {"a": "b"},
            "matchExpressions": [
                {"key": "k", "operator": "NotIn", "values": [f"v{i}" for i in range(1000)]},
                "garbage",
            ]
            + [{"key": "e", "operator": "Exists"}] * 1000,
        }
    )
    assert selector["matchLabels"] == {"a": "b"}
    assert len(selector["matchExpressions"]) == kube.MAX_SELECTOR_EXPRESSIONS
    first = selector["matchExpressions"][0]
    assert first["operator"] == "NotIn" and len(first["values"]) == kube.MAX_SELECTOR_VALUES
    assert selector["matchExpressions"][1] == {"key": "", "operator": "", "values": []}


def _bundle(*not_afters) -> str:
    pems = []
    for not_after in not_afters:
        key = _key()
        pems.append(_pem(_ca("webhook.svc", "webhook.svc", key, key, not_after)))
    return base64.b64encode("".join(pems).encode()).decode()


def test_the_ca_bundle_expiry_is_its_first_certificates():
    later = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    assert ca_bundle_not_after(_bundle(END, later)) == END.timestamp()
    assert ca_bundle_not_after(_bundle(later, END)) == later.timestamp()


@pytest.mark.parametrize(
    "bundle",
    [
        None,
        "",
        42,
        "not base64 at all!",
        base64.b64encode(b"no certificate in here").decode(),
        base64.b64encode(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
        ).decode(),
        "A" * (kube.MAX_CA_BUNDLE + 4),
    ],
)
def test_a_garbage_ca_bundle_has_no_expiry(bundle):
    assert ca_bundle_not_after(bundle) is None


def _configuration(name, *webhooks):
    return {"metadata": {"name": name}, "webhooks": list(webhooks)}


def test_it_reads_each_pod_webhook_with_its_position_and_the_api_defaults():
    bundle = _bundle(END)
    config = _configuration(
        "gatekeeper-validating-webhook-configuration",
        {
            "name": "validation.gatekeeper.sh",
            "rules": [_rule(groups=("*",), resources=("*",), operations=("CREATE", "UPDATE"))],
            "failurePolicy": "Fail",
            "namespaceSelector": {
                "matchExpressions": [
                    {"key": "admission.gatekeeper.sh/ignore", "operator": "DoesNotExist"}
                ]
            },
            "clientConfig": {"caBundle": bundle},
        },
        {"name": "check-ignore-label.gatekeeper.sh", "rules": [_rule(resources=("namespaces",))]},
        # No failurePolicy nor reinvocationPolicy: the API's defaults.
        {"name": "late.example.com", "rules": [_rule()]},
    )
    hooks = parse_webhook_configuration(config, VALIDATING)
    assert [(h.name, h.index) for h in hooks] == [
        ("validation.gatekeeper.sh", 0),
        ("late.example.com", 2),
    ]
    first, late = hooks
    assert first.configuration == "gatekeeper-validating-webhook-configuration"
    assert first.kind == VALIDATING and first.failure_policy == "Fail"
    assert first.namespace_selector == {
        "matchExpressions": [
            {"key": "admission.gatekeeper.sh/ignore", "operator": "DoesNotExist", "values": []}
        ]
    }
    assert first.ca_bundle_not_after == END.timestamp()
    assert late.failure_policy == "Fail" and late.reinvocation_policy == "Never"
    assert late.namespace_selector is None and late.ca_bundle_not_after is None


def test_it_keeps_linkerds_own_webhooks_whatever_their_rules():
    validator = _configuration(
        LINKERD_POLICY_VALIDATOR,
        {
            "name": "linkerd-policy-validator.linkerd.io",
            "rules": [_rule(groups=("policy.linkerd.io",), resources=("servers",))],
            "failurePolicy": "Ignore",
        },
    )
    injector = _configuration(
        LINKERD_INJECTOR,
        {
            "name": "linkerd-proxy-injector.linkerd.io",
            "rules": [_rule()],
            "reinvocationPolicy": "IfNeeded",
        },
    )
    (policy,) = parse_webhook_configuration(validator, VALIDATING)
    assert policy.failure_policy == "Ignore"
    (hook,) = parse_webhook_configuration(injector, MUTATING)
    assert hook.kind == MUTATING and hook.reinvocation_policy == "IfNeeded"


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"metadata": "x", "webhooks": [{"name": "a", "rules": [_rule()]}]},
        {"metadata": {"name": ""}, "webhooks": [{"name": "a", "rules": [_rule()]}]},
        {"metadata": {"name": "c"}, "webhooks": "all of them"},
        {"metadata": {"name": "c"}, "webhooks": [None, "x", 3]},
    ],
)
def test_odd_configurations_give_no_webhook(config):
    assert parse_webhook_configuration(config, MUTATING) == []


def test_odd_fields_of_a_webhook_read_as_their_defaults_and_text_is_bounded():
    config = _configuration(
        "x" * 10_000,
        {
            "name": "<script>" * 1000,
            "rules": [_rule()],
            "failurePolicy": ["Fail"],
            "reinvocationPolicy": {"a": 1},
            "namespaceSelector": "everything",
            "clientConfig": "none",
        },
    )
    (hook,) = parse_webhook_configuration(config, MUTATING)
    assert hook.failure_policy == "Fail" and hook.reinvocation_policy == "Never"
    assert hook.namespace_selector is None and hook.ca_bundle_not_after is None
    assert len(hook.name) <= 253 and len(hook.configuration) <= MAX_TEXT


def test_huge_webhook_lists_are_capped():
    hook = {"name": "h", "rules": [_rule()]}
    config = _configuration("big", *[hook] * 10_000)
    assert len(parse_webhook_configuration(config, MUTATING)) == MAX_WEBHOOKS_PER_CONFIGURATION
    raw = _raw(mutating=[_configuration(f"c{i}", hook) for i in range(MAX_WEBHOOKS + 500)])
    assert len(build_cluster_state(raw).check_inputs.webhooks) == MAX_WEBHOOKS


# --- From a raw cluster.


def _raw(mutating=(), validating=(), **data) -> RawCluster:
    raw = RawCluster()
    raw.data.update(
        {
            "mutatingwebhookconfigurations": list(mutating),
            "validatingwebhookconfigurations": list(validating),
            **data,
        }
    )
    return raw


def test_it_reads_inject_on_the_workloads_own_metadata_not_its_template():
    def deployment(name, own=None, template=None):
        return {
            "metadata": {
                "namespace": "shop",
                "name": name,
                "annotations": {"linkerd.io/inject": own} if own else {},
            },
            "spec": {
                "template": {
                    "metadata": {"annotations": {"linkerd.io/inject": template} if template else {}}
                }
            },
        }

    raw = _raw(
        deployments=[
            deployment("misplaced", own="enabled"),
            deployment("right", template="enabled"),
            deployment("both", own="true", template="enabled"),
            {"metadata": {"namespace": "shop"}},  # no name: no workload
        ]
    )
    inputs = build_cluster_state(raw).check_inputs
    assert inputs.workload_metadata_inject == {
        WorkloadKey("shop", "deployment", "misplaced"): "enabled",
        WorkloadKey("shop", "deployment", "both"): "true",
    }


def test_it_reads_each_pods_trust_root_and_the_namespaces(chain):
    anchor, issuer, _ = chain
    pods = [
        {
            "metadata": {
                "namespace": "shop",
                "name": "a",
                "annotations": {"linkerd.io/trust-root-sha256": "f" * 64},
            }
        },
        {
            "metadata": {
                "namespace": "shop",
                "name": "b",
                "annotations": {"linkerd.io/trust-root-sha256": "x" * 10_000},
            }
        },
        {"metadata": {"namespace": "shop", "name": "c"}},
        {
            "metadata": {
                "name": "no-namespace",
                "annotations": {"linkerd.io/trust-root-sha256": "f"},
            }
        },
    ]
    namespaces = [
        {
            "metadata": {
                "name": "shop",
                "labels": {"team": "web"},
                "managedFields": [_entry("2026-02-01T00:00:00Z", "linkerd.io/inject")],
            }
        },
        {"metadata": {"name": "plain"}},
    ]
    raw = _raw(
        pods=pods,
        namespaces=namespaces,
        trust_roots={"data": {"ca-bundle.crt": anchor}},
        issuer={"data": {"crt.pem": base64.b64encode(issuer.encode()).decode()}},
    )
    inputs = build_cluster_state(raw).check_inputs
    assert inputs.control_plane_trust_root_sha256 == hashlib.sha256(anchor.encode()).hexdigest()
    assert inputs.issuer_signed_by_anchor is True
    assert set(inputs.pod_trust_roots) == {("shop", "a"), ("shop", "b")}
    assert inputs.pod_trust_roots[("shop", "a")] == "f" * 64
    assert len(inputs.pod_trust_roots[("shop", "b")]) <= 128
    assert inputs.namespace_labels == {"shop": {"team": "web"}, "plain": {}}
    assert inputs.namespace_annotated_at == {
        "shop": datetime.datetime(2026, 2, 1, tzinfo=datetime.UTC).timestamp()
    }
    assert inputs.webhooks == []  # both lists read, none there: collected, nothing found


def test_an_issuer_secret_that_is_no_base64_judges_nothing(chain):
    anchor, _, _ = chain
    raw = _raw(trust_roots={"data": {"ca-bundle.crt": anchor}}, issuer={"data": {"crt.pem": "!!"}})
    assert build_cluster_state(raw).check_inputs.issuer_signed_by_anchor is None
    assert build_cluster_state(RawCluster()).check_inputs.issuer_signed_by_anchor is None


@pytest.mark.parametrize(
    "failed", ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"]
)
def test_a_failed_webhook_list_leaves_the_webhooks_not_collected(failed):
    raw = _raw(mutating=[_configuration(LINKERD_INJECTOR, {"name": "i", "rules": [_rule()]})])
    del raw.data[failed]
    raw.errors[failed] = "Kubernetes API answered HTTP 403"
    state = build_cluster_state(raw)
    assert state.check_inputs.webhooks is None
    assert state.errors[failed] == "Kubernetes API answered HTTP 403"


# --- Through the official client, against the demo mesh's stand-in.


@pytest.fixture(scope="module")
def mesh():
    return build_mesh(40, seed=1)


@pytest.fixture
def demo_api(mesh, tmp_path):
    server = kube_server.start(cluster_objects(mesh))
    try:
        server.write_kubeconfig(tmp_path / "kubeconfig")
        yield server
    finally:
        server.stop()


def _collect(server):
    client = kube_client_for(server, page_size=50)
    return build_cluster_state(client.fetch(), client.linkerd_namespace)


def test_the_collector_fills_every_kubernetes_input_of_the_checks(demo_api, mesh):
    state = _collect(demo_api)
    assert state.errors == {}
    inputs = state.check_inputs
    seeds = mesh.kubernetes_check_seeds()
    assert all(seeds[name] for name in seeds), seeds  # the demo seeds each of them

    assert inputs.issuer_signed_by_anchor is True
    assert inputs.control_plane_trust_root_sha256 == trust_root_sha256(mesh)
    meshed = {(p.namespace, p.name) for w in mesh.all_workloads for p in w.pods if p.has_proxy}
    assert set(inputs.pod_trust_roots) == meshed
    different = {
        pod
        for pod, sha in inputs.pod_trust_roots.items()
        if sha != inputs.control_plane_trust_root_sha256
    }
    assert different == seeds["trust-root"]

    assert set(inputs.workload_metadata_inject) == {
        WorkloadKey(*k) for k in seeds["misplaced-inject"]
    }

    late = {ns.name: ns.annotated_at for ns in mesh.namespaces if ns.annotated_at is not None}
    assert late and set(late) <= set(inputs.namespace_annotated_at)
    for name, at in late.items():
        assert inputs.namespace_annotated_at[name] == pytest.approx(at, abs=1)
    created = {p.name: p.created_at for w in mesh.all_workloads for p in w.pods}
    for namespace, pod in seeds["annotated-after-pods"]:
        assert created[pod] < inputs.namespace_annotated_at[namespace]
    # Annotated with the namespace everywhere else: no pod of theirs predates it.
    for ns in mesh.namespaces:
        if ns.name not in late and ns.annotations.get("linkerd.io/inject"):
            assert inputs.namespace_annotated_at[ns.name] == pytest.approx(ns.created_at, abs=1)

    assert inputs.namespace_labels == {ns.name: ns.labels for ns in mesh.namespaces}

    served = {(h.configuration, h.name) for h in mesh.webhooks if h.intercepts_pod_creation}
    served |= {
        (h.configuration, h.name) for h in mesh.webhooks if h.configuration.startswith("linkerd-")
    }
    assert {(h.configuration, h.name) for h in inputs.webhooks} == served
    assert (
        "gatekeeper-validating-webhook-configuration",
        "check-ignore-label.gatekeeper.sh",
    ) not in served
    truth = {(h.configuration, h.name): h for h in mesh.webhooks}
    for hook in inputs.webhooks:
        want = truth[(hook.configuration, hook.name)]
        assert hook.kind == want.kind
        assert hook.failure_policy == want.failure_policy
        assert hook.reinvocation_policy == want.reinvocation_policy
        assert hook.ca_bundle_not_after == pytest.approx(want.ca_not_after, abs=1)
        assert hook.namespace_selector == label_selector(want.namespace_selector)
        same_configuration = [h for h in mesh.webhooks if h.configuration == want.configuration]
        assert hook.index == same_configuration.index(want)
    assert {h.configuration for h in inputs.webhooks} >= {
        LINKERD_INJECTOR,
        LINKERD_POLICY_VALIDATOR,
    }


@pytest.mark.parametrize(
    "failed", ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"]
)
def test_a_403_on_a_webhook_list_is_named_and_leaves_the_webhooks_not_collected(demo_api, failed):
    demo_api.faults[f"/apis/admissionregistration.k8s.io/v1/{failed}"] = 403
    state = _collect(demo_api)
    assert state.check_inputs.webhooks is None
    assert state.errors == {failed: "Kubernetes API answered HTTP 403"}
    # The rest is collected as ever.
    assert state.pods and state.check_inputs.pod_trust_roots
    assert state.check_inputs.issuer_signed_by_anchor is True


def test_an_api_server_without_the_webhook_lists_reads_as_not_collected_without_an_error(demo_api):
    for name in ("mutatingwebhookconfigurations", "validatingwebhookconfigurations"):
        demo_api.objects.pop(name)
    state = _collect(demo_api)
    assert state.errors == {}
    assert state.check_inputs.webhooks is None


def test_the_checks_find_each_seeded_mistake_in_what_the_collector_read(demo_api, mesh):
    """The checks that read the cluster, over a snapshot made of the collected lists (no
    metrics): each seeded mistake is found on the objects the demo's truth names."""
    state = _collect(demo_api)
    snapshot = Snapshot(
        window="1m",
        taken_at=mesh.epoch,
        pods=state.pods,
        events=state.events,
        control_plane=state.control_plane,
        namespaces=[Namespace(name, inject) for name, inject in state.namespaces.items()],
        workloads=[
            Workload(k.namespace, k.kind, k.name, inject_annotation=info.inject_annotation)
            for k, info in state.workloads.items()
        ],
    )
    ctx = Context(snapshot, inputs=state.check_inputs)
    seeds = mesh.kubernetes_check_seeds()

    def subjects(check, severity=None):
        return {
            (ref.namespace, ref.kind, ref.name)
            for f in CHECKS[check](ctx)
            if severity in (None, f.severity)
            for ref in f.subject[:1]
        }

    pods = {(p.namespace, p.name): p for w in mesh.all_workloads for p in w.pods}
    owner = {
        (p.namespace, p.name): (w.namespace, w.kind, w.name)
        for w in mesh.all_workloads
        for p in w.pods
    }
    assert subjects("certificates.trust-root") == {owner[p] for p in seeds["trust-root"]}
    assert subjects("certificates.issuer-chain") == set()
    assert subjects("certificates.issuer", WARNING) == {
        ("linkerd", "control-plane", "linkerd-identity-issuer")
    }
    assert subjects("injection.misplaced") == seeds["misplaced-inject"]
    stale = {
        f.subject[0].name
        for f in CHECKS["injection.missing-proxy"](ctx)
        if "not restarted since" in f.summary
    }
    assert stale == {owner[p][2] for p in seeds["annotated-after-pods"]}
    assert all(pods[p].created_at < mesh.epoch for p in seeds["annotated-after-pods"])
    stuck = {
        owner[(p.namespace, p.name)] for w in mesh.all_workloads for p in w.pods if p.init_stuck
    }
    assert stuck and subjects("injection.stuck-init") == stuck
    denied = subjects("injection.events", CRITICAL)
    assert denied == seeds["webhook-denied"]
    skipped = subjects("injection.events", WARNING)
    assert skipped and skipped.isdisjoint(denied)
    assert subjects("injection.annotation") >= {("", "namespace", "legacy-batch")}

    linkerd = CHECKS["webhooks.linkerd"](ctx)
    assert {f.subject[0].name for f in linkerd if f.severity == WARNING} == seeds[
        "linkerd-webhook-ca"
    ]
    assert not any("missing" in f.summary for f in linkerd)
    assert any(f.severity == INFO and "failurePolicy is Ignore" in f.summary for f in linkerd)
    conflicts = CHECKS["webhooks.conflict"](ctx)
    assert {f.subject[0].name for f in conflicts} == seeds["conflicting-webhooks"]
    # Gatekeeper fails closed; Vault's injector mutates after Linkerd's, which is not reinvoked.
    assert {f.subject[0].name for f in conflicts if f.severity == WARNING} == seeds[
        "conflicting-webhooks"
    ]
