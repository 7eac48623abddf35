from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "meshdash.accounts"
    label = "accounts"
    verbose_name = "Accounts and teams"
