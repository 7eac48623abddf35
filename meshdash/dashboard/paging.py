"""Links for a list page: page numbers, per-page choices and sortable column headers."""

from urllib.parse import urlencode

from meshdash.mesh.query import PER_PAGE_CHOICES

# (sort key, heading, numeric). Numeric columns sort biggest first on the first click.
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("health", "Health", False),
    ("namespace", "Namespace", False),
    ("kind", "Kind", False),
    ("name", "Name", False),
    ("meshed", "Meshed", True),
    ("success_rate", "Success", True),
    ("rps", "RPS", True),
    ("p50", "P50", True),
    ("p95", "P95", True),
    ("p99", "P99", True),
    ("tcp", "TCP", True),
)

NAMESPACE_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("name", "Namespace", False),
    ("workloads", "Workloads", True),
    ("meshed", "Meshed pods", True),
    ("success_rate", "Success", True),
    ("rps", "RPS", True),
    ("health", "Health", False),
)


def query_url(params, **changes) -> str:
    """``?...`` with ``params`` (a QueryDict) changed; a None value drops the key."""
    pairs = [
        (key, value) for key, values in params.lists() if key not in changes for value in values
    ]
    pairs += [(key, value) for key, value in changes.items() if value is not None]
    return "?" + urlencode(pairs) if pairs else "?"


def page_numbers(current: int, pages: int, around: int = 2) -> list[int | None]:
    """1 … 4 5 [6] 7 8 … 40: the first, the last and a few around the current; None is a gap."""
    wanted = {1, pages, *range(max(1, current - around), min(pages, current + around) + 1)}
    numbers: list[int | None] = []
    for number in sorted(wanted):
        if numbers and number - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


def page_links(params, page) -> list[dict]:
    return [
        {"number": n, "href": query_url(params, page=n) if n else "", "current": n == page.page}
        for n in page_numbers(page.page, page.pages)
    ]


def per_page_links(params, page) -> list[dict]:
    return [
        {
            "number": n,
            "href": query_url(params, per_page=n, page=None),
            "current": n == page.per_page,
        }
        for n in PER_PAGE_CHOICES
    ]


def column_headers(params, query, columns=COLUMNS) -> list[dict]:
    headers = []
    for key, label, numeric in columns:
        current = query.sort == key
        descending = not query.descending if current else numeric
        headers.append(
            {
                "key": key,
                "label": label,
                "numeric": numeric,
                "href": query_url(params, sort=key, dir="desc" if descending else "asc", page=None),
                "sorted": ("desc" if query.descending else "asc") if current else "",
            }
        )
    return headers
