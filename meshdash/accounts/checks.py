import ipaddress

from django.conf import settings
from django.core.checks import Error, Warning
from django.db import DatabaseError

from meshdash.mesh.model import TEAM_LABEL


def check_proxy_lists(app_configs, **kwargs):
    """A typo in a trusted-proxy list must stop start-up, not fail every request later."""
    errors = []
    for name in ("MESHDASH_SSO_TRUSTED_PROXIES", "MESHDASH_FORWARDED_FOR_PROXIES"):
        for entry in getattr(settings, name):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                errors.append(
                    Error(f"{name} has {entry!r}, not an address or CIDR", id="accounts.E001")
                )
    if settings.MESHDASH_SSO_HEADER and not settings.MESHDASH_SSO_TRUSTED_PROXIES:
        errors.append(
            Error(
                "MESHDASH_SSO_HEADER is set but MESHDASH_SSO_TRUSTED_PROXIES is empty: "
                "no request would ever be trusted",
                id="accounts.E002",
            )
        )
    return errors


def check_team_selectors(app_configs, databases=None, **kwargs):
    """Teams whose stored label selector the collector cannot honour (a key other than the
    workload label it reads): they get none of their workloads by label until it is fixed."""
    # Models are not ready when this module is imported (by the app's config).
    from meshdash.accounts.models import TeamProfile
    from meshdash.accounts.teams import label_selector_error

    warnings = []
    for alias in databases or ():
        profiles = TeamProfile.objects.using(alias).exclude(label_selector="")
        try:
            profiles = list(profiles.select_related("team").order_by("team__name"))
        except DatabaseError:  # not migrated yet: nothing stored to check
            continue
        for profile in profiles:
            why = label_selector_error(profile.label_selector)
            if why:
                message = f"team {profile.team.name!r}: label selector {profile.label_selector!r}"
                hint = f"manage.py team label <team> {TEAM_LABEL}=<value> (or '' to clear it)"
                warnings.append(Warning(f"{message}: {why}", hint=hint, id="accounts.W001"))
    return warnings
