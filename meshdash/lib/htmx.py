"""One helper decides between the whole page and one of its partials."""

from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def wants_partial(request) -> bool:
    """An htmx swap of a region, not a boosted navigation or a history restore (full pages)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page(request, template: str, context: dict, partial: str, status: int = 200):
    """The full ``template`` or, for htmx swaps, its partial ``template#partial``."""
    name = f"{template}#{partial}" if wants_partial(request) else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response
