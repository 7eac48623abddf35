from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from meshdash.accounts.teams import administered_team_ids
from meshdash.bookmarks.editing import create_bookmark, form_data, move_bookmark, update_bookmark
from meshdash.bookmarks.forms import BookmarkForm
from meshdash.bookmarks.freeze import NothingToFreeze
from meshdash.bookmarks.models import Bookmark, Watch, may_share_with_everyone
from meshdash.bookmarks.quotas import QuotaExceeded, check_watch_quota, lock_owner
from meshdash.bookmarks.urlcheck import UnsafeUrl, normalise_internal_url
from meshdash.dashboard.freezing import frozen_history
from meshdash.mesh.names import workload_ref_error


def _visible(request, bookmark_id: int) -> Bookmark:
    """The bookmark if the user may see it; a 404 otherwise, never a hint that it exists."""
    queryset = Bookmark.objects.visible_to(request.user).select_related("owner", "team")
    return get_object_or_404(queryset, pk=bookmark_id)


# Watched workloads listed on the bookmarks page: a user's own plus each of their teams', each
# bounded by MESHDASH_WATCHES_PER_USER; this bounds the list whatever the number of teams.
MAX_LISTED_WATCHES = 500


def bookmark_list(request):
    bookmarks = Bookmark.objects.visible_to(request.user).select_related("owner", "team")
    page = Paginator(bookmarks.in_menu_order(), settings.MESHDASH_BOOKMARKS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    admin_of = administered_team_ids(request.user)
    rows = [
        {
            "bookmark": b,
            "mine": b.can_edit(request.user),
            "can_delete": b.can_delete(request.user, admin_of),
        }
        for b in page.object_list
    ]
    watches = Watch.objects.visible_to(request.user).select_related("team")
    ctx = {
        "rows": rows,
        "page": page,
        "teams": _teams(request),
        "may_share_with_everyone": may_share_with_everyone(request.user),
        "watches": watches.order_by("namespace", "kind", "name", "pk")[:MAX_LISTED_WATCHES],
    }
    return render(request, "bookmarks/list.html", ctx)


def _teams(request):
    if not request.user.is_authenticated:
        return []
    return list(request.user.groups.order_by("name").values_list("name", flat=True))


def _save_page(request, form, status=200):
    ctx = {
        "form": form,
        "teams": _teams(request),
        "may_share_with_everyone": may_share_with_everyone(request.user),
    }
    return render(request, "bookmarks/save.html", ctx, status=status)


@login_required
def save(request):
    if request.method == "POST":
        form = BookmarkForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                bookmark = create_bookmark(request.user, form.cleaned_data)
            except NothingToFreeze as exc:
                form.add_error("freeze", f"cannot freeze this view: {exc}")
            except QuotaExceeded as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Saved “{bookmark.title}”.")
                return redirect("bookmarks:list")
        return _save_page(request, form, status=400)
    url = request.GET.get("url", "/")
    try:
        normalise_internal_url(url)
    except UnsafeUrl:
        url = "/"
    return _save_page(request, BookmarkForm(initial={"url": url, "title": url}, user=request.user))


def open_bookmark(request, bookmark_id: int):
    bookmark = _visible(request, bookmark_id)
    if bookmark.is_frozen:
        frozen = getattr(bookmark, "frozen", None)
        kept = frozen.data.get("history") if frozen and frozen.kind == "workload" else None
        ctx = {
            "bookmark": bookmark,
            "frozen": frozen,
            "history": frozen_history(kept) if kept else None,
            "retention_days": settings.MESHDASH_FROZEN_RETENTION_DAYS,
        }
        return render(request, "bookmarks/frozen.html", ctx)
    # The URL was checked when saved; checked again here so a row edited in the database
    # cannot turn meshdash into an open redirect.
    if not url_has_allowed_host_and_scheme(bookmark.url, allowed_hosts=None):
        return HttpResponseForbidden("This bookmark does not point at a meshdash page.")
    return redirect(bookmark.url)


@login_required
@require_POST
def edit(request, bookmark_id: int):
    bookmark = _visible(request, bookmark_id)
    if not bookmark.can_edit(request.user):
        return HttpResponseForbidden("Only the owner can change this bookmark.")
    data = form_data(bookmark)
    data.update(
        {
            key: request.POST[key]
            for key in ("title", "note", "visibility", "team")
            if key in request.POST
        }
    )
    data["pinned"] = request.POST.get("pinned") == "on"
    form = BookmarkForm(data, user=request.user, current=bookmark)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {errors[0]}")
        return redirect("bookmarks:list")
    update_bookmark(bookmark, form.cleaned_data)
    messages.success(request, f"Updated “{bookmark.title}”.")
    return redirect("bookmarks:list")


@login_required
@require_POST
def delete(request, bookmark_id: int):
    bookmark = _visible(request, bookmark_id)
    if not bookmark.can_delete(request.user):
        return HttpResponseForbidden(
            "Only the owner or the team's admins can delete this bookmark."
        )
    bookmark.delete()
    messages.success(request, f"Deleted “{bookmark.title}”.")
    return redirect("bookmarks:list")


@login_required
@require_POST
def move(request, bookmark_id: int):
    bookmark = _visible(request, bookmark_id)
    if not bookmark.can_edit(request.user):
        return HttpResponseForbidden("Only the owner can reorder this bookmark.")
    move_bookmark(bookmark, -1 if request.POST.get("direction") == "up" else 1)
    return redirect("bookmarks:list")


def bad_request(request, reason: str):
    return render(request, "bookmarks/bad_request.html", {"reason": reason}, status=400)


def _back(request, fallback: str):
    target = request.POST.get("next", "")
    try:
        path, query = normalise_internal_url(target)
    except UnsafeUrl:
        return redirect(fallback)
    return redirect(f"{path}?{query}" if query else path)


@login_required
@require_POST
def watch(request):
    namespace = request.POST.get("namespace", "")
    kind = request.POST.get("kind", "")
    name = request.POST.get("name", "")
    reason = workload_ref_error(namespace, kind, name)
    if reason:
        return bad_request(request, reason)
    team_name = request.POST.get("team", "")
    if team_name:
        team = request.user.groups.filter(name=team_name).first()
        if team is None:
            return bad_request(request, "you are not in that team")
        owner = {"team": team}
    else:
        owner = {"user": request.user}
    with transaction.atomic():
        lock_owner(request.user)
        ref = {"namespace": namespace, "kind": kind, "name": name}
        if not Watch.objects.filter(**owner, **ref).exists():
            try:
                check_watch_quota(**owner)
            except QuotaExceeded as exc:
                return bad_request(request, str(exc))
            Watch.objects.create(**owner, **ref)
    return _back(request, "bookmarks:list")


@login_required
@require_POST
def unwatch(request, watch_id: int):
    watch = get_object_or_404(Watch.objects.visible_to(request.user), pk=watch_id)
    watch.delete()
    return _back(request, "bookmarks:list")
