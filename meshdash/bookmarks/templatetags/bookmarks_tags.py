from django import template

from meshdash.bookmarks.menu import menu
from meshdash.bookmarks.models import Watch
from meshdash.bookmarks.models import may_share_with_everyone as _may_share_with_everyone
from meshdash.bookmarks.watches import watched_workloads
from meshdash.dashboard.freezing import gone_paths
from meshdash.mesh.model import WorkloadKey
from meshdash.store import SnapshotStore

register = template.Library()

# The overview's watched panel shows this many, the first by name: a bound on its one read.
MAX_WATCHED = 30


@register.simple_tag
def bookmark_menu(user):
    """meshdash.bookmarks.menu.menu: sections, teams, may_share_with_everyone; each item
    ``gone`` when the workload or namespace it opens is not in the current snapshot (one read
    of the store for the whole menu; the cached menu itself is left as it is)."""
    found = menu(user)
    items = [item for section in found["sections"] for item in section["items"]]
    gone = gone_paths({item["path"] for item in items if not item.get("as_of")})
    if not gone:
        return found
    sections = [
        {
            **section,
            "items": [
                {**item, "gone": item["path"] in gone and not item.get("as_of")}
                for item in section["items"]
            ],
        }
        for section in found["sections"]
    ]
    return {**found, "sections": sections}


@register.filter
def may_share_with_everyone(user) -> bool:
    return _may_share_with_everyone(user)


@register.filter
def percent(fraction) -> str:
    """A 0..1 fraction from a frozen copy as a percentage; a dash when there was no traffic."""
    if fraction is None:
        return "—"
    return f"{float(fraction) * 100:.2f} %"


@register.inclusion_tag("bookmarks/_watch.html", takes_context=True)
def watch_button(context, namespace: str, kind: str, name: str):
    """Watch / stop watching a workload, for the workload detail page."""
    request = context["request"]
    user = request.user
    mine = None
    if user.is_authenticated:
        mine = Watch.objects.filter(user=user, namespace=namespace, kind=kind, name=name).first()
    return {
        "request": request,
        "user": user,
        "csrf_token": context.get("csrf_token"),
        "namespace": namespace,
        "kind": kind,
        "name": name,
        "mine": mine,
        "teams": list(user.groups.values_list("name", flat=True)) if user.is_authenticated else [],
    }


@register.inclusion_tag("bookmarks/_watched.html", takes_context=True)
def watched_panel(context, window: str, version: str):
    """The workloads the user or their teams watch, as they are in this snapshot version of
    ``window``, read from the store in one call; "gone" for those it no longer has."""
    watched = watched_workloads(context["request"].user)[:MAX_WATCHED]
    found = SnapshotStore.from_settings().workloads(
        window, [WorkloadKey(*key) for key in watched], version=version
    )
    return {
        "watched": [(key, found[WorkloadKey(*key)]) for key in watched],
        "window_params": context.get("window_params"),
    }
