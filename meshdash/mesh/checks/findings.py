"""What a check finds, and the small helpers every check shares."""

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

CRITICAL, WARNING, INFO = "critical", "warning", "info"
SEVERITIES: tuple[str, ...] = (CRITICAL, WARNING, INFO)  # worst first
SEVERITY_RANK: dict[str, int] = {severity: rank for rank, severity in enumerate(SEVERITIES)}

# Kinds of a reference besides the workload kinds of mesh.kinds: what the UI links to.
POD, NAMESPACE, WEBHOOK, CONTROL_PLANE = "pod", "namespace", "webhook", "control-plane"


@dataclass(frozen=True, order=True)
class Ref:
    """A resource a finding is about: ``kind`` is a workload kind of mesh.kinds, ``pod``,
    ``namespace`` (``name`` is the namespace, ``namespace`` ""), ``webhook`` (a webhook
    configuration, cluster-wide) or ``control-plane`` (a component of it)."""

    namespace: str
    kind: str
    name: str


@dataclass(frozen=True)
class Evidence:
    """One number or fact behind a finding and the object it came from, e.g.
    ``Evidence("expires in", "5 d 2 h", "secret linkerd/linkerd-identity-issuer")``."""

    label: str
    value: str | float | int | None
    source: str = ""


@dataclass(frozen=True)
class Finding:
    check: str  # e.g. "certificates.issuer"
    severity: str  # CRITICAL, WARNING or INFO
    subject: tuple[Ref, ...]
    summary: str  # one line
    evidence: tuple[Evidence, ...] = ()
    since: float | None = None  # unix seconds: first collection that found it
    fix: tuple[str, ...] = ()  # copyable commands
    runbook: str = ""
    # Within one check and severity, lower comes first (e.g. days left, -growth).
    order: float = 0.0
    # On the last finding of a check cut at CheckThresholds.max_findings_per_check: how many
    # more of that check were found and left out ("and N more").
    more: int = 0

    @property
    def key(self) -> tuple[str, tuple[Ref, ...]]:
        """What identifies it from one collection to the next."""
        return (self.check, self.subject)


def sort_key(finding: Finding) -> tuple:
    return (
        SEVERITY_RANK.get(finding.severity, len(SEVERITIES)),
        finding.check,
        finding.order,
        finding.subject,
    )


def worst_first(findings: Iterable[Finding]) -> list[Finding]:
    """Critical first, then warning, then info; within a severity by check, then its order."""
    return sorted(findings, key=sort_key)


def bounded(findings: Sequence[Finding], limit: int) -> list[Finding]:
    """The ``limit`` worst findings of one check; the last one kept says how many were cut
    (``more``). ``limit`` 0 or less: all of them."""
    if limit <= 0 or len(findings) <= limit:
        return worst_first(findings)
    kept = heapq.nsmallest(limit, findings, key=sort_key)
    kept[-1] = replace(kept[-1], more=len(findings) - limit)
    return kept


def carry_since(previous: Iterable[Finding], new: Iterable[Finding]) -> list[Finding]:
    """``new`` findings, each keeping the ``since`` of the previous collection's finding of the
    same check and subject: a finding is as old as the first collection that found it."""
    known = {f.key: f.since for f in previous if f.since is not None}
    return [replace(f, since=known[f.key]) if f.key in known else f for f in new]


def severity_at_most(value: float, critical: float, warning: float) -> str | None:
    """CRITICAL when ``value`` <= ``critical``, WARNING when <= ``warning``, None above."""
    if value <= critical:
        return CRITICAL
    if value <= warning:
        return WARNING
    return None


def severity_at_least(value: float, critical: float, warning: float) -> str | None:
    """CRITICAL when ``value`` >= ``critical``, WARNING when >= ``warning``, None below."""
    if value >= critical:
        return CRITICAL
    if value >= warning:
        return WARNING
    return None


def duration(seconds: float) -> str:
    """A positive duration in words, two units at most: ``5 d 3 h``, ``42 min``, ``12 s``."""
    seconds = max(0, int(math.floor(seconds)))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def countdown(not_after: float, now: float) -> str:
    """``expires in 5 d 3 h`` or ``expired 6 min ago``: never a negative duration."""
    if not_after <= now:
        return f"expired {duration(now - not_after)} ago"
    return f"expires in {duration(not_after - now)}"


def mib(value: float | None) -> str:
    return "unknown" if value is None else f"{value / 2**20:.1f} MiB"


def percent(share: float | None) -> str:
    return "unknown" if share is None else f"{share * 100:.1f} %"


def utc_date(t: float) -> str:
    import datetime as _dt

    return _dt.datetime.fromtimestamp(t, _dt.UTC).strftime("%Y-%m-%d")


def utc_time(t: float) -> str:
    """A moment as people read it in evidence: ``2026-12-02 05:25 UTC``."""
    import datetime as _dt

    return _dt.datetime.fromtimestamp(t, _dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class CheckInfo:
    """A check as the README and the triage page list it."""

    id: str
    title: str
    doc: str = field(repr=False, default="")


def to_dict(finding: Finding) -> dict:
    """A finding as plain JSON-able data (lists for tuples)."""
    return {
        "check": finding.check,
        "severity": finding.severity,
        "subject": [[r.namespace, r.kind, r.name] for r in finding.subject],
        "summary": finding.summary,
        "evidence": [[e.label, e.value, e.source] for e in finding.evidence],
        "since": finding.since,
        "fix": list(finding.fix),
        "runbook": finding.runbook,
        "order": finding.order,
        "more": finding.more,
    }


def from_dict(data: dict) -> Finding:
    """The finding ``to_dict`` wrote."""
    return Finding(
        check=str(data["check"]),
        severity=str(data["severity"]),
        subject=tuple(Ref(*ref) for ref in data.get("subject", ())),
        summary=str(data.get("summary", "")),
        evidence=tuple(Evidence(*e) for e in data.get("evidence", ())),
        since=data.get("since"),
        fix=tuple(data.get("fix", ())),
        runbook=str(data.get("runbook", "")),
        order=float(data.get("order", 0.0)),
        more=int(data.get("more", 0)),
    )
