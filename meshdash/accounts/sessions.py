"""Sessions as Django's ``cached_db`` keeps them (the cache Redis, the database the source of
truth), loaded in the same cache round trip as the signed-in user's entries.

A page reads the session, then the user's entries (meshdash.accounts.cache: the user, their
teams' scope, the bookmarks menu), which needs the user id inside the session: two round trips
one after the other. A session once loaded is remembered with its user id, per process, so
the next load of it asks for the user's entries too. The guess only prefetches: what the
request uses is still the user id in the session it loaded.
"""

import threading

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import cached_db

from meshdash.accounts import cache as accounts_cache

# Sessions seen by this process, by the hash of their key (no key is kept), and their user
# ids. A collision only prefetches another user's entries, which nothing then reads.
REMEMBERED_SESSIONS = 4096
_users_by_session: dict[int, object] = {}
_lock = threading.Lock()


class SessionStore(cached_db.SessionStore):
    def load(self):
        user_id = _users_by_session.get(hash(self.session_key)) if self.session_key else None
        cache_key = self.cache_key
        try:
            found = self._cache.get_many([cache_key, *accounts_cache.keys_read_along(user_id)])
        except Exception:  # as cached_db: a key the cache refuses resets the session
            found = {}
        else:
            accounts_cache.read_along(found, user_id)
        data = found.get(cache_key)
        if data is None:
            data = super().load()  # the database, and the cache filled from it
        _remember(self.session_key, data.get(SESSION_KEY))
        return data


def _remember(session_key: str | None, user_id) -> None:
    if not session_key or user_id is None:
        return
    key = hash(session_key)
    if _users_by_session.get(key) == user_id:
        return
    with _lock:
        if len(_users_by_session) >= REMEMBERED_SESSIONS:
            _users_by_session.pop(next(iter(_users_by_session)))
        _users_by_session[key] = user_id
