"""The on-call checks' findings as the overview and a workload's page show them: read once
from the store, the muted ones left out, bounded, each resource a link, and a link to
/triage/ for everything else.

The findings are the collector's (``meshdash.mesh.checks``, stored with the snapshot); the
mutes are the triage app's (``meshdash.triage.mutes``). Nothing here judges anything.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.http import QueryDict
from django.urls import NoReverseMatch, reverse

from meshdash.lib.templatetags.meshdash import with_query
from meshdash.mesh.checks import CRITICAL, SEVERITIES, WARNING, Finding, Ref
from meshdash.mesh.checks.findings import CONTROL_PLANE, NAMESPACE, POD
from meshdash.mesh.kinds import BY_NAME
from meshdash.mesh.names import is_namespace_name, is_object_name
from meshdash.triage.mutes import active_mutes, split_muted

# How many findings each panel lists: the page costs the same however many there are.
ATTENTION_LIMIT = 10
CONTROL_PLANE_LIMIT = 6
WORKLOAD_LIMIT = 5
# Resources of one finding linked in a row; the rest are counted.
SUBJECT_LIMIT = 3
# What the overview's "Needs attention" lists: what asks someone to act.
ATTENTION_SEVERITIES = (CRITICAL, WARNING)
# Checks about the control plane and the proxies' relation to it: the control-plane panel.
CONTROL_PLANE_CHECKS = (
    "certificates.anchor",
    "certificates.issuer",
    "certificates.issuer-chain",
    "webhooks.linkerd",
    "versions.control-plane",
    "versions.proxy",
    "control-plane.components",
    "control-plane.calls",
)


@dataclass
class Findings:
    """One snapshot's findings after the mutes: ``ran`` False when its collection did not run
    the checks (nothing to say either way), ``active`` worst first."""

    ran: bool = False
    active: list[Finding] = field(default_factory=list)
    muted: list[Finding] = field(default_factory=list)

    def counts(self, severities: Iterable[str] = SEVERITIES) -> dict[str, int]:
        """Active findings by severity, the ones the collector cut past its per-check bound
        (``Finding.more``) counted at the severity of the last one it kept."""
        wanted = tuple(severities)
        counted = Counter()
        for finding in self.active:
            if finding.severity in wanted:
                counted[finding.severity] += 1 + finding.more
        return {severity: counted[severity] for severity in wanted if counted[severity]}


def read_findings(store, window: str, version: str) -> Findings:
    """The findings of ``version`` (one Redis read) without the muted ones (the mutes are one
    cached database read)."""
    found = store.findings(window, version=version)
    if found is None:
        return Findings()
    active, muted = split_muted(found, active_mutes())
    return Findings(ran=True, active=active, muted=[finding for finding, _ in muted])


@dataclass(frozen=True)
class SubjectLink:
    text: str
    href: str  # "" when the resource has no page


@dataclass(frozen=True)
class FindingRow:
    """One finding as a compact row: what the template shows, every text from the cluster
    left for it to escape."""

    finding: Finding
    subject: tuple[SubjectLink, ...]
    more_subjects: int

    @property
    def severity(self) -> str:
        return self.finding.severity


def _href(url: str, window_params: QueryDict | None, **extra: str) -> str:
    """``url`` keeping the page's window, with ``extra`` parameters (empty ones left out)."""
    params = window_params.copy() if window_params is not None else QueryDict(mutable=True)
    for name, value in extra.items():
        if value:
            params[name] = value
    return with_query(url, params)


def triage_href(window_params: QueryDict | None = None, **filters: str) -> str:
    """/triage/ with its filters (``severity``, ``ns``, ``check``) and the page's window."""
    try:
        url = reverse("triage")
    except NoReverseMatch:  # the triage app's URLs are not installed: its documented path
        url = "/triage/"
    return _href(url, window_params, **filters)


