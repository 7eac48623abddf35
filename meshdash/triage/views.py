"""The triage page: every active finding of the window's current snapshot, worst first,
grouped by check; the muted ones apart; mute and unmute for team admins."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from meshdash.dashboard import paging
from meshdash.dashboard.filters import parse_window
from meshdash.dashboard.views import (
    base_context,
    dashboard_page,
    default_window,
    page_freshness,
    read_meta,
    team_links,
)
from meshdash.lib.htmx import render_page, wants_partial
from meshdash.mesh.checks import CHECKS, SEVERITIES
from meshdash.mesh.model import WorkloadKey
from meshdash.store import SnapshotStore
from meshdash.triage.forms import EXPIRIES, EXPIRY_LABELS, MuteForm
from meshdash.triage.muting import MuteRefused, create_mute, remove_mute
from meshdash.triage.permissions import AdminScope, admin_scope
from meshdash.triage.query import check_title, groups_of, page_of, parse_triage_query
from meshdash.triage.reading import select_findings, workload_teams
from meshdash.triage.rows import FindingRow, finding_row, mute_target

# The muted findings listed under the active ones, at most.
MAX_MUTED_SHOWN = 100
NAMESPACE_PICKER_SIZE = 40


def _permissions(scope: AdminScope, rows: list[FindingRow], teams: dict) -> None:
    """Fill each row's mute form (what they may mute) and unmute button (if they may)."""

    def team_of(namespace, kind, name):
        return lambda: teams.get(WorkloadKey(namespace, kind, name), "")

    for row in rows:
        if row.rule is not None:
            rule = row.rule
            row.may_unmute = not scope.refusal(
                rule.namespace, rule.kind, rule.name, team_of=team_of(*_scope(rule))
            )
            continue
        target = mute_target(row.finding)
        if target.namespace:
            target.namespace_allowed = not scope.refusal(target.namespace, team_of=lambda: "")
            target.workload_allowed = bool(target.kind) and not scope.refusal(
                target.namespace,
                target.kind,
                target.name,
                team_of=team_of(target.namespace, target.kind, target.name),
            )
        elif scope.everything:  # cluster-wide: a superuser mutes the check everywhere
            target.namespace_allowed = True
        row.mute = target


def _scope(rule):
    return rule.namespace, rule.kind, rule.name


@dashboard_page
def triage(request):
    window = parse_window(request.GET, default_window())
    query = parse_triage_query(request.GET)
    store = SnapshotStore.from_settings()
    meta = read_meta(store, window)
    selection = select_findings(store, window, meta.version, query)
    context = base_context(request, window)
    context.update(page_freshness(meta))
    page = page_of(selection.active, query)
    window_params = context["window_params"]
    rows = [finding_row(f, window_params) for f in page.items]
    muted_rows = []
    for finding, rule in selection.muted[:MAX_MUTED_SHOWN]:
        row = finding_row(finding, window_params)
        row.rule = rule
        muted_rows.append(row)
    scope = admin_scope(request.user)
    if scope.anything:
        teams = selection.teams
        if scope.labels and not teams:  # workloads outside their namespaces, by label
            shown = [row.finding for row in rows + muted_rows]
            teams = workload_teams(store, window, meta.version, shown)
        _permissions(scope, rows + muted_rows, teams)
    start = (page.page - 1) * page.per_page
    previous = selection.active[start - 1].check if start else ""
    context.update(paging.pager(page))
    context.update(
        {
            "query": query,
            "checks_ran": selection.checks_ran,
            "groups": groups_of(rows, lambda row: row.finding.check, previous),
            "muted_groups": groups_of(muted_rows, lambda row: row.finding.check),
            "muted_total": len(selection.muted),
            "muted_not_shown": max(0, len(selection.muted) - MAX_MUTED_SHOWN),
            "may_mute": scope.anything,
            "expiries": [
                (key, EXPIRY_LABELS.get(key, key.replace("d", " days"))) for key in EXPIRIES
            ],
            "list_url": request.path,
            "here": request.get_full_path(),
        }
    )
    if not wants_partial(request):  # the filter form is outside the refreshed region
        selected = set(query.namespaces)
        names = store.namespace_names(window, version=meta.version)
        offered = sorted(selected) + [name for name in names if name not in selected]
        context.update(
            {
                "severities": SEVERITIES,
                "checks": [(check_id, check_title(check_id)) for check_id in CHECKS],
                "namespace_names": offered[:NAMESPACE_PICKER_SIZE],
                "namespaces_not_offered": max(0, len(offered) - NAMESPACE_PICKER_SIZE),
                "selected_namespaces": selected,
                "team_links": team_links(request.user),
            }
        )
    return render_page(request, "triage/triage.html", context, "region")


def _back(request, raw: str) -> str:
    """Where to go after a mute or unmute: the triage view it came from, never elsewhere."""
    home = reverse("triage")
    safe = url_has_allowed_host_and_scheme(raw, allowed_hosts={request.get_host()})
    return raw if raw and safe and raw.startswith(home) else home


def _refused(request, reason: str, status: int, back: str):
    return render(request, "triage/refused.html", {"reason": reason, "back": back}, status=status)


@require_POST
def mute(request):
    """Mute a check in a namespace, or for one workload in it (team admins, superusers)."""
    form = MuteForm(request.POST)
    back = _back(request, request.POST.get("next", "")[:2000])
    if not form.is_valid():
        reasons = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        return _refused(request, f"The mute form is not valid: {reasons}", 400, back)
    data = form.cleaned_data
    try:
        created = create_mute(
            request.user,
            check=data["check"],
            namespace=data["namespace"],
            kind=data["kind"],
            name=data["name"],
            why=data["why"],
            expires_in=form.expiry,
        )
    except MuteRefused as exc:
        return _refused(request, str(exc), exc.status, back)
    messages.success(request, f"Muted: {created}.")
    return HttpResponseRedirect(back, status=303)


@require_POST
def unmute(request, mute_id: int):
    back = _back(request, request.POST.get("next", "")[:2000])
    try:
        removed = remove_mute(request.user, mute_id)
    except MuteRefused as exc:
        return _refused(request, str(exc), exc.status, back)
    messages.success(request, f"Unmuted: {removed}.")
    return HttpResponseRedirect(back, status=303)
