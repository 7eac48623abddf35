from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "meshdash.triage"
    label = "triage"
    verbose_name = "Triage"

    def ready(self):
        from meshdash.dashboard.filters import PAGE_QUERIES
        from meshdash.triage.mutes import connect_signals
        from meshdash.triage.query import parse_triage_query

        connect_signals()
        # Bookmarks check a saved URL's query with the page's own parser; the dashboard does
        # not import this app, so the triage pages register theirs.
        PAGE_QUERIES.update(dict.fromkeys(("triage", "api_findings"), parse_triage_query))
