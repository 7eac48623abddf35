"""A bound on the Redis work one user can cause: new filtered views (ones the result cache
does not hold) are paced per user by a token bucket, MESHDASH_COLD_VIEWS_PER_MINUTE with a
burst of MESHDASH_COLD_VIEWS_BURST. Unfiltered pages and cached views cost little and are
never counted."""

import math
from collections.abc import Callable

from django.conf import settings

from meshdash.accounts.network import client_address


class TooManyViews(Exception):
    """The user opened new filtered views faster than allowed; retry after ``retry_after`` s."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many new filtered views: retry in {retry_after} s")
        self.retry_after = retry_after


def _bucket(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"cold:user:{user.pk}"
    return f"cold:addr:{client_address(request)}"


def cold_view_gate(request, store) -> Callable[[], None]:
    """What the store calls before computing a new filtered view for ``request``: takes a token
    from the requester's bucket, or raises TooManyViews."""

    def gate() -> None:
        wait = store.take_token(
            _bucket(request),
            settings.MESHDASH_COLD_VIEWS_PER_MINUTE / 60,
            settings.MESHDASH_COLD_VIEWS_BURST,
        )
        if wait > 0:
            raise TooManyViews(max(1, math.ceil(wait)))

    return gate
