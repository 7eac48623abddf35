"""Certificate checks: the trust anchor, the identity issuer, the proxies' leaves."""

from collections import defaultdict

from meshdash.mesh.checks.context import Context, owner_ref, pod_ref, restart_command
from meshdash.mesh.checks.findings import (
    CONTROL_PLANE,
    CRITICAL,
    WARNING,
    Evidence,
    Finding,
    Ref,
    countdown,
    duration,
    severity_at_most,
    utc_time,
)
from meshdash.mesh.history import changes

DAY = 86400.0

ISSUER_FIX = (
    "linkerd check --proxy",
    "step certificate create identity.linkerd.cluster.local issuer.crt issuer.key "
    "--profile intermediate-ca --not-after 8760h --no-password --insecure "
    "--ca ca.crt --ca-key ca.key",
    "linkerd upgrade --identity-issuer-certificate-file=issuer.crt "
    "--identity-issuer-key-file=issuer.key | kubectl apply -f -",
)
ANCHOR_FIX = (
    "linkerd check --proxy",
    "step certificate create root.linkerd.cluster.local ca-new.crt ca-new.key "
    "--profile root-ca --no-password --insecure",
    "step certificate bundle ca-new.crt ca.crt bundle.crt",
    "linkerd upgrade --identity-trust-anchors-file=./bundle.crt | kubectl apply -f -",
)


def _expiry(
    ctx: Context,
    check: str,
    what: str,
    not_after: float | None,
    warning_days: float,
    critical_days: float,
    ref: Ref,
    source: str,
    fix: tuple[str, ...],
    runbook: str,
    extra: tuple[Evidence, ...] = (),
) -> list[Finding]:
    if not_after is None:
        return []
    left = not_after - ctx.now
    severity = CRITICAL if left <= 0 else severity_at_most(left / DAY, critical_days, warning_days)
    if severity is None:
        return []
    when = countdown(not_after, ctx.now)
    return [
        Finding(
            check=check,
            severity=severity,
            subject=(ref,),
            summary=f"{what} {when}",
            evidence=(
                Evidence("not after", utc_time(not_after), source),
                Evidence("state", when, source),
            )
            + extra,
            fix=fix,
            runbook=runbook,
            order=left,
        )
    ]


def check_trust_anchor(ctx: Context) -> list[Finding]:
    """**Trust anchor expiry** (`certificates.anchor`).

    Detects: the trust anchor (linkerd-identity-trust-roots) expiring within
    `anchor_warning_days` (60, warning, like `linkerd check`) or `anchor_critical_days` (7,
    critical), or already expired (critical, said as "expired … ago").

    Why it matters: every proxy validates its peers against the anchor; once it expires no
    new leaf verifies and the whole mesh stops talking ("TLS handshake failed").

    Fix: create a new anchor, bundle it with the current one, roll it out with `linkerd
    upgrade`, restart the proxies, then drop the old anchor from the bundle.
    """
    t = ctx.thresholds
    ns = ctx.control_plane_namespace
    return _expiry(
        ctx,
        "certificates.anchor",
        "Trust anchor",
        ctx.snapshot.control_plane.trust_anchor_not_after,
        t.anchor_warning_days,
        t.anchor_critical_days,
        Ref(ns, CONTROL_PLANE, "linkerd-identity-trust-roots"),
        f"configmap {ns}/linkerd-identity-trust-roots",
        ANCHOR_FIX,
        "Bundle a new anchor with the old one, `linkerd upgrade` with the bundle, restart every "
        "meshed workload so proxies trust both, re-issue the issuer from the new anchor, then "
        "remove the old anchor. An expired anchor cannot be bundled: reinstall identity.",
    )


def check_issuer(ctx: Context) -> list[Finding]:
    """**Identity issuer expiry** (`certificates.issuer`).

    Detects: the identity issuer certificate (linkerd-identity-issuer, one year by default)
    expiring within `issuer_warning_days` (60) or `issuer_critical_days` (7), or expired; and
    the same for identity's own view of it (`issuer_cert_ttl_seconds`) when collected.

    Why it matters: identity signs every proxy's 24 h leaf with it; once it expires no proxy
    renews, and within a day the mesh stops talking.

    Fix: issue a new issuer from the trust anchor and roll it out with `linkerd upgrade`
    (or let cert-manager renew it: check its Certificate).
    """
    t = ctx.thresholds
    ns = ctx.control_plane_namespace
    plane = ctx.snapshot.control_plane
    not_after = plane.issuer_not_after
    extra: tuple[Evidence, ...] = ()
    ttl = ctx.inputs.identity_issuer_ttl_seconds
    if ttl is not None:
        from_identity = ctx.now + max(ttl, 0.0)
        extra = (
            Evidence(
                "identity's issuer_cert_ttl_seconds",
                round(ttl),
                f"deployment {ns}/linkerd-identity",
            ),
        )
        if not_after is None or from_identity < not_after:
            not_after = from_identity
    return _expiry(
        ctx,
        "certificates.issuer",
        "Identity issuer",
        not_after,
        t.issuer_warning_days,
        t.issuer_critical_days,
        Ref(ns, CONTROL_PLANE, "linkerd-identity-issuer"),
        f"secret {ns}/linkerd-identity-issuer",
        ISSUER_FIX,
        "Issue a new issuer certificate signed by the trust anchor and `linkerd upgrade` with "
        "it; identity picks it up without a restart and proxies renew onto it within their "
        "leaf's lifetime. With cert-manager, check `kubectl -n linkerd describe certificate "
        "linkerd-identity-issuer`.",
        extra,
    )


