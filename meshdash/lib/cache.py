"""Django's Redis cache, made an optimisation only: while its Redis is away (or full and
refusing writes), reads miss and writes are dropped, so callers fall back to the database
instead of failing the page."""

import logging

import redis
from django.core.cache.backends.redis import RedisCache

log = logging.getLogger(__name__)

FAILURES = (redis.ConnectionError, redis.TimeoutError, redis.exceptions.OutOfMemoryError)


def _forgiving(name: str, fallback):
    method = getattr(RedisCache, name)

    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except FAILURES as exc:
            log.warning("cache unavailable (%s): %s", name, exc)
            return fallback(*args, **kwargs) if callable(fallback) else fallback

    wrapper.__name__ = name
    wrapper.__doc__ = method.__doc__
    return wrapper


def _default(key, default=None, version=None):
    return default


class ForgivingRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` that misses instead of raising when
    Redis cannot be reached. ``add`` answers False (nothing was stored)."""

    get = _forgiving("get", _default)
    get_many = _forgiving("get_many", lambda *args, **kwargs: {})
    has_key = _forgiving("has_key", False)
    add = _forgiving("add", False)
    set = _forgiving("set", None)
    set_many = _forgiving("set_many", lambda *args, **kwargs: [])
    touch = _forgiving("touch", False)
    delete = _forgiving("delete", False)
    delete_many = _forgiving("delete_many", None)
    clear = _forgiving("clear", None)
