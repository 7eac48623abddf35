from django.apps import AppConfig


class BookmarksConfig(AppConfig):
    name = "meshdash.bookmarks"
    label = "bookmarks"
