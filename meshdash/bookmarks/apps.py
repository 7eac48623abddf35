from django.apps import AppConfig


class BookmarksConfig(AppConfig):
    name = "meshdash.bookmarks"
    label = "bookmarks"

    def ready(self):
        from meshdash.bookmarks.menu_cache import connect_signals

        connect_signals()
