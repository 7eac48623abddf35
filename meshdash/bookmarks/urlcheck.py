"""Which URLs a bookmark may hold: our own pages only, so a bookmark never sends anyone
elsewhere, with a query the page accepts (checked by the dashboard's own filters, so that
``?sort=bogus`` is refused when saved rather than opening as a 400). Returns the path and the
query string normalised (parameters sorted)."""

import re
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from django.urls import Resolver404, resolve

from meshdash.dashboard.freezing import NotAView, check_url
from meshdash.mesh.names import namespace_error, workload_ref_error

MAX_URL = 2000
MAX_PATH = 500  # Bookmark.path
MAX_QUERY = 2000  # Bookmark.query
MAX_PARAMS = 100
# Control characters, whitespace and backslashes: browsers "fix" these into other URLs.
FORBIDDEN = re.compile(r"[\x00-\x20\x7f-\x9f\\]")


class UnsafeUrl(ValueError):
    """``str()`` is the reason shown to the user."""


def normalise_internal_url(raw: str, *, check_query: bool = True) -> tuple[str, str]:
    """``check_query``: also refuse a query its page would refuse (off for a bookmark kept as
    it was saved, which stays editable whatever the filters accept today)."""
    if not isinstance(raw, str) or not raw:
        raise UnsafeUrl("a URL is required")
    if len(raw) > MAX_URL:
        raise UnsafeUrl(f"the URL is longer than {MAX_URL} characters")
    decoded = unquote(raw)
    for text in (raw, decoded):
        if FORBIDDEN.search(text):
            raise UnsafeUrl("the URL contains spaces, control characters or backslashes")
        if not text.startswith("/") or text.startswith("//"):
            raise UnsafeUrl("only meshdash pages can be bookmarked: the URL must start with one /")
    if "javascript:" in decoded.lower():
        raise UnsafeUrl("the URL contains javascript:")
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        raise UnsafeUrl("only meshdash pages can be bookmarked: no scheme or host")
    try:
        match = resolve(unquote(parts.path))
    except Resolver404:
        raise UnsafeUrl("the URL is not a meshdash page") from None
    try:
        params = parse_qsl(parts.query, keep_blank_values=True, max_num_fields=MAX_PARAMS)
    except ValueError:
        raise UnsafeUrl(f"the URL has more than {MAX_PARAMS} parameters") from None
    query = urlencode(sorted(params))
    if len(parts.path) > MAX_PATH:
        raise UnsafeUrl(f"the URL's path is longer than {MAX_PATH} characters")
    if len(query) > MAX_QUERY:
        raise UnsafeUrl(f"the URL's query is longer than {MAX_QUERY} characters")
    reason = _names_error(match.kwargs)
    if reason:
        raise UnsafeUrl(f"the URL names no workload or namespace: {reason}")
    if check_query:
        try:
            check_url(parts.path, query)
        except NotAView as exc:
            raise UnsafeUrl(f"the page refuses this URL: {exc}") from None
    return parts.path, query


def _names_error(kwargs: dict) -> str | None:
    """Pages of one workload or namespace: the names in their path must be Kubernetes names."""
    if {"namespace", "kind", "name"} <= kwargs.keys():
        return workload_ref_error(kwargs["namespace"], kwargs["kind"], kwargs["name"])
    if "namespace" in kwargs:
        return namespace_error(kwargs["namespace"])
    return None
