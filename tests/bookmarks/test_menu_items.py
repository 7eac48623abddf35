"""The bookmarks menu's items, built in Python (bookmark_items), are the markup the template
loop they replace rendered, hostile titles and notes included, once whitespace between the
items is set aside."""

import itertools
import re

from django.template import Context, Template

from meshdash.bookmarks.templatetags.bookmarks_tags import bookmark_items
from tests.dashboard.known import HOSTILE, HOSTILE_ATTR

# The loop as templates/accounts/_nav.html had it.
REFERENCE = Template(
    "{% for b in items %}"
    '<li>{% if b.pinned %}<span class="acct-pin" title="Pinned">&#9733;</span> {% endif %}'
    '{% if b.gone %}<a href="{{ bookmarks_url }}#bookmark-{{ b.id }}" data-gone '
    'title="What it shows is not in the current snapshot">{{ b.title }}</a> '
    '<span class="acct-tag acct-gone">gone</span>{% else %}'
    '<a href="{{ bookmarks_url }}{{ b.id }}/"{% if b.note %} title="{{ b.note }}"{% endif %}>'
    "{{ b.title }}</a>{% endif %}"
    '{% if b.as_of %} <span class="acct-tag">frozen</span>{% endif %}</li>\n'
    '{% empty %}<li class="acct-muted">None yet</li>{% endfor %}'
)


def items() -> list[dict]:
    texts = ["Payments by errors", HOSTILE, HOSTILE_ATTR, "it's & <b>", ""]
    out = []
    for number, (title, note, pinned, gone, as_of) in enumerate(
        itertools.product(texts[:4], texts, (False, True), (False, True), (None, 1.7e9)), 1
    ):
        item = {"id": number, "title": title, "note": note, "pinned": pinned, "as_of": as_of}
        if gone:
            item["gone"] = True
        out.append(item)
    return out


def same(ours: str, theirs: str) -> bool:
    return re.sub(r">\s+<", "><", ours.strip()) == re.sub(r">\s+<", "><", theirs.strip())


def test_the_items_are_the_template_loops_markup():
    found = items()
    for chunk in (found[:1], found[:7], found):
        expected = REFERENCE.render(Context({"items": chunk, "bookmarks_url": "/bookmarks/"}))
        assert same(bookmark_items(chunk, "/bookmarks/"), expected)


def test_an_empty_section_says_so():
    expected = REFERENCE.render(Context({"items": [], "bookmarks_url": "/bookmarks/"}))
    assert same(bookmark_items([], "/bookmarks/"), expected)
    assert "None yet" in bookmark_items([], "/bookmarks/")


def test_hostile_text_is_escaped():
    html = bookmark_items([{"id": 1, "title": HOSTILE, "note": HOSTILE_ATTR, "pinned": False,
                            "as_of": None}], "/bookmarks/")  # fmt: skip
    assert "<script" not in html.lower()
