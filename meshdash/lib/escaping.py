"""HTML escaping for markup built in Python (list rows, charts, links).

Django's ``escape`` is ``html.escape`` behind a lazy-text wrapper that inspects every argument,
returning a SafeString: on the few hundred values of a page that wrapper cost more than the
escaping. The same characters are escaped the same way here (& < > " '), as plain text: the
callers mark the whole fragment safe once.
"""

from html import escape as _html_escape


def escape(value) -> str:
    """``value`` as text, escaped for HTML text and attribute values."""
    return _html_escape(str(value))
