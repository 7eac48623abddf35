from django import template

from meshdash.bookmarks.menu import menu_sections

register = template.Library()


@register.simple_tag
def bookmark_menu(user):
    return menu_sections(user)


@register.filter
def percent(fraction) -> str:
    """A 0..1 fraction from a frozen copy as a percentage; a dash when there was no traffic."""
    if fraction is None:
        return "—"
    return f"{float(fraction) * 100:.2f} %"
