"""Webhook checks: Linkerd's admission webhooks, and the others that see the same pods."""

from meshdash.mesh.checks.context import Context
from meshdash.mesh.checks.findings import (
    CRITICAL,
    INFO,
    WARNING,
    WEBHOOK,
    Evidence,
    Finding,
    Ref,
    countdown,
    severity_at_most,
    utc_time,
)
from meshdash.mesh.checks.inputs import (
    LINKERD_INJECTOR,
    LINKERD_POLICY_VALIDATOR,
    MUTATING,
    VALIDATING,
    Webhook,
)

NAME_LABEL = "kubernetes.io/metadata.name"  # Kubernetes sets it on every namespace


def selector_matches(selector: dict | None, labels: dict[str, str]) -> bool:
    """Whether a Kubernetes label selector (matchLabels, matchExpressions with In, NotIn,
    Exists, DoesNotExist) selects ``labels``; an empty or missing selector selects all."""
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key", ""), expr.get("operator", "")
        values = expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def call_order(webhooks: list[Webhook]) -> list[Webhook]:
    """The order the API server calls them in for one object: mutating webhooks sorted by
    configuration name, then their position in it; validating ones after all of them (in
    parallel, listed by name)."""
    return sorted(webhooks, key=lambda w: (w.kind != MUTATING, w.configuration, w.index, w.name))


def _ref(hook: Webhook) -> Ref:
    return Ref("", WEBHOOK, hook.configuration)


def _source(hook: Webhook) -> str:
    return f"{hook.kind}webhookconfiguration {hook.configuration} webhook {hook.name}"


def _injected_namespaces(ctx: Context) -> list[str]:
    names = {ns.name for ns in ctx.snapshot.namespaces if ns.inject_annotation == "enabled"}
    names |= {w.namespace for w in ctx.snapshot.workloads if w.inject_annotation == "enabled"}
    return sorted(names)


def _labels(ctx: Context, namespace: str) -> dict[str, str]:
    labels = dict(ctx.inputs.namespace_labels.get(namespace, {}))
    labels.setdefault(NAME_LABEL, namespace)
    return labels


def check_linkerd_webhooks(ctx: Context) -> list[Finding]:
    """**Linkerd's webhooks** (`webhooks.linkerd`).

    Detects: the proxy injector's mutating webhook missing (critical) or the policy
    validator's missing (warning); their CA bundle expired (critical) or expiring within
    `webhook_ca_warning_days` (60) / `webhook_ca_critical_days` (7); the injector's
    `failurePolicy: Ignore` (info: while it is unreachable pods start without a proxy,
    silently).

    Why it matters: without the injector no new pod is meshed; with an expired CA bundle the
    API server cannot call it, so pods are either created unmeshed (Ignore) or not at all
    (Fail).

    Fix: `linkerd upgrade | kubectl apply -f -` re-creates the webhooks and their certificates;
    restart the injector afterwards.
    """
    hooks = ctx.inputs.webhooks
    if hooks is None:
        return []
    t = ctx.thresholds
    ns = ctx.control_plane_namespace
    fix = (
        "linkerd upgrade | kubectl apply -f -",
        f"kubectl -n {ns} rollout restart deploy",
        "linkerd check",
    )
    found = []
    present = {h.configuration for h in hooks}
    for name, kind, severity in (
        (LINKERD_INJECTOR, MUTATING, CRITICAL),
        (LINKERD_POLICY_VALIDATOR, VALIDATING, WARNING),
    ):
        if name not in present:
            found.append(
                Finding(
                    check="webhooks.linkerd",
                    severity=severity,
                    subject=(Ref("", WEBHOOK, name),),
                    summary=f"{kind.capitalize()}WebhookConfiguration {name} is missing",
                    evidence=(Evidence("present", "no", f"{kind}webhookconfigurations"),),
                    fix=fix,
                    runbook="Re-apply the control plane's manifests; they create the webhook "
                    "configurations and their CA bundles.",
                )
            )
    for hook in hooks:
        if hook.configuration not in (LINKERD_INJECTOR, LINKERD_POLICY_VALIDATOR):
            continue
        if hook.ca_bundle_not_after is not None:
            left = hook.ca_bundle_not_after - ctx.now
            severity = (
                CRITICAL
                if left <= 0
                else severity_at_most(
                    left / 86400, t.webhook_ca_critical_days, t.webhook_ca_warning_days
                )
            )
            if severity:
                when = countdown(hook.ca_bundle_not_after, ctx.now)
                found.append(
                    Finding(
                        check="webhooks.linkerd",
                        severity=severity,
                        subject=(_ref(hook),),
                        summary=f"CA bundle of {hook.configuration} {when}",
                        evidence=(
                            Evidence(
                                "not after", utc_time(hook.ca_bundle_not_after), _source(hook)
                            ),
                            Evidence("state", when, _source(hook)),
                        ),
                        fix=fix,
                        runbook="Re-issue the webhook's certificate (linkerd upgrade, or its "
                        "cert-manager Certificate) and restart the component serving it.",
                        order=left,
                    )
                )
        if hook.configuration == LINKERD_INJECTOR and hook.failure_policy == "Ignore":
            found.append(
                Finding(
                    check="webhooks.linkerd",
                    severity=INFO,
                    subject=(_ref(hook),),
                    summary="The proxy injector's failurePolicy is Ignore: pods created while it "
                    "is unreachable start without a proxy",
                    evidence=(Evidence("failurePolicy", hook.failure_policy, _source(hook)),),
                    fix=(f"kubectl get mutatingwebhookconfiguration {hook.configuration} -o yaml",),
                    runbook="Watch `injection.missing-proxy` after injector outages, or set "
                    "webhookFailurePolicy=Fail to block pod creation instead.",
                )
            )
    return found


