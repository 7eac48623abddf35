"""Traffic-policy checks: authorization denials."""

from collections import defaultdict

from meshdash.mesh.checks.context import Context, workload_ref
from meshdash.mesh.checks.findings import CRITICAL, WARNING, Evidence, Finding, percent


def check_authz_denials(ctx: Context) -> list[Finding]:
    """**Authorization denials** (`policy.denials`).

    Detects: workloads whose proxies deny at least `authz_denied_warning_rps` (0.01) requests
    or connections a second (`inbound_http_authz_deny_total`, `inbound_tcp_authz_deny_total`),
    critical when that is at least `authz_denied_critical_share` (50 %) of their decisions;
    the Servers denying are the evidence. Worst first.

    Why it matters: a default-deny policy, or a Server without the AuthorizationPolicy its
    callers need, silently breaks traffic: callers see 403s or reset connections.

    Fix: list the workload's policies and add an AuthorizationPolicy for the denied clients
    (or correct the default policy).
    """
    t = ctx.thresholds
    servers = defaultdict(list)
    for a in ctx.snapshot.authorizations:
        if a.denied > 0:
            servers[(a.namespace, a.kind, a.name)].append(a)
    found = []
    for w in ctx.snapshot.workloads:
        denied = w.authz_denied_rps + w.tcp_authz_denied_per_second
        if denied < t.authz_denied_warning_rps or denied <= 0:
            continue
        allowed = w.authz_allowed_rps
        share = denied / (denied + allowed) if denied + allowed > 0 else None
        severity = (
            CRITICAL if share is not None and share >= t.authz_denied_critical_share else WARNING
        )
        source = f"{w.kind} {w.namespace}/{w.name} inbound_*_authz_deny_total"
        evidence = (
            Evidence("HTTP denied per second", round(w.authz_denied_rps, 3), source),
            Evidence("TCP denied per second", round(w.tcp_authz_denied_per_second, 3), source),
            Evidence("share of decisions denied", percent(share), source),
        ) + tuple(
            Evidence(
                f"denied at {a.server_kind} {a.server}".strip(),
                round(a.denied, 3),
                f"{a.kind} {a.namespace}/{a.name}",
            )
            for a in sorted(
                servers.get((w.namespace, w.kind, w.name), []), key=lambda a: -a.denied
            )[:5]
        )
        found.append(
            Finding(
                check="policy.denials",
                severity=severity,
                subject=(workload_ref(w),),
                summary=f"{w.name} denies {denied:.2f}/s ({percent(share)} of its authorization "
                "decisions)",
                evidence=evidence,
                fix=(
                    f"linkerd viz authz -n {w.namespace} {w.kind}/{w.name}",
                    f"kubectl -n {w.namespace} get servers,authorizationpolicies,"
                    "meshtlsauthentications",
                ),
                runbook="Find which clients are denied (the proxy's logs or `linkerd viz tap`) "
                "and authorize them with an AuthorizationPolicy on the Server, or change the "
                "default policy.",
                order=-denied,
            )
        )
    return found
