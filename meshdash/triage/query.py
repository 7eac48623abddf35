"""What the triage page and /api/v1/findings ask for: the query string parsed strictly (the
dashboard's rules, its BadQuery), and the findings chosen, grouped and paged by it. Apart from
the parsing, plain functions over findings."""

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from meshdash.dashboard.filters import (
    TEAM_RE,
    BadQuery,
    parse_choice,
    parse_namespaces,
    parse_positive_int,
    single_value,
)
from meshdash.mesh.checks import CHECKS, SEVERITIES, Finding, Ref
from meshdash.mesh.checks.docs import check_doc
from meshdash.mesh.kinds import KINDS
from meshdash.mesh.model import WorkloadKey
from meshdash.mesh.query import MAX_PAGE, MAX_PER_PAGE, Page
from meshdash.triage.mutes import ref_namespace

# Findings per page when the URL does not say: each is a card with its evidence and fix.
DEFAULT_PER_PAGE = 25


@dataclass(frozen=True)
class TriageQuery:
    namespaces: tuple[str, ...] = ()  # findings touching any of them
    team: str = ""  # findings naming a workload whose team label is this
    severity: str = ""  # one of SEVERITIES
    check: str = ""  # one of CHECKS
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE


def parse_triage_query(params) -> TriageQuery:
    """The findings a triage URL asks for; BadQuery (400) for anything else."""
    team = single_value(params, "team")
    if not TEAM_RE.fullmatch(team):
        raise BadQuery("team must be letters, digits, '-', '.' and '_'")
    return TriageQuery(
        namespaces=parse_namespaces(params),
        team=team,
        severity=parse_choice(params, "severity", SEVERITIES),
        check=parse_choice(params, "check", tuple(CHECKS)),
        page=parse_positive_int(params, "page", 1, MAX_PAGE),
        per_page=parse_positive_int(params, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE),
    )


def workload_refs(findings: Iterable[Finding]) -> list[WorkloadKey]:
    """Every workload the findings name, once each: what a team filter must look up."""
    keys = {
        WorkloadKey(ref.namespace, ref.kind, ref.name)
        for finding in findings
        for ref in finding.subject
        if ref.kind in KINDS
    }
    return sorted(keys, key=lambda k: (k.namespace, k.kind, k.name))


def matches(finding: Finding, query: TriageQuery, teams: Mapping[WorkloadKey, str]) -> bool:
    """Whether ``finding`` passes the query's filters. ``teams``: the team label of each
    workload the findings name (only read for a team filter)."""
    if query.check and finding.check != query.check:
        return False
    if query.severity and finding.severity != query.severity:
        return False
    if query.namespaces:
        wanted = set(query.namespaces)
        if not any(ref_namespace(ref) in wanted for ref in finding.subject):
            return False
    if query.team:
        named = (
            teams.get(WorkloadKey(ref.namespace, ref.kind, ref.name))
            for ref in finding.subject
            if ref.kind in KINDS
        )
        if query.team not in named:
            return False
    return True


def select(
    findings: Iterable[Finding], query: TriageQuery, teams: Mapping[WorkloadKey, str]
) -> list[Finding]:
    return [f for f in findings if matches(f, query, teams)]


def grouped(findings: Iterable[Finding]) -> list[Finding]:
    """Findings (worst first) reordered so each check's come together: the checks in the order
    of their worst finding, each check's findings worst first."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.check, []).append(finding)
    return [finding for group in groups.values() for finding in group]


def page_of(findings: list, query: TriageQuery) -> Page:
    """One page of ``findings``; a page past the end is the last one."""
    return Page.of(findings, query.page, query.per_page)


@dataclass(frozen=True)
class Group:
    check: str
    title: str
    findings: list
    continued: bool  # its first findings are on the previous page

    @property
    def text(self) -> str:
        return check_text(self.check)


def groups_of(items: list, check_of=lambda item: item.check, previous: str = "") -> list[Group]:
    """Consecutive items of one check as a Group each. ``previous``: the check of the item
    just before (on the previous page), to tell a group continued from there."""
    result: list[Group] = []
    for item in items:
        check = check_of(item)
        if result and result[-1].check == check:
            result[-1].findings.append(item)
        else:
            result.append(Group(check, check_title(check), [item], check == previous))
            previous = ""
    return result


TITLE_RE = re.compile(r"^\*\*(.+?)\*\*")


@functools.cache
def check_title(check_id: str) -> str:
    """The check's title as the README gives it (its docstring's bold first words)."""
    if check_id not in CHECKS:
        return check_id
    found = TITLE_RE.match(check_doc(check_id))
    return found[1] if found else check_id


def check_text(check_id: str) -> str:
    """What the check detects, why it matters and the fix (Markdown source, shown as text)."""
    return check_doc(check_id) if check_id in CHECKS else ""


def subject_label(ref: Ref) -> str:
    """How a page names a resource: ``shop/deployment/web``, ``namespace shop``..."""
    if ref.kind == "namespace":
        return f"namespace {ref.name}"
    if not ref.namespace:
        return f"{ref.kind} {ref.name}"
    return f"{ref.namespace}/{ref.kind}/{ref.name}"
