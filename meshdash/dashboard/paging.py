"""What a list page shows around its rows: sortable headings, page numbers and per-page choices.
The links themselves are built in the templates, with Django's ``{% querystring %}``."""

from meshdash.mesh.columns import WORKLOAD_COLUMNS
from meshdash.mesh.query import PER_PAGE_CHOICES


def page_numbers(current: int, pages: int, around: int = 2) -> list[int | None]:
    """1 … 4 5 [6] 7 8 … 40: the first, the last and a few around the current; None is a gap."""
    wanted = {1, pages, *range(max(1, current - around), min(pages, current + around) + 1)}
    numbers: list[int | None] = []
    for number in sorted(wanted):
        if numbers and number - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


def pager(page) -> dict:
    """Context for the pager and per-page links of a list (templates/dashboard/_pager.html)."""
    return {
        "page": page,
        "page_numbers": [
            {"number": n, "current": n == page.page} for n in page_numbers(page.page, page.pages)
        ],
        "per_page_choices": [
            {"number": n, "current": n == page.per_page} for n in PER_PAGE_CHOICES
        ],
        "first_item": (page.page - 1) * page.per_page + 1,
        "last_item": min(page.total, page.page * page.per_page),
    }


def column_headers(query, columns=WORKLOAD_COLUMNS) -> list[dict]:
    """The headings of ``columns``. A sortable one offers the direction its link sorts in: the
    other one for the current sort, biggest first for numbers. Without a query (a list shown
    in its one order), no heading sorts."""
    headers = []
    for column in columns:
        current = query is not None and query.sort == column.key
        descending = not query.descending if current else column.numeric
        headers.append(
            {
                "key": column.key,
                "label": column.heading,
                "title": column.title,
                "numeric": column.numeric,
                "sortable": query is not None and column.sortable,
                "dir": "desc" if descending else "asc",
                "sorted": ("desc" if query.descending else "asc") if current else "",
            }
        )
    return headers
