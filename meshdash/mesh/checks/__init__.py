"""The on-call checks: plain functions over a snapshot (and, for trends, meshdash's history)
that find what Linkerd operators get paged for, before they are paged.

Pure domain code: no Django, no Redis. The collector runs ``run_checks`` on each snapshot and
stores the findings with it; pages only read them. Each check's docstring says what it
detects, why it matters and the fix.
"""

from meshdash.mesh.checks.context import Context
from meshdash.mesh.checks.engine import CHECKS, run_checks
from meshdash.mesh.checks.findings import (
    CRITICAL,
    INFO,
    SEVERITIES,
    WARNING,
    Evidence,
    Finding,
    Ref,
    carry_since,
    from_dict,
    to_dict,
    worst_first,
)
from meshdash.mesh.checks.inputs import (
    CheckHistory,
    CheckInputs,
    ControlPlaneClient,
    PodHistory,
    ProxyIdentity,
    Webhook,
)
from meshdash.mesh.checks.thresholds import CheckThresholds

__all__ = [
    "CHECKS",
    "CRITICAL",
    "INFO",
    "SEVERITIES",
    "WARNING",
    "CheckHistory",
    "CheckInputs",
    "CheckThresholds",
    "Context",
    "ControlPlaneClient",
    "Evidence",
    "Finding",
    "PodHistory",
    "ProxyIdentity",
    "Ref",
    "Webhook",
    "carry_since",
    "from_dict",
    "run_checks",
    "to_dict",
    "worst_first",
]
