from django import template
from django.utils.safestring import SafeString, mark_safe

from meshdash.bookmarks.menu import menu
from meshdash.bookmarks.models import may_share_with_everyone as _may_share_with_everyone
from meshdash.bookmarks.watches import own_watch, watched_workloads
from meshdash.dashboard.freezing import bookmark_target, gone_targets
from meshdash.lib.escaping import escape
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
    targets = {
        id(item): _target(item) for section in found["sections"] for item in section["items"]
    }
    gone = gone_targets(target for target in targets.values() if target)
    if not gone:
        return found
    sections = [
        {
            **section,
            "items": [{**item, "gone": targets[id(item)] in gone} for item in section["items"]],
        }
        for section in found["sections"]
    ]
    return {**found, "sections": sections}


def _target(item: dict):
    """The item's target as its menu was built with it (a menu cached before targets were
    kept has none: resolved here)."""
    if "target" in item:
        return item["target"]
    return None if item.get("as_of") else bookmark_target(item["path"])


# The text of a bookmark that opens nothing any more, and its link's tooltip.
GONE_TITLE = "What it shows is not in the current snapshot"


@register.simple_tag
def bookmark_items(items, bookmarks_url: str) -> SafeString:
    """A menu section's ``<li>`` elements, built in Python: as a template loop they were most
    of a signed-in page's fixed cost for a user with a full menu (up to 60 items)."""
    if not items:
        return mark_safe('<li class="acct-muted">None yet</li>')
    base = escape(bookmarks_url)
    lines = []
    for b in items:
        title = escape(b["title"])
        pin = '<span class="acct-pin" title="Pinned">&#9733;</span> ' if b["pinned"] else ""
        if b.get("gone"):
            # Its page would be a 404: the list, where it can be edited or deleted, instead.
            link = (
                f'<a href="{base}#bookmark-{b["id"]}" data-gone title="{GONE_TITLE}">{title}</a>'
                ' <span class="acct-tag acct-gone">gone</span>'
            )
        else:
            note = f' title="{escape(b["note"])}"' if b["note"] else ""
            link = f'<a href="{base}{b["id"]}/"{note}>{title}</a>'
        frozen = ' <span class="acct-tag">frozen</span>' if b["as_of"] else ""
        lines.append(f"<li>{pin}{link}{frozen}</li>")
    return mark_safe("\n".join(lines))  # noqa: S308 (every value above is escaped)


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
    return {
        "request": request,
        "user": user,
        "csrf_token": context.get("csrf_token"),
        "namespace": namespace,
        "kind": kind,
        "name": name,
        # Both from the user's cached entries: no query on a workload's page.
        "mine": own_watch(user, namespace, kind, name),
        "teams": menu(user)["teams"],
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
