"""Findings as the triage page and the API show them: subject links into the dashboard, evidence
values as text, JSON. Everything in a finding came from the cluster: the templates escape it,
and links are built by ``reverse`` (which quotes what it puts in a path)."""

import math
from dataclasses import dataclass, field

from django.http import QueryDict
from django.urls import NoReverseMatch, reverse

from meshdash.mesh.checks import Finding, Ref
from meshdash.mesh.kinds import KINDS
from meshdash.mesh.names import is_namespace_name, is_object_name
from meshdash.triage.mutes import MuteRule, subject_namespace
from meshdash.triage.query import check_title, subject_label


def _with(url: str, params: QueryDict) -> str:
    return f"{url}?{params.urlencode()}" if params else url


def subject_href(ref: Ref, window_params: QueryDict) -> str:
    """The dashboard page of a resource, in the page's window; "" when it has none."""
    try:
        if ref.kind in KINDS:
            return _with(
                reverse("workload_detail", args=[ref.namespace, ref.kind, ref.name]),
                window_params,
            )
        if ref.kind == "pod" and is_namespace_name(ref.namespace) and is_object_name(ref.name):
            params = window_params.copy()
            params["ns"], params["q"] = ref.namespace, ref.name
            return _with(reverse("pod_list"), params)
        namespace = ref.name if ref.kind == "namespace" else ref.namespace
        if ref.kind in ("namespace", "control-plane") and is_namespace_name(namespace):
            return _with(reverse("namespace_detail", args=[namespace]), window_params)
    except NoReverseMatch:  # a name no URL can hold (empty, or with a slash)
        return ""
    return ""


def json_value(value):
    """A value as JSON can hold it: NaN and infinities (no JSON number) as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def value_text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@dataclass
class MuteTarget:
    """What a finding's mute form offers: its namespace, and its first workload."""

    namespace: str = ""
    kind: str = ""
    name: str = ""
    namespace_allowed: bool = False
    workload_allowed: bool = False

    @property
    def any_allowed(self) -> bool:
        return self.namespace_allowed or self.workload_allowed


def mute_target(finding: Finding) -> MuteTarget:
    """The scopes a mute of ``finding`` could take (permissions decided by the caller)."""
    namespace = subject_namespace(finding.subject) or ""
    workload = next((ref for ref in finding.subject if ref.kind in KINDS), None)
    if workload is None or not namespace:
        return MuteTarget(namespace=namespace)
    return MuteTarget(namespace=namespace, kind=workload.kind, name=workload.name)


@dataclass
class FindingRow:
    finding: Finding
    subjects: list[dict]
    evidence: list[dict]
    mute: MuteTarget | None = None
    rule: MuteRule | None = None  # the mute that silences it (muted findings)
    may_unmute: bool = False
    extra: dict = field(default_factory=dict)


def finding_row(finding: Finding, window_params: QueryDict) -> FindingRow:
    return FindingRow(
        finding=finding,
        subjects=[
            {"label": subject_label(ref), "href": subject_href(ref, window_params)}
            for ref in finding.subject
        ],
        evidence=[
            {"label": e.label, "value": value_text(e.value), "source": e.source}
            for e in finding.evidence
        ],
    )


def finding_json(finding: Finding) -> dict:
    return {
        "check": finding.check,
        "title": check_title(finding.check),
        "severity": finding.severity,
        "subject": [
            {"namespace": r.namespace, "kind": r.kind, "name": r.name} for r in finding.subject
        ],
        "summary": finding.summary,
        "evidence": [
            {"label": e.label, "value": json_value(e.value), "source": e.source}
            for e in finding.evidence
        ],
        "since": json_value(finding.since),
        "fix": list(finding.fix),
        "runbook": finding.runbook,
        "more": finding.more,
    }


def mute_json(rule: MuteRule) -> dict:
    return {
        "id": rule.id,
        "check": rule.check,
        "namespace": rule.namespace,
        "kind": rule.kind,
        "name": rule.name,
        "who": rule.who,
        "why": rule.why,
        "created_at": rule.created_at,
        "expires_at": rule.expires_at,
    }