def check_issuer_chain(ctx: Context) -> list[Finding]:
    """**Issuer not signed by the anchor** (`certificates.issuer-chain`).

    Detects: an identity issuer that does not verify against the trust anchor (critical).

    Why it matters: leaves it signs fail validation at every peer: new pods cannot talk to
    old ones, typically right after a botched rotation.

    Fix: re-issue the issuer from the current anchor (or put the issuer's anchor back into
    the trust bundle) and `linkerd upgrade`.
    """
    if ctx.inputs.issuer_signed_by_anchor is not False:
        return []
    ns = ctx.control_plane_namespace
    return [
        Finding(
            check="certificates.issuer-chain",
            severity=CRITICAL,
            subject=(Ref(ns, CONTROL_PLANE, "linkerd-identity-issuer"),),
            summary="Identity issuer is not signed by the trust anchor",
            evidence=(
                Evidence("verified", "no", f"secret {ns}/linkerd-identity-issuer"),
                Evidence("against", "trust roots", f"configmap {ns}/linkerd-identity-trust-roots"),
            ),
            fix=(
                f"kubectl -n {ns} get secret linkerd-identity-issuer "
                "-o jsonpath='{.data.crt\\.pem}' | base64 -d | step certificate inspect -",
                "step certificate verify issuer.crt --roots ca.crt",
            )
            + ISSUER_FIX[1:],
            runbook="Re-issue the issuer from the anchor in linkerd-identity-trust-roots, or "
            "add the issuer's own root to the trust bundle, then `linkerd upgrade`.",
        )
    ]


def check_trust_roots(ctx: Context) -> list[Finding]:
    """**Pods trusting another anchor** (`certificates.trust-root`).

    Detects: meshed pods whose `linkerd.io/trust-root-sha256` annotation differs from the
    control plane's trust roots (critical, one finding per workload).

    Why it matters: those proxies were injected before the anchor changed; they reject
    every peer's certificate and every peer rejects theirs.

    Fix: restart the workload so the injector writes the current trust roots.
    """
    expected = ctx.inputs.control_plane_trust_root_sha256
    roots = ctx.inputs.pod_trust_roots
    if not expected or not roots:
        return []
    by_owner = defaultdict(list)
    for pod in ctx.data_plane_pods():
        sha = roots.get((pod.namespace, pod.name))
        if sha and sha != expected:
            by_owner[owner_ref(pod)].append((pod, sha))
    found = []
    for ref, pods in by_owner.items():
        found.append(
            Finding(
                check="certificates.trust-root",
                severity=CRITICAL,
                subject=(ref,),
                summary=f"{len(pods)} pod(s) of {ref.name} trust a different anchor than the "
                "control plane",
                evidence=(
                    Evidence(
                        "control plane trust root sha256", expected, "linkerd-identity-trust-roots"
                    ),
                )
                + tuple(
                    Evidence("pod trust root sha256", sha, f"pod {p.namespace}/{p.name}")
                    for p, sha in pods[:5]
                ),
                fix=(restart_command(ref),),
                runbook="Restart the workload: the injector writes the current trust roots "
                "into the new pods.",
                order=-len(pods),
            )
        )
    return found


def check_leaf_expiry(ctx: Context) -> list[Finding]:
    """**Shortest leaf certificate** (`certificates.leaf`).

    Detects: the proxy whose leaf certificate expires soonest, when that is within
    `leaf_warning_hours` (4) or `leaf_critical_hours` (1), or already expired (critical).
    Leaves last 24 h and are renewed at 70 % of their life, so a healthy mesh never gets here.

    Why it matters: an expired leaf cannot make or accept mTLS connections.

    Fix: see why identity does not sign (its logs, the issuer), then restart the pod.
    """
    t = ctx.thresholds
    pods = [p for p in ctx.data_plane_pods() if p.proxy_cert_expiry is not None]
    if not pods:
        return []
    pod = min(pods, key=lambda p: p.proxy_cert_expiry)
    left = pod.proxy_cert_expiry - ctx.now
    severity = (
        CRITICAL
        if left <= 0
        else severity_at_most(left / 3600, t.leaf_critical_hours, t.leaf_warning_hours)
    )
    if severity is None:
        return []
    when = countdown(pod.proxy_cert_expiry, ctx.now)
    source = f"pod {pod.namespace}/{pod.name} control_identity_cert_expiration_timestamp_seconds"
    ns = ctx.control_plane_namespace
    return [
        Finding(
            check="certificates.leaf",
            severity=severity,
            subject=(pod_ref(pod),),
            summary=f"Shortest proxy leaf certificate {when} ({pod.namespace}/{pod.name})",
            evidence=(
                Evidence("not after", utc_time(pod.proxy_cert_expiry), source),
                Evidence("state", when, source),
                Evidence("proxies with a leaf", len(pods), "snapshot"),
            ),
            fix=(
                f"kubectl -n {ns} logs deploy/linkerd-identity -c identity --since=1h",
                f"kubectl -n {pod.namespace} delete pod {pod.name}",
            ),
            runbook="Identity is not signing: check its logs and the issuer's expiry. A new pod "
            "gets a fresh leaf at start-up.",
            order=left,
        )
    ]


