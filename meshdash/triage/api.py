"""GET /api/v1/findings: the triage page's findings as JSON, with the same filters."""

from django.conf import settings

from meshdash.dashboard.api import api_view, no_snapshot, page_json
from meshdash.dashboard.filters import parse_window
from meshdash.store import SnapshotStore
from meshdash.triage.query import page_of, parse_triage_query
from meshdash.triage.reading import select_findings
from meshdash.triage.rows import finding_json, mute_json


@api_view
def findings(request):
    """One page of the active findings, grouped by check and worst first, and every muted
    finding the filters select (each with its mute). ``checks_ran`` false: the snapshot's
    collection did not run the checks (no findings, rather than none found)."""
    window = parse_window(request.GET, settings.MESHDASH_DEFAULT_WINDOW)
    query = parse_triage_query(request.GET)
    store = SnapshotStore.from_settings()
    meta = store.meta(window)
    if meta is None:
        return no_snapshot(window)
    selection = select_findings(store, window, meta.version, query)
    page = page_of(selection.active, query)
    return page_json(
        page,
        window,
        meta,
        [finding_json(f) for f in page.items],
        checks_ran=selection.checks_ran,
        muted=[
            {"finding": finding_json(f), "mute": mute_json(rule)} for f, rule in selection.muted
        ],
    )
