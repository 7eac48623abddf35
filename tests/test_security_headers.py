"""Every response carries the Content-Security-Policy, and the pages need nothing it forbids."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
POLICY = "default-src 'self'; object-src 'none'; frame-ancestors 'none'"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",
        "/admin/login/",
        "/bookmarks/",
        "/api/v1/bookmarks",
        "/no/such/page/",
        "/static/meshdash/meshdash.css",
    ],
)
def test_it_sends_the_policy_on_every_response(client, path):
    response = client.get(path)
    assert response["Content-Security-Policy"] == POLICY


def test_it_keeps_the_templates_free_of_inline_scripts_styles_and_handlers():
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\sstyle=", r"<style", r"\son[a-z]+="):
            if re.search(pattern, text):
                offenders.append(f"{template.relative_to(ROOT)}: {pattern}")
    assert not offenders
