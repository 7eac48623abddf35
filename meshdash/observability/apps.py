from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "meshdash.observability"
    label = "observability"
    verbose_name = "Observability"

    def ready(self):
        # Receivers of Celery's signals: they fire only in worker and beat processes.
        from meshdash.observability import heartbeat, logging

        heartbeat.connect_worker_signals()
        logging.connect_celery_signals()
