"""Client addresses and trusted proxies (addresses or CIDRs, as settings list them)."""

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=16)
def _networks(entries: tuple[str, ...]):
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def in_networks(address: str, entries: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(entries)))


def client_address(request) -> str:
    """The client's address. Behind reverse proxies listed in MESHDASH_FORWARDED_FOR_PROXIES it
    is the nearest X-Forwarded-For entry that is not one of them; anyone else's header is
    ignored, since a client can write whatever it likes there."""
    proxies = settings.MESHDASH_FORWARDED_FOR_PROXIES
    address = request.META.get("REMOTE_ADDR", "")
    if not in_networks(address, proxies):
        return address[:45]
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed(hops):
        if hop and not in_networks(hop, proxies):
            return hop[:45]
    return address[:45]
