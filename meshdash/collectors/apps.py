from django.apps import AppConfig


class CollectorsConfig(AppConfig):
    name = "meshdash.collectors"
    label = "collectors"
    verbose_name = "Collectors"
