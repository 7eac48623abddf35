"""One helper decides between the whole page and one of its partials."""

from django.http import HttpResponse
from django.template import loader
from django.template.context import make_context
from django.utils.cache import patch_vary_headers


def wants_partial(request) -> bool:
    """An htmx swap of a region, not a boosted navigation or a history restore (full pages)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page(request, template: str, context: dict, partial: str, status: int = 200):
    """The full ``template`` or, for htmx swaps, its partial ``template#partial``.

    Rendered without Django's number localization: every number a page shows is already text
    from meshdash's own filters (``percent``, ``rps``, ``ms``...) or an SVG coordinate, which
    must not be localized anyway; ``localize`` on the hundreds of other values (counts, ids,
    coordinates) was a sixth of a workload page's rendering. Plain ``str()`` instead.
    """
    name = f"{template}#{partial}" if wants_partial(request) else template
    found = loader.get_template(name)
    page = make_context(context, request, autoescape=found.backend.engine.autoescape)
    page.use_l10n = False
    response = HttpResponse(found.template.render(page), status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response
