from django.urls import path

from meshdash.bookmarks import views

app_name = "bookmarks"

urlpatterns = [
    path("", views.bookmark_list, name="list"),
    path("save/", views.save, name="save"),
    path("watch/", views.watch, name="watch"),
    path("watch/<int:watch_id>/delete/", views.unwatch, name="unwatch"),
    path("<int:bookmark_id>/", views.open_bookmark, name="open"),
    path("<int:bookmark_id>/edit/", views.edit, name="edit"),
    path("<int:bookmark_id>/delete/", views.delete, name="delete"),
    path("<int:bookmark_id>/move/", views.move, name="move"),
]
