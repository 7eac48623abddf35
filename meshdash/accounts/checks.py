import ipaddress

from django.conf import settings
from django.core.checks import Error


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
