from django.contrib import admin

from meshdash.bookmarks.models import Bookmark, Watch


@admin.register(Bookmark)
class BookmarkAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "visibility", "team", "pinned", "as_of", "updated"]
    list_filter = ["visibility", "team", "pinned"]
    search_fields = ["title", "note", "path"]
    readonly_fields = ["path", "query", "as_of", "window", "created", "updated"]


@admin.register(Watch)
class WatchAdmin(admin.ModelAdmin):
    list_display = ["namespace", "kind", "name", "user", "team", "created"]
    list_filter = ["team"]
