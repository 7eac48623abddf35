"""JSON API for bookmarks: the same visibility rule and the same form as the pages."""

import json

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import resolve_url

from meshdash.accounts.teams import administered_team_ids
from meshdash.bookmarks.editing import create_bookmark, form_data, update_bookmark
from meshdash.bookmarks.forms import BookmarkForm, first_error
from meshdash.bookmarks.freeze import NothingToFreeze, UnfreezableUrl
from meshdash.bookmarks.models import Bookmark
from meshdash.bookmarks.quotas import QuotaExceeded
from meshdash.mesh.query import MAX_PAGE, MAX_PER_PAGE

MAX_BODY = 16 * 1024
FIELDS = {"title", "url", "note", "visibility", "team", "pinned", "freeze"}


def error(reason: str, status: int) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


def method_not_allowed(*allowed: str) -> JsonResponse:
    response = error("method not allowed", 405)
    response["Allow"] = ", ".join(allowed)
    return response


def as_json(bookmark: Bookmark, user, admin_of: set[int] | None = None) -> dict:
    return {
        "id": bookmark.pk,
        "title": bookmark.title,
        "note": bookmark.note,
        "url": bookmark.url,
        "open_url": resolve_url("bookmarks:open", bookmark.pk),
        "visibility": bookmark.visibility,
        "team": bookmark.team.name if bookmark.team else None,
        # Anonymous readers (MESHDASH_ANONYMOUS_READ) do not learn who saved what.
        "owner": bookmark.owner.get_username() if user.is_authenticated else None,
        "pinned": bookmark.pinned,
        "position": bookmark.position,
        "as_of": bookmark.as_of.timestamp() if bookmark.as_of else None,
        "window": bookmark.window or None,
        "range": frozen_range(bookmark),
        "created": bookmark.created.timestamp(),
        "updated": bookmark.updated.timestamp(),
        "can_edit": bookmark.can_edit(user),
        "can_delete": bookmark.can_delete(user, admin_of),
    }


def frozen_range(bookmark: Bookmark) -> dict | None:
    """A frozen workload page's charts' time range, in unix seconds."""
    if bookmark.range_start is None or bookmark.range_end is None:
        return None
    return {"start": bookmark.range_start.timestamp(), "end": bookmark.range_end.timestamp()}


def read_body(request) -> dict:
    """The request's JSON object, bounded in size; ValueError with the reason otherwise."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ValueError("bad Content-Length") from None
    if length > MAX_BODY:
        raise ValueError(f"body larger than {MAX_BODY} bytes")
    try:
        body = json.loads(request.body or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    unknown = set(body) - FIELDS
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
    for key, value in body.items():
        wanted = bool if key in ("pinned", "freeze") else str
        if value is not None and not isinstance(value, wanted):
            raise ValueError(f"{key} must be a {'boolean' if wanted is bool else 'string'}")
    return {k: v for k, v in body.items() if v is not None}


def page_params(request) -> tuple[int, int]:
    """``page`` and ``per_page`` from the query string, within the bounds of every list of
    meshdash (MAX_PAGE, MAX_PER_PAGE); ValueError with the reason otherwise."""
    numbers = []
    for name, default, maximum in (
        ("page", 1, MAX_PAGE),
        ("per_page", settings.MESHDASH_BOOKMARKS_PAGE_SIZE, MAX_PER_PAGE),
    ):
        raw = request.GET.get(name, "")
        if raw == "":
            numbers.append(default)
            continue
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
            raise ValueError(f"{name} must be a whole number from 1 to {maximum}")
        numbers.append(int(raw))
    return numbers[0], numbers[1]


def bookmarks(request):
    if request.method == "GET":
        try:
            number, per_page = page_params(request)
        except ValueError as exc:
            return error(str(exc), 400)
        visible = Bookmark.objects.visible_to(request.user).select_related("owner", "team")
        # A page past the last is the last, as in the workload list.
        page = Paginator(visible.in_menu_order(), per_page).get_page(number)
        admin_of = administered_team_ids(request.user)
        return JsonResponse(
            {
                "total": page.paginator.count,
                "page": page.number,
                "per_page": per_page,
                "pages": page.paginator.num_pages,
                "items": [as_json(b, request.user, admin_of) for b in page.object_list],
            }
        )
    if request.method != "POST":
        return method_not_allowed("GET", "POST")
    if not request.user.is_authenticated:
        return error("authentication required", 401)
    try:
        body = read_body(request)
    except ValueError as exc:
        return error(str(exc), 400)
    form = BookmarkForm(body, user=request.user)
    if not form.is_valid():
        return error(first_error(form), 400)
    try:
        bookmark = create_bookmark(request.user, form.cleaned_data)
    except QuotaExceeded as exc:
        return error(str(exc), 409)
    except NothingToFreeze as exc:
        status = 400 if isinstance(exc, UnfreezableUrl) else 409
        return error(f"cannot freeze this view: {exc}", status)
    return JsonResponse(as_json(bookmark, request.user), status=201)


def bookmark(request, bookmark_id: int):
    found = (
        Bookmark.objects.visible_to(request.user)
        .select_related("owner", "team")
        .filter(pk=bookmark_id)
        .first()
    )
    if found is None:
        return error("no such bookmark", 404)
    if request.method == "GET":
        return JsonResponse(as_json(found, request.user))
    if request.method == "DELETE":
        if not found.can_delete(request.user):
            return error("only the owner or the team's admins can delete this bookmark", 403)
        found.delete()
        return HttpResponse(status=204)
    if request.method != "PATCH":
        return method_not_allowed("GET", "PATCH", "DELETE")
    if not found.can_edit(request.user):
        return error("only the owner can change this bookmark", 403)
    try:
        body = read_body(request)
    except ValueError as exc:
        return error(str(exc), 400)
    if "freeze" in body:
        return error("freeze can only be set when creating a bookmark", 400)
    form = BookmarkForm(form_data(found) | body, user=request.user, current=found)
    if not form.is_valid():
        return error(first_error(form), 400)
    update_bookmark(found, form.cleaned_data)
    return JsonResponse(as_json(found, request.user))
