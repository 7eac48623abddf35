from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "meshdash.triage"
    label = "triage"
    verbose_name = "Triage"

    def ready(self):
        from meshdash.triage.mutes import connect_signals

        connect_signals()
