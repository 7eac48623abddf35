"""Which findings are muted: the rules as plain data, read once and cached, and the pure
matching the triage page, the overview and /metrics share.

A rule names a check ("" = every check) and a scope: a namespace ("" = everywhere), and
optionally one workload (kind and name) in it. A finding is muted by a rule when the check
matches and the finding lies inside the scope:

- namespace scope: every resource of the finding's subject is in that namespace (a namespace
  reference counts as inside itself). A finding spanning several namespaces, or about
  cluster-wide objects (webhook configurations), is muted only by an everywhere rule: a mute
  never hides another team's part of a problem.
- workload scope: as above, and the subject names that workload.
"""

import dataclasses
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from meshdash.mesh.checks import Finding, Ref

CACHE_KEY = "triage:mutes:v1"
# How long a process may use the rules it read: changes through the ORM clear them at once.
CACHE_SECONDS = 30


@dataclass(frozen=True)
class MuteRule:
    check: str  # a check id of CHECKS, "" = every check
    namespace: str  # "" = every namespace
    kind: str = ""  # with name: one workload in namespace; "" = every workload
    name: str = ""
    # For display: who muted it (the name kept if the account is gone), why, and when (unix s).
    who: str = ""
    why: str = ""
    created_at: float = 0.0
    expires_at: float | None = None  # unix seconds; None = until unmuted
    id: int | None = None  # the Mute row, for the unmute button

    def matches(self, finding: Finding) -> bool:
        """Whether this rule mutes ``finding`` (see the module's docstring)."""
        if self.check and self.check != finding.check:
            return False
        if not self.namespace:
            return not self.kind
        if subject_namespace(finding.subject) != self.namespace:
            return False
        if not self.kind:
            return True
        return any(ref.kind == self.kind and ref.name == self.name for ref in finding.subject)


def ref_namespace(ref: Ref) -> str:
    """The namespace a resource is in: a namespace is in itself; "" = cluster-wide."""
    return ref.name if ref.kind == "namespace" else ref.namespace


def subject_namespace(subject: Iterable[Ref]) -> str | None:
    """The one namespace every resource of ``subject`` is in; None when they span several,
    any is cluster-wide, or there is none."""
    found = {ref_namespace(ref) for ref in subject}
    if len(found) != 1:
        return None
    (namespace,) = found
    return namespace or None


def split_muted(
    findings: Iterable[Finding], mutes: Iterable[MuteRule]
) -> tuple[list[Finding], list[tuple[Finding, MuteRule]]]:
    """``findings`` split into the active ones and the muted ones, each muted finding with the
    first rule that mutes it; both keep the order of ``findings``. Pure: no database."""
    # Rules by (check, namespace), so each finding looks only at the few that may match it.
    index: dict[tuple[str, str], list[MuteRule]] = {}
    for rule in mutes:
        index.setdefault((rule.check, rule.namespace), []).append(rule)
    active: list[Finding] = []
    muted: list[tuple[Finding, MuteRule]] = []
    if not index:
        return list(findings), muted
    for finding in findings:
        namespace = subject_namespace(finding.subject)
        namespaces = ("", namespace) if namespace else ("",)
        rule = next(
            (
                r
                for check in (finding.check, "")
                for ns in namespaces
                for r in index.get((check, ns), ())
                if r.matches(finding)
            ),
            None,
        )
        if rule is None:
            active.append(finding)
        else:
            muted.append((finding, rule))
    return active, muted


def active_mutes(now: float | None = None) -> list[MuteRule]:
    """Every mute not yet expired, as rules: one database read (at most MESHDASH_MAX_MUTES
    rows), kept in Django's cache for CACHE_SECONDS or until the soonest expiry, and cleared
    whenever a mute is saved or deleted."""
    now = time.time() if now is None else now
    rules = _from_cache(cache.get(CACHE_KEY))
    if rules is None:
        rules = _read_rules(now)
        expiries = [r.expires_at for r in rules if r.expires_at is not None]
        seconds = min([CACHE_SECONDS] + [e - now for e in expiries])
        if seconds >= 1:
            cache.set(CACHE_KEY, [dataclasses.asdict(r) for r in rules], int(seconds))
    return [r for r in rules if r.expires_at is None or r.expires_at > now]


def _from_cache(cached) -> list[MuteRule] | None:
    """The cached rules (plain dicts, so that a process of another release reads them or
    reads the database instead); None when absent or not understood."""
    if not isinstance(cached, list):
        return None
    try:
        return [MuteRule(**item) for item in cached]
    except TypeError:
        return None


def _read_rules(now: float) -> list[MuteRule]:
    import datetime as dt

    from django.conf import settings
    from django.db.models import Q

    from meshdash.triage.models import Mute

    at = dt.datetime.fromtimestamp(now, dt.UTC)
    rows = (
        Mute.objects.filter(Q(expires__isnull=True) | Q(expires__gt=at))
        .select_related("who")
        .order_by("id")[: settings.MESHDASH_MAX_MUTES]
    )
    return [rule_of(row) for row in rows]


def rule_of(mute) -> MuteRule:
    """A Mute row as a rule."""
    who = mute.who.get_username() if mute.who is not None else mute.who_name
    return MuteRule(
        check=mute.check_id,
        namespace=mute.namespace,
        kind=mute.kind,
        name=mute.name,
        who=who or "(deleted user)",
        why=mute.why,
        created_at=mute.created.timestamp(),
        expires_at=mute.expires.timestamp() if mute.expires else None,
        id=mute.pk,
    )


def forget_cached() -> None:
    """Mutes changed: the next active_mutes() reads them again (now, and after the commit, so
    a read between the change and its commit is not kept)."""
    cache.delete(CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(CACHE_KEY))


def _on_change(**kwargs) -> None:
    forget_cached()


def connect_signals() -> None:
    from meshdash.triage.models import Mute

    post_save.connect(_on_change, sender=Mute, dispatch_uid="triage-mutes-saved")
    post_delete.connect(_on_change, sender=Mute, dispatch_uid="triage-mutes-deleted")
