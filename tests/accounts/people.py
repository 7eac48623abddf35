"""What the tests know of the cast that tests/conftest.py's fixtures create (alice and bob in
the payments team, carol in the search team): their password, and a bookmark of theirs."""

from meshdash.bookmarks.models import Bookmark

PASSWORD = "correct horse battery"


def make_bookmark(owner, **fields):
    values = {"title": "Payments by errors", "path": "/workloads/", "query": "ns=payments"}
    return Bookmark.objects.create(owner=owner, **(values | fields))
