"""The bookmarks part of the API's OpenAPI description (assembled in meshdash/openapi.py):
the request bodies come from the bookmark form, so the description accepts what the form does."""

from django.conf import settings
from django.urls import reverse

from meshdash.bookmarks.api import MAX_BODY, MAX_PAGE, MAX_PER_PAGE
from meshdash.bookmarks.forms import BookmarkForm
from meshdash.bookmarks.models import VISIBILITY_CHOICES
from meshdash.lib.openapi import (
    JSON,
    error_response,
    form_body_schema,
    json_response,
    ref,
    unauthorized_response,
)

NULLABLE_TIME = {"type": ["number", "null"], "format": "unix-time"}


def bookmark_schema() -> dict:
    properties = {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "note": {"type": "string"},
        "url": {"type": "string", "description": "The meshdash page it opens."},
        "open_url": {"type": "string", "description": "Opens it (frozen views as they were)."},
        "visibility": {"type": "string", "enum": [value for value, _ in VISIBILITY_CHOICES]},
        "team": {"type": ["string", "null"]},
        "owner": {
            "type": ["string", "null"],
            "description": "Hidden (null) from anonymous readers.",
        },
        "pinned": {"type": "boolean"},
        "position": {"type": "integer"},
        "as_of": NULLABLE_TIME | {"description": "Frozen views: when the data was copied."},
        "window": {"type": ["string", "null"]},
        "range": {
            "type": ["object", "null"],
            "description": "A frozen workload page: the time range its charts were copied "
            "over, in unix seconds (null otherwise).",
            "properties": {"start": {"type": "number"}, "end": {"type": "number"}},
            "required": ["start", "end"],
            "additionalProperties": False,
        },
        "created": {"type": "number", "format": "unix-time"},
        "updated": {"type": "number", "format": "unix-time"},
        "can_edit": {"type": "boolean"},
        "can_delete": {"type": "boolean"},
    }
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def schemas() -> dict:
    return {
        "Bookmark": bookmark_schema(),
        "BookmarkList": {
            "type": "object",
            "properties": {
                "total": {"type": "integer", "minimum": 0},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
                "pages": {"type": "integer", "minimum": 1},
                "items": {"type": "array", "items": ref("Bookmark")},
            },
            "required": ["total", "page", "per_page", "pages", "items"],
            "additionalProperties": False,
        },
    }


def _page_parameter(name: str, maximum: int, default: int, description: str) -> dict:
    number = {"type": "integer", "minimum": 1, "maximum": maximum}
    return {
        "name": name,
        "in": "query",
        "description": f"{description} Empty: {default}.",
        # An empty value is taken as not given.
        "schema": {"anyOf": [number, {"const": ""}], "default": default},
    }


def _body(schema: dict, description: str) -> dict:
    example = {"title": "Payments by errors", "url": "/workloads/?ns=payments&sort=success_rate"}
    return {
        "required": True,
        "description": f"{description} At most {MAX_BODY} bytes.",
        "content": {JSON: {"schema": schema, "example": example}},
    }


def _bad_body() -> dict:
    return error_response(
        "The body is not a JSON object of the fields above, or the form refuses a value "
        "(an external or unknown URL, an unknown team, sharing with everyone without being "
        "staff or a team admin, a URL that cannot be frozen, ...)."
    )


def paths() -> dict:
    listing = reverse("api_bookmarks")
    one = listing + "/{bookmark_id}"
    bookmark_id = {
        "name": "bookmark_id",
        "in": "path",
        "required": True,
        # Django's int converter: digits only; ids above a 64-bit integer exist in no database.
        "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
    }
    csrf = "A session without the CSRF token, or a token without the write scope."
    return {
        listing: {
            "get": {
                "operationId": "listBookmarks",
                "summary": "One page of the bookmarks the caller may see, in menu order.",
                "tags": ["bookmarks"],
                "parameters": [
                    _page_parameter(
                        "page", MAX_PAGE, 1, "Page number; one past the last gives the last page."
                    ),
                    _page_parameter(
                        "per_page",
                        MAX_PER_PAGE,
                        settings.MESHDASH_BOOKMARKS_PAGE_SIZE,
                        "Bookmarks per page.",
                    ),
                ],
                "responses": {
                    "200": json_response("One page of bookmarks.", ref("BookmarkList")),
                    "400": error_response("`page` or `per_page` is not a number in bounds."),
                    "401": unauthorized_response(),
                },
            },
            "post": {
                "operationId": "createBookmark",
                "summary": "Save a view; `freeze` copies the data it shows now.",
                "tags": ["bookmarks"],
                "requestBody": _body(form_body_schema(BookmarkForm), "The new bookmark."),
                "responses": {
                    "201": json_response("The new bookmark.", ref("Bookmark")),
                    "400": _bad_body(),
                    "401": unauthorized_response(),
                    "403": error_response(csrf),
                    "409": error_response(
                        "A quota is reached (MESHDASH_BOOKMARKS_PER_USER bookmarks, "
                        "MESHDASH_FROZEN_VIEWS_PER_USER frozen views), or `freeze` asked for "
                        "a view with no data to copy yet."
                    ),
                },
            },
        },
        one: {
            "parameters": [bookmark_id],
            "get": {
                "operationId": "getBookmark",
                "summary": "One bookmark the caller may see.",
                "tags": ["bookmarks"],
                "responses": {
                    "200": json_response("The bookmark.", ref("Bookmark")),
                    "401": unauthorized_response(),
                    "404": error_response("No such bookmark, or one the caller may not see."),
                },
            },
            "patch": {
                "operationId": "updateBookmark",
                "summary": "Change some fields of one's own bookmark (a frozen one keeps its URL).",
                "tags": ["bookmarks"],
                "requestBody": _body(
                    _without(form_body_schema(BookmarkForm, all_optional=True), "freeze"),
                    "The fields to change.",
                ),
                "responses": {
                    "200": json_response("The bookmark as changed.", ref("Bookmark")),
                    "400": _bad_body(),
                    "401": unauthorized_response(),
                    "403": error_response(f"Not the owner's. {csrf}"),
                    "404": error_response("No such bookmark, or one the caller may not see."),
                },
            },
            "delete": {
                "operationId": "deleteBookmark",
                "summary": "Delete one's own bookmark, or a team bookmark as its team's admin.",
                "tags": ["bookmarks"],
                "responses": {
                    "204": {"description": "Deleted."},
                    "401": unauthorized_response(),
                    "403": error_response(f"Neither the owner nor an admin of its team. {csrf}"),
                    "404": error_response("No such bookmark, or one the caller may not see."),
                },
            },
        },
    }


def _without(schema: dict, name: str) -> dict:
    schema["properties"].pop(name)
    return schema