def check_rotation(ctx: Context) -> list[Finding]:
    """**Leaf rotation stalled** (`certificates.rotation`).

    Detects: proxies still holding their leaf `rotation_grace_minutes` (15) past its renewal
    point (`leaf_renewal_share`, 70 % of the issuer's issuanceLifetime, from the last refresh
    or from the expiry), proxies whose refresh counter shows errors over the window (both
    generations: `control_identity_cert_refreshes_total{result="error"}` and the older
    `identity_cert_*`), and, from meshdash's history, how long since the leaf last changed.
    Warning, critical once the leaf has expired. One finding per workload.

    Why it matters: it is the first sign identity cannot sign (issuer expired, identity
    down, a bad rotation); the mesh stops talking when the leaves run out.

    Fix: read identity's logs and the proxy's, check the issuer, restart the workload once
    identity signs again.
    """
    t = ctx.thresholds
    lifetime = ctx.snapshot.control_plane.leaf_lifetime_seconds or 86400.0
    renew_after = t.leaf_renewal_share * lifetime + t.rotation_grace_minutes * 60
    errors = {(p.namespace, p.pod): p.refresh_errors for p in ctx.inputs.proxy_identity}
    renewals = {}
    if ctx.history is not None:
        for h in ctx.history.pods:
            renewals[(h.namespace, h.pod)] = changes(h.cert_expiry)
    by_owner: dict[Ref, list] = defaultdict(list)
    for pod in ctx.data_plane_pods():
        reasons = []
        severity = WARNING
        history = renewals.get((pod.namespace, pod.name))
        expiry = pod.proxy_cert_expiry
        if expiry is None and history:
            expiry = history[-1][1]  # the last leaf the history saw
        if expiry is not None:
            issued = pod.proxy_cert_refreshed_at
            if issued is None:
                issued = expiry - lifetime
            overdue = ctx.now - (issued + renew_after)
            if overdue > 0:
                reasons.append(
                    Evidence(
                        "past its renewal point by",
                        duration(overdue),
                        f"pod {pod.namespace}/{pod.name} "
                        "control_identity_cert_refresh_timestamp_seconds",
                    )
                )
            if expiry <= ctx.now:
                severity = CRITICAL
                reasons.append(Evidence("leaf", countdown(expiry, ctx.now), f"pod {pod.name}"))
        failed = errors.get((pod.namespace, pod.name), 0.0)
        if failed > 0:
            reasons.append(
                Evidence(
                    "refresh errors in the window",
                    failed,
                    f"pod {pod.namespace}/{pod.name} control_identity_cert_refreshes_total",
                )
            )
        if reasons and history:
            reasons.append(
                Evidence(
                    "leaf last changed",
                    f"{duration(ctx.now - history[-1][0])} ago",
                    "meshdash history",
                )
            )
        if reasons:
            by_owner[owner_ref(pod)].append((pod, severity, reasons))
    ns = ctx.control_plane_namespace
    found = []
    for ref, rows in by_owner.items():
        severity = CRITICAL if any(s == CRITICAL for _, s, _ in rows) else WARNING
        evidence = tuple(e for _, _, reasons in rows[:5] for e in reasons)
        found.append(
            Finding(
                check="certificates.rotation",
                severity=severity,
                subject=(ref,),
                summary=f"Leaf rotation stalled on {len(rows)} proxy(ies) of {ref.name}",
                evidence=evidence,
                fix=(
                    f"kubectl -n {ns} logs deploy/linkerd-identity -c identity --since=1h",
                    f"kubectl -n {ref.namespace} logs {rows[0][0].name} -c linkerd-proxy "
                    "--since=1h | grep -i identity",
                    restart_command(ref),
                ),
                runbook="Identity cannot sign: check the issuer (certificates.issuer), "
                "identity's pods and logs. Once it signs again the proxies renew by themselves; "
                "restart any whose leaf already expired.",
                order=-len(rows),
            )
        )
    return found
