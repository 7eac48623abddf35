"""Who may mute what: a superuser anything; a team admin a check in a namespace their team
owns (TeamProfile.namespaces), or for a workload there or one carrying their team's label.
Unmuting follows the same rule, so nobody silences or un-silences another team's checks."""

from collections.abc import Callable
from dataclasses import dataclass

from meshdash.accounts.cache import per_user
from meshdash.accounts.models import TeamProfile
from meshdash.accounts.teams import administered_team_ids


@dataclass(frozen=True)
class AdminScope:
    """What a user may mute, read once per request."""

    everything: bool = False  # a superuser
    namespaces: frozenset[str] = frozenset()  # of the teams they administer
    labels: frozenset[str] = frozenset()  # those teams' TEAM_LABEL values

    @property
    def anything(self) -> bool:
        """Whether they may mute anything at all (the page offers mute forms)."""
        return self.everything or bool(self.namespaces or self.labels)

    def refusal(
        self, namespace: str, kind: str = "", name: str = "", *, team_of: Callable[[], str]
    ) -> str:
        """Why this scope may not be muted or unmuted by them; "" when it may. ``team_of``
        gives the workload's team label (read only when the namespace does not decide)."""
        if self.everything:
            return ""
        if not namespace:
            return "only a superuser may mute a check in every namespace"
        if namespace in self.namespaces:
            return ""
        if kind and name and self.labels and team_of() in self.labels:
            return ""
        if kind and name:
            return (
                f"no team you administer owns namespace {namespace[:63]!r} or the workload "
                f"{kind}/{name[:80]}"
            )
        return f"no team you administer owns namespace {namespace[:63]!r}"


def admin_scope(user) -> AdminScope:
    """What ``user`` may mute: from the per-user cache of accounts (rebuilt whenever users,
    teams or their admins change), else two queries."""
    if not user.is_authenticated or not user.is_active:
        return AdminScope()
    if user.is_superuser:
        return AdminScope(everything=True)
    return per_user("triage_admin_scope", user.pk, lambda: _admin_scope(user))


def _admin_scope(user) -> AdminScope:
    team_ids = administered_team_ids(user)
    if not team_ids:
        return AdminScope()
    namespaces: set[str] = set()
    labels: set[str] = set()
    for profile in TeamProfile.objects.filter(team_id__in=team_ids):
        namespaces.update(ns for ns in profile.namespaces if isinstance(ns, str) and ns)
        if profile.label_value:
            labels.add(profile.label_value)
    return AdminScope(namespaces=frozenset(namespaces), labels=frozenset(labels))