def ref_link(ref: Ref, window_params: QueryDict | None = None) -> SubjectLink:
    """A resource of a finding as text and, where meshdash has a page for it, a link (never
    for a name Kubernetes could not hold: that page would only say "not found")."""
    href = ""
    if ref.kind == NAMESPACE:
        text = ref.name
        if is_namespace_name(ref.name):
            href = _href(reverse("namespace_detail", args=[ref.name]), window_params)
    elif ref.kind == CONTROL_PLANE:
        text = f"{ref.namespace}/{ref.name}" if ref.namespace else ref.name
    elif ref.kind in BY_NAME:
        text = f"{ref.namespace}/{ref.name}"
        if is_namespace_name(ref.namespace) and is_object_name(ref.name):
            url = reverse("workload_detail", args=[ref.namespace, ref.kind, ref.name])
            href = _href(url, window_params)
    elif ref.kind == POD:
        text = f"pod {ref.namespace}/{ref.name}"
        if is_namespace_name(ref.namespace) and is_object_name(ref.name):
            href = _href(reverse("pod_list"), window_params, ns=ref.namespace, q=ref.name)
    else:
        text = (
            f"{ref.kind} {ref.namespace}/{ref.name}" if ref.namespace else f"{ref.kind} {ref.name}"
        )
    return SubjectLink(text, href)


def rows(findings: Sequence[Finding], window_params: QueryDict | None = None) -> list[FindingRow]:
    return [
        FindingRow(
            finding,
            tuple(ref_link(ref, window_params) for ref in finding.subject[:SUBJECT_LIMIT]),
            max(0, len(finding.subject) - SUBJECT_LIMIT),
        )
        for finding in findings
    ]


@dataclass
class Panel:
    """A bounded list of findings and what it leaves out."""

    rows: list[FindingRow]
    total: int  # every finding the panel stands for, the collector's cut ones included
    counts: dict[str, int]  # the same by severity
    triage_url: str
    muted: int = 0  # findings the panel would show but for a mute

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.rows))


def _panel(
    findings: Findings,
    wanted: Callable[[Finding], bool],
    limit: int,
    triage_url: str,
    window_params: QueryDict | None,
) -> Panel:
    chosen = [f for f in findings.active if wanted(f)]
    counts = Findings(True, chosen).counts()
    return Panel(
        rows(chosen[:limit], window_params),
        sum(counts.values()),
        counts,
        triage_url,
        muted=sum(1 for f in findings.muted if wanted(f)),
    )


def attention_panel(findings: Findings, window_params: QueryDict | None = None) -> Panel:
    """The overview's "Needs attention": every active critical and warning finding, worst
    first, the first ATTENTION_LIMIT of them."""
    return _panel(
        findings,
        lambda f: f.severity in ATTENTION_SEVERITIES,
        ATTENTION_LIMIT,
        triage_href(window_params),
        window_params,
    )


def control_plane_panel(findings: Findings, window_params: QueryDict | None = None) -> Panel:
    """The control-plane panel's findings: critical and warning ones of CONTROL_PLANE_CHECKS."""
    return _panel(
        findings,
        lambda f: f.check in CONTROL_PLANE_CHECKS and f.severity in ATTENTION_SEVERITIES,
        CONTROL_PLANE_LIMIT,
        triage_href(window_params),
        window_params,
    )


def concerns(finding: Finding, namespace: str, kind: str, name: str, pods: Iterable[str]) -> bool:
    """Whether ``finding`` is about the workload or one of its ``pods`` (by name)."""
    pod_names = set(pods)
    return any(
        ref.namespace == namespace
        and ((ref.kind == kind and ref.name == name) or (ref.kind == POD and ref.name in pod_names))
        for ref in finding.subject
    )


def workload_panel(
    findings: Findings,
    namespace: str,
    kind: str,
    name: str,
    pods: Iterable[str],
    window_params: QueryDict | None = None,
) -> Panel:
    """A workload's own findings (every severity), worst first, the first WORKLOAD_LIMIT; the
    link opens /triage/ on its namespace."""
    pods = list(pods)
    return _panel(
        findings,
        lambda f: concerns(f, namespace, kind, name, pods),
        WORKLOAD_LIMIT,
        triage_href(window_params, ns=namespace),
        window_params,
    )
