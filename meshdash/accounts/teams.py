"""Team membership and what a team owns, as plain functions the other apps call."""

import re

from django.contrib.auth.models import Group
from django.db import transaction

from meshdash.accounts.cache import per_user
from meshdash.accounts.models import TeamProfile
from meshdash.mesh.model import TEAM_LABEL

# Kubernetes namespace names (RFC 1123 labels); a team can only own names like these.
NAMESPACE_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# `key=value` with Kubernetes label syntax on both sides (the key may carry a prefix/).
LABEL_SELECTOR_RE = re.compile(
    r"^([a-z0-9A-Z]([-a-z0-9A-Z_.]{0,251}[a-z0-9A-Z])?/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]{0,61}[a-z0-9A-Z])?"
    r"=([a-z0-9A-Z]([-a-z0-9A-Z_.]{0,61}[a-z0-9A-Z])?)?$"
)
MAX_TEAM_NAME = 150


def label_selector_error(selector: str) -> str:
    """Why ``selector`` cannot give a team its workloads; "" when it can (or is empty).

    The collector reads one label of each workload, TEAM_LABEL: a selector on any other key
    would select nothing, so it is refused rather than kept.
    """
    if not selector:
        return ""
    if not LABEL_SELECTOR_RE.fullmatch(selector):
        return f"not a label selector of the form key=value: {selector[:300]!r}"
    key = selector.partition("=")[0]
    if key != TEAM_LABEL:
        return (
            f"workloads are matched on their {TEAM_LABEL!r} label only: "
            f"use {TEAM_LABEL}=<value>, not {key}=..."
        )
    return ""


def profile_of(team: Group) -> TeamProfile:
    profile, _ = TeamProfile.objects.get_or_create(team=team)
    return profile


def administered_team_ids(user) -> set[int]:
    """Ids of the teams (groups) whose admin the user is."""
    if not user.is_authenticated:
        return set()
    return set(TeamProfile.objects.filter(admins=user).values_list("team_id", flat=True))


def team_scope(user) -> tuple[set[str], set[str]]:
    """The namespaces and owner-team label values of the user's teams.

    The web UI turns these into ``WorkloadQuery(namespaces=...)`` and ``WorkloadQuery(team=...)``
    for "my team's workloads".
    """
    if not user.is_authenticated:
        return set(), set()
    return per_user("team_scope", user.pk, lambda: _team_scope(user))


def _team_scope(user) -> tuple[set[str], set[str]]:
    namespaces: set[str] = set()
    teams: set[str] = set()
    for profile in TeamProfile.objects.filter(team__user=user):
        namespaces.update(ns for ns in profile.namespaces if isinstance(ns, str))
        if profile.label_value:
            teams.add(profile.label_value)
    return namespaces, teams


def parse_group_header(raw: str, limit: int = 50) -> list[str]:
    """Team names from a comma-separated groups header: trimmed, bounded, de-duplicated."""
    names: list[str] = []
    for part in raw.split(","):
        name = part.strip()[:MAX_TEAM_NAME]
        if name and name not in names:
            names.append(name)
    return names[:limit]


@transaction.atomic
def set_teams(user, names: list[str]) -> None:
    """Make the user's teams exactly ``names``, creating teams on first sight."""
    wanted = [Group.objects.get_or_create(name=name)[0] for name in names]
    user.groups.set(wanted)