def check_conflicting_webhooks(ctx: Context) -> list[Finding]:
    """**Other webhooks on the same pods** (`webhooks.conflict`).

    Detects: other mutating or validating webhooks on pod creation (Gatekeeper, Kyverno,
    Istio's injector...) whose namespaceSelector matches namespaces where Linkerd injects,
    with the order the API server calls them in and the `reinvocationPolicy`. A mutating
    webhook called after Linkerd's while Linkerd's is `reinvocationPolicy: Never`, and any
    validating webhook with `failurePolicy: Fail`, are warnings (they can change or deny the
    injected pod); the others info. One finding per webhook.

    Why it matters: a policy engine rejecting linkerd-init's NET_ADMIN capability, or another
    injector rewriting the pod after Linkerd, fails a rollout with "admission webhook denied
    the request" or silently strips the proxy.

    Fix: exempt the injected namespaces (or Linkerd's containers) from the other webhook, or
    set Linkerd's injector `reinvocationPolicy: IfNeeded`.
    """
    hooks = ctx.inputs.webhooks
    if not hooks:
        return []
    injector = next(
        (h for h in hooks if h.configuration == LINKERD_INJECTOR and h.kind == MUTATING), None
    )
    namespaces = _injected_namespaces(ctx)
    if injector is not None:
        namespaces = [
            n for n in namespaces if selector_matches(injector.namespace_selector, _labels(ctx, n))
        ]
    if not namespaces:
        return []
    order = call_order(hooks)
    position = {id(h): i + 1 for i, h in enumerate(order)}
    linkerd_at = position.get(id(injector)) if injector is not None else None
    found = []
    for hook in order:
        if hook.configuration in (LINKERD_INJECTOR, LINKERD_POLICY_VALIDATOR):
            continue
        shared = [
            n for n in namespaces if selector_matches(hook.namespace_selector, _labels(ctx, n))
        ]
        if not shared:
            continue
        after = linkerd_at is not None and position[id(hook)] > linkerd_at
        if hook.kind == MUTATING:
            risky = after and injector is not None and injector.reinvocation_policy != "IfNeeded"
            what = (
                "mutates pods after Linkerd's injector, which is not reinvoked"
                if risky
                else "mutates the same pods"
            )
        else:
            risky = hook.failure_policy == "Fail"
            what = (
                "validates the injected pods and fails closed"
                if risky
                else "validates the injected pods"
            )
        source = _source(hook)
        found.append(
            Finding(
                check="webhooks.conflict",
                severity=WARNING if risky else INFO,
                subject=(_ref(hook),) + tuple(Ref("", "namespace", n) for n in shared[:5]),
                summary=f"{hook.configuration}/{hook.name} {what} in {len(shared)} injected "
                "namespace(s)",
                evidence=(
                    Evidence("call order", f"{position[id(hook)]} of {len(order)}", source),
                    Evidence(
                        "Linkerd injector's call order",
                        f"{linkerd_at} of {len(order)}" if linkerd_at else "missing",
                        LINKERD_INJECTOR,
                    ),
                    Evidence("kind", hook.kind, source),
                    Evidence("failurePolicy", hook.failure_policy, source),
                    Evidence("reinvocationPolicy", hook.reinvocation_policy, source),
                    Evidence(
                        "Linkerd injector's reinvocationPolicy",
                        injector.reinvocation_policy if injector else "missing",
                        LINKERD_INJECTOR,
                    ),
                    Evidence("shared namespaces", ", ".join(shared[:10]), source),
                ),
                fix=(
                    f"kubectl get {hook.kind}webhookconfiguration {hook.configuration} -o yaml",
                    "kubectl get events -A --field-selector reason=FailedCreate",
                ),
                runbook="Exempt the injected namespaces or Linkerd's containers from this "
                "webhook's policy, or make Linkerd's injector reinvoked (IfNeeded) so it sees "
                "the final pod.",
                order=0 if risky else 1,
            )
        )
    return found
