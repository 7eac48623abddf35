"""Bytes on the wire: pages gzip-compressed, static files under hashed names that browsers keep
for a year once collectstatic ran, and plain names through the finders before."""

import gzip
import re
from pathlib import Path

import django_htmx
import pytest
from django.core.management import call_command
from django.test import Client

from tests.dashboard.known import write_known

pytestmark = pytest.mark.django_db

HASHED = re.compile(r"/static/meshdash/meshdash\.[0-9a-f]{12}\.css")


@pytest.fixture
def hashed_storage(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "meshdash.lib.static.HashedStaticFilesStorage"},
    }
    # The files pages link only: the admin's too would make collectstatic slow.
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    htmx = Path(django_htmx.__file__).parent / "static"
    settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, htmx]
    return settings.STATIC_ROOT


def stylesheet(page: bytes) -> str:
    return re.search(r'href="(/static/meshdash/meshdash[^"]*\.css)"', page.decode())[1]


def test_after_collectstatic_pages_link_hashed_names_kept_a_year(hashed_storage):
    call_command("collectstatic", interactive=False, verbosity=0)
    client = Client()
    url = stylesheet(client.get("/accounts/login/").content)
    assert HASHED.fullmatch(url)
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    assert "max-age=315360000" in response["Cache-Control"]
    assert response["Content-Encoding"] == "gzip"


def test_without_collectstatic_the_plain_names_are_served_by_the_finders(hashed_storage):
    client = Client()
    url = stylesheet(client.get("/accounts/login/").content)
    assert url == "/static/meshdash/meshdash.css"
    response = client.get(url)
    assert response.status_code == 200
    assert "immutable" not in response.get("Cache-Control", "")


def test_pages_are_gzip_compressed_for_clients_that_accept_it(client, alice, redis_client):
    write_known(redis_client)
    client.force_login(alice)
    plain = client.get("/workloads/")
    packed = client.get("/workloads/", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    body = gzip.decompress(packed.content)
    assert b"<table" in body
    assert len(packed.content) * 3 < len(body)
