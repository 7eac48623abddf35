"""The findings a triage query selects from one snapshot: read, split into active and muted,
filtered. Shared by the page and the API."""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from meshdash.mesh.checks import Finding, worst_first
from meshdash.triage.mutes import MuteRule, active_mutes, split_muted
from meshdash.triage.query import TriageQuery, grouped, matches, workload_refs


@dataclass
class Selection:
    checks_ran: bool  # False: the snapshot's collection did not run the checks
    active: list[Finding] = field(default_factory=list)  # grouped by check, worst first
    muted: list[tuple[Finding, MuteRule]] = field(default_factory=list)
    teams: dict = field(default_factory=dict)  # WorkloadKey -> team label (when looked up)


# Decoded findings of the last few snapshot versions. A version never changes once written, so
# an entry cannot go stale; decoding a thousand findings is most of a page's time otherwise.
MEMO_VERSIONS = 6
_memo: OrderedDict[str, list[Finding] | None] = OrderedDict()
_memo_lock = threading.Lock()


def stored_findings(store, window: str, version: str) -> list[Finding] | None:
    """``store.findings`` of that version, decoded once per process (worst first)."""
    key = f"{store.prefix}:{version}"
    with _memo_lock:
        if key in _memo:
            _memo.move_to_end(key)
            return _memo[key]
    findings = store.findings(window, version=version)
    if findings is not None:
        findings = worst_first(findings)
    with _memo_lock:
        _memo[key] = findings
        while len(_memo) > MEMO_VERSIONS:
            _memo.popitem(last=False)
    return findings


def workload_teams(store, window: str, version: str, findings) -> dict:
    """The team label of every workload ``findings`` name, in one store call."""
    keys = workload_refs(findings)
    found = store.workloads(window, keys, version=version) if keys else {}
    return {key: w.team for key, w in found.items() if w is not None}


def select_findings(store, window: str, version: str, query: TriageQuery) -> Selection:
    findings = stored_findings(store, window, version)
    if findings is None:
        return Selection(checks_ran=False)
    active, muted = split_muted(findings, active_mutes())
    teams = workload_teams(store, window, version, findings) if query.team else {}
    return Selection(
        checks_ran=True,
        active=grouped(f for f in active if matches(f, query, teams)),
        muted=[(f, rule) for f, rule in muted if matches(f, query, teams)],
        teams=teams,
    )
