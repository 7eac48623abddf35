import pytest

from meshdash.mesh.checks import CRITICAL, INFO, WARNING, CheckInputs, Webhook
from meshdash.mesh.checks.inputs import LINKERD_INJECTOR, LINKERD_POLICY_VALIDATOR
from meshdash.mesh.checks.webhooks import (
    call_order,
    check_conflicting_webhooks,
    check_linkerd_webhooks,
    selector_matches,
)

from .helpers import DAY, NOW, ctx, namespace, snapshot

INJECTOR_SELECTOR = {
    "matchExpressions": [
        {"key": "config.linkerd.io/admission-webhooks", "operator": "NotIn", "values": ["disabled"]}
    ]
}


def injector(**fields):
    values = dict(
        namespace_selector=INJECTOR_SELECTOR,
        failure_policy="Fail",
        ca_bundle_not_after=NOW + 300 * DAY,
    )
    values.update(fields)
    return Webhook(LINKERD_INJECTOR, "linkerd-proxy-injector.linkerd.io", "mutating", **values)


def validator(**fields):
    return Webhook(
        LINKERD_POLICY_VALIDATOR, "linkerd-policy-validator.linkerd.io", "validating", **fields
    )


def test_not_collected_finds_nothing():
    assert check_linkerd_webhooks(ctx()) == [] and check_conflicting_webhooks(ctx()) == []


def test_missing_linkerd_webhooks():
    found = check_linkerd_webhooks(ctx(inputs=CheckInputs(webhooks=[])))
    assert sorted((f.subject[0].name, f.severity) for f in found) == [
        (LINKERD_POLICY_VALIDATOR, WARNING),
        (LINKERD_INJECTOR, CRITICAL),
    ]
    assert check_linkerd_webhooks(ctx(inputs=CheckInputs(webhooks=[injector(), validator()]))) == []


@pytest.mark.parametrize(
    "days, severity", [(60.1, None), (60, WARNING), (7.1, WARNING), (7, CRITICAL), (-0.5, CRITICAL)]
)
def test_ca_bundle_expiry(days, severity):
    hooks = [injector(ca_bundle_not_after=NOW + days * DAY), validator()]
    found = check_linkerd_webhooks(ctx(inputs=CheckInputs(webhooks=hooks)))
    assert [f.severity for f in found] == ([severity] if severity else [])
    if days < 0:
        assert "expired 12 h ago" in found[0].summary


def test_injector_failure_policy_ignore_is_info():
    found = check_linkerd_webhooks(
        ctx(inputs=CheckInputs(webhooks=[injector(failure_policy="Ignore"), validator()]))
    )
    assert [f.severity for f in found] == [INFO]


def test_selector_matching():
    labels = {"kubernetes.io/metadata.name": "shop", "team": "a"}
    assert selector_matches(None, labels) and selector_matches({}, labels)
    assert selector_matches({"matchLabels": {"team": "a"}}, labels)
    assert not selector_matches({"matchLabels": {"team": "b"}}, labels)
    assert selector_matches(INJECTOR_SELECTOR, labels)
    assert not selector_matches(
        INJECTOR_SELECTOR, {"config.linkerd.io/admission-webhooks": "disabled"}
    )
    assert selector_matches(
        {"matchExpressions": [{"key": "team", "operator": "In", "values": ["a"]}]}, labels
    )
    assert not selector_matches({"matchExpressions": [{"key": "x", "operator": "Exists"}]}, labels)
    assert selector_matches(
        {"matchExpressions": [{"key": "x", "operator": "DoesNotExist"}]}, labels
    )


def test_call_order_mutating_by_name_then_validating():
    hooks = [
        validator(),
        Webhook("zz-mutator", "z", "mutating"),
        injector(),
        Webhook("aa", "a", "mutating"),
    ]
    assert [h.configuration for h in call_order(hooks)] == [
        "aa",
        LINKERD_INJECTOR,
        "zz-mutator",
        LINKERD_POLICY_VALIDATOR,
    ]


def conflict_ctx(*others, injector_fields=None, namespaces=None):
    hooks = [injector(**(injector_fields or {})), validator(), *others]
    snap = snapshot(namespaces=namespaces or [namespace("shop"), namespace("plain", inject="")])
    return ctx(snap, CheckInputs(webhooks=hooks, namespace_labels={"shop": {"policy": "strict"}}))


def test_validating_webhook_failing_closed_on_injected_namespaces():
    gk = Webhook(
        "gatekeeper-validating-webhook-configuration",
        "validation.gatekeeper.sh",
        "validating",
        failure_policy="Fail",
    )
    (found,) = check_conflicting_webhooks(conflict_ctx(gk))
    assert found.severity == WARNING
    assert [r.name for r in found.subject] == [
        "gatekeeper-validating-webhook-configuration",
        "shop",
    ]
    order = {e.label: e.value for e in found.evidence}
    assert order["call order"] == "2 of 3" and order["Linkerd injector's call order"] == "1 of 3"


def test_mutating_after_linkerd_not_reinvoked():
    istio = Webhook("sidecar-injector", "istio", "mutating", failure_policy="Fail")
    (found,) = check_conflicting_webhooks(conflict_ctx(istio))
    assert found.severity == WARNING and "not reinvoked" in found.summary
    (found,) = check_conflicting_webhooks(
        conflict_ctx(istio, injector_fields={"reinvocation_policy": "IfNeeded"})
    )
    assert found.severity == INFO
    before = Webhook("aaa-mutator", "a", "mutating")
    (found,) = check_conflicting_webhooks(conflict_ctx(before))
    assert found.severity == INFO


def test_webhooks_on_other_namespaces_do_not_conflict():
    other = Webhook(
        "kyverno", "k", "validating", namespace_selector={"matchLabels": {"policy": "none"}}
    )
    assert check_conflicting_webhooks(conflict_ctx(other)) == []
    strict = Webhook(
        "kyverno", "k", "validating", namespace_selector={"matchLabels": {"policy": "strict"}}
    )
    assert len(check_conflicting_webhooks(conflict_ctx(strict))) == 1
