from django.apps import AppConfig
from django.core import checks

from meshdash.dashboard.checks import check_windows


class DashboardConfig(AppConfig):
    name = "meshdash.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"

    def ready(self):
        checks.register(check_windows)
