from django.apps import AppConfig
from django.core import checks

from meshdash.accounts.checks import check_proxy_lists, check_team_selectors


class AccountsConfig(AppConfig):
    name = "meshdash.accounts"
    label = "accounts"
    verbose_name = "Accounts and teams"

    def ready(self):
        from meshdash.accounts.cache import connect_signals

        connect_signals()
        checks.register(check_proxy_lists)
        checks.register(check_team_selectors, checks.Tags.database)
