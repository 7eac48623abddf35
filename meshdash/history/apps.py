from django.apps import AppConfig


class HistoryConfig(AppConfig):
    name = "meshdash.history"
    label = "history"
    verbose_name = "History"
