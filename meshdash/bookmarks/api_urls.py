from django.urls import path

from meshdash.bookmarks import api

urlpatterns = [
    path("bookmarks", api.bookmarks, name="api_bookmarks"),
    path("bookmarks/<int:bookmark_id>", api.bookmark, name="api_bookmark"),
]
