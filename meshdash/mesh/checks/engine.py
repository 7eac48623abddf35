"""Running every check over one snapshot."""

from collections.abc import Callable

from meshdash.mesh.checks import (
    certificates,
    control_plane,
    injection,
    memory,
    traffic,
    versions,
    webhooks,
)
from meshdash.mesh.checks.context import Context
from meshdash.mesh.checks.findings import Finding, bounded, worst_first
from meshdash.mesh.checks.inputs import CheckHistory, CheckInputs
from meshdash.mesh.checks.thresholds import CheckThresholds
from meshdash.mesh.model import Snapshot

Check = Callable[[Context], list[Finding]]

# Check id -> the function finding it, in the order the README documents them.
CHECKS: dict[str, Check] = {
    "certificates.anchor": certificates.check_trust_anchor,
    "certificates.issuer": certificates.check_issuer,
    "certificates.issuer-chain": certificates.check_issuer_chain,
    "certificates.trust-root": certificates.check_trust_roots,
    "certificates.leaf": certificates.check_leaf_expiry,
    "certificates.rotation": certificates.check_rotation,
    "memory.share": memory.check_memory_share,
    "memory.growth": memory.check_memory_growth,
    "memory.oom": memory.check_oom,
    "memory.limit": memory.check_limit_for_traffic,
    "injection.annotation": injection.check_annotation_values,
    "injection.misplaced": injection.check_misplaced_annotation,
    "injection.missing-proxy": injection.check_missing_proxy,
    "injection.stuck-init": injection.check_stuck_init,
    "injection.events": injection.check_injection_events,
    "webhooks.linkerd": webhooks.check_linkerd_webhooks,
    "webhooks.conflict": webhooks.check_conflicting_webhooks,
    "versions.proxy": versions.check_proxy_versions,
    "versions.control-plane": versions.check_control_plane_versions,
    "control-plane.components": control_plane.check_components,
    "control-plane.calls": control_plane.check_control_plane_calls,
    "policy.denials": traffic.check_authz_denials,
}


def run_checks(
    snapshot: Snapshot,
    thresholds: CheckThresholds | None = None,
    history: CheckHistory | None = None,
    *,
    inputs: CheckInputs | None = None,
    previous: list[Finding] | None = None,
) -> list[Finding]:
    """Every check's findings over ``snapshot``, at most
    ``thresholds.max_findings_per_check`` per check (the last kept says how many more),
    worst first. New findings are dated ``snapshot.taken_at``; given the previous
    collection's findings, those found again keep their ``since`` (``carry_since``)."""
    from dataclasses import replace

    from meshdash.mesh.checks.findings import carry_since

    ctx = Context(
        snapshot,
        thresholds or CheckThresholds(),
        inputs or CheckInputs(),
        history,
    )
    found: list[Finding] = []
    for check in CHECKS.values():
        found.extend(bounded(check(ctx), ctx.thresholds.max_findings_per_check))
    found = [replace(f, since=snapshot.taken_at) for f in found]
    if previous:
        found = carry_since(previous, found)
    return worst_first(found)
