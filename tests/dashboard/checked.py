"""The known mesh (tests/dashboard/known.py) with the on-call checks' findings stored as a
collection stores them: the real checks over the known snapshot, plus hand-made ones."""

from collections.abc import Sequence

from django.conf import settings

from meshdash.mesh.checks import (
    CRITICAL,
    INFO,
    WARNING,
    Evidence,
    Finding,
    Ref,
    run_checks,
    worst_first,
)
from meshdash.store import SnapshotStore
from tests.dashboard.known import HOSTILE, HOSTILE_ATTR, write_known


def store_of(redis_client) -> SnapshotStore:
    return SnapshotStore(redis_client, settings.MESHDASH_REDIS_PREFIX, snapshot_ttl_seconds=60)


def finding(check="memory.share", severity=WARNING, subject=None, summary="", **fields) -> Finding:
    subject = subject if subject is not None else (Ref("shop", "deployment", "cart"),)
    return Finding(check, severity, tuple(subject), summary or f"{check} {severity}", **fields)


def hostile_finding() -> Finding:
    """Markup wherever the cluster's text reaches a finding: names, summary, evidence."""
    return Finding(
        "webhooks.conflict",
        CRITICAL,
        (Ref("", "webhook", HOSTILE), Ref("", "namespace", HOSTILE_ATTR)),
        f"webhook {HOSTILE} denies pods",
        evidence=(Evidence("message", HOSTILE, HOSTILE_ATTR),),
        fix=(f"kubectl delete mutatingwebhookconfiguration {HOSTILE}",),
    )


def write_checked(redis_client, extra: Sequence[Finding] = (), *, checks: bool = True, **kwargs):
    """Write the known mesh, then its current snapshot again with ``run_checks``'s findings
    (``checks`` False: none) and ``extra``, worst first as the collector stores them; return
    (snapshot, the findings stored)."""
    snapshot = write_known(redis_client, **kwargs)
    findings = worst_first((run_checks(snapshot) if checks else []) + list(extra))
    store_of(redis_client).write(snapshot, findings=findings)
    return snapshot, findings


__all__ = ["CRITICAL", "INFO", "WARNING", "finding", "hostile_finding", "write_checked"]
