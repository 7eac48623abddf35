"""The snapshot store: collections write whole versions to Redis, pages read one slice of one.

Layout, with ``P`` the prefix and ``V`` a version id (the window, the time, a random suffix):

- ``P:{window}:current``: the window's current version id. Switching it is the only step that
  makes a new version visible, done by one Lua script (``scripts.SWITCH``).
- ``P:{window}:failure``, ``P:{window}:lock``: the last failure (JSON), the collection lock.
- ``P:s:V:*``: the version's keys, as ``layout.version_values`` makes them from a snapshot and its
  overview. Workloads are numbered 0..n-1 in the version; everything else refers to that number.
  ``rows`` (hash number -> JSON array of the Workload's fields), ``ids`` (hash
  "namespace/kind/name" -> number), ``z:{sort}:{asc|desc}`` (sorted set number -> position in that
  order), filter sets ``ns:{namespace}``, ``kind:{kind}``, ``health:{state}``, ``meshed:{0|1}``,
  ``team:{team}``, ``label:{key=value}``, the orders of the single-filter views packed
  (``f:{filter set}:{sort}:{asc|desc}``, ``layout.PRECOMPUTED_FILTERS``), ``names``
  ("lowercased name<TAB>number" lines for the name search), the one-letter search's index
  (``search:{sort}:{asc|desc}``, counts per bucket of the order, and ``search_bits``,
  ``layout.search_values``), ``in`` / ``out`` / ``pods`` /
  ``routes`` / ``events`` / ``authz`` (hash number -> JSON rows), ``meta``, ``namespaces``,
  ``namespace_names``, ``control_plane``, ``overview`` (``codec.overview_json``: everything the
  overview shows, bounded), and ``keys``, the registry of the version's keys. The namespaces list
  is kept like the workloads for its pages: ``ns_rows``, ``ns_ids``, ``ns_names``,
  ``ns_z:{sort}:{asc|desc}``. The pods and Services lists (``lists``) likewise, their orders
  packed strings rather than sorted sets (``pod_*``, ``svc_*``, read by ``scripts.PACKED_PAGE``),
  with their filter sets, a Service's ``svc_callers`` and ``svc_routes``, and the mTLS and
  authorization pages' bounded rows (``mtls``, ``authz_summary``).
- ``P:q:V:*``, in the result cache's Redis (``cache_client``, by default the same one):
  the order of a filtered view or name search (``codec.ORDER_MARK`` then 4 bytes a workload
  number), kept ``result_ttl_seconds`` for the following pages of the same view, and
  ``P:q:V:budget``, what the version's cached views cost. A version caches at most
  ``cache_max_entries`` views and ``cache_max_bytes`` bytes; past that a view is computed into
  a temporary key that the same script deletes after reading the page (``scripts.PAGE``
  always does: this Redis keeps no result sets). So however many distinct views are asked
  for, cached results stay within those bounds per live version.
- ``P:rl:*``, in the result cache's Redis: token buckets of ``take_token``.
- ``P:hist:{namespace/kind/name}``: the last hour of a workload's 1m-window metrics, one
  point a minute, independent of versions: a ring of 60 fixed-size binary points, each
  written in place into the slot of its minute (``codec.HISTORY_POINT``, ``scripts.HISTORY``).

A version is written with an expiry on every key and only made permanent by the switch; a
writer killed midway leaves the previous version current and its own keys expire. The replaced
version stays readable for ``snapshot_ttl_seconds`` so a reader that resolved it still reads
it whole.

Memory, measured by tests/store/test_memory.py (Redis 7.0 ``used_memory`` before and after:
5,000 workloads with 3 pods and 3 edges each, 60 minutes of history, the replaced version
still alive): 12.7 MB per 1,000 workloads, against a target of 20. Per 5,000 workloads: the
22 sorted sets 22 MB (both versions), edges in and out 17 MB, history 9 MB, pods 6.6 MB, rows
2.6 MB.

Time, measured by ``python -m tests.store.bench`` on a 2-core machine shared with other jobs
(medians of 9 writes, same data): writing 5,000 workloads takes about 0.6 s, 0.4 s of it CPU
in the writer (JSON encoding of rows, edges and pods the largest part, about 0.15 s) and 0.2 s
in Redis (half of it building the 22 sorted sets). A page read takes under a millisecond, a
new filtered view about 3 ms, the sparklines of a 50-row page about 1.3 ms.
"""

import functools
import hashlib
import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from meshdash.mesh import overview as mesh_overview
from meshdash.mesh.checks.findings import Finding
from meshdash.mesh.checks.findings import from_dict as finding_from_dict
from meshdash.mesh.columns import NAMESPACE_SORT_KEYS, POD_SORT_KEYS, SERVICE_SORT_KEYS
from meshdash.mesh.model import (
    Authorization,
    ControlPlane,
    Edge,
    Event,
    HistoryPoint,
    Namespace,
    Pod,
    Route,
    Service,
    Snapshot,
    Workload,
    WorkloadKey,
)
from meshdash.mesh.overview import Overview
from meshdash.mesh.query import SORT_KEYS, Page, PodQuery, ServiceQuery, WorkloadQuery
from meshdash.store import codec, layout, lists, scripts
from meshdash.store.namespaces import NamespaceQuery
from meshdash.store.results import (
    AuthzSummary,
    MtlsPosture,
    ServiceDetail,
    SnapshotMeta,
    SparkPoint,
    StoreUnavailable,
    WorkloadDetail,
)

# One client, so one connection pool, per Redis URL and process: views ask for a store per
# request. redis-py resets a pool inherited across fork.
_clients: dict[str, redis.Redis] = {}
log = logging.getLogger(__name__)

HISTORY_WINDOW = "1m"
HISTORY_MINUTES = 60
# Fields, members or keys per command or script call: no single step holds Redis for long.
WRITE_BATCH = 1000
# What a cached view costs beyond its packed order: key, value and expiry bookkeeping in Redis.
CACHE_ENTRY_OVERHEAD_BYTES = 100

# SnapshotStore.namespace_names of the last versions read, by their key (values never change).
NAMESPACE_NAMES_KEPT = 16
_NAMESPACE_NAMES: OrderedDict[str, tuple[str, ...]] = OrderedDict()
_NAMESPACE_NAMES_LOCK = threading.Lock()


def _unavailable_on_connection_error(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise StoreUnavailable(f"the snapshot store (Redis) is unavailable: {exc}") from exc
        except redis.exceptions.OutOfMemoryError as exc:
            # At its maxmemory, Redis (noeviction) refuses writes, even a view's temporary key.
            raise StoreUnavailable(f"the snapshot store (Redis) is full: {exc}") from exc

    return wrapper


# SnapshotStore.from_settings's stores, by configuration.
STORES_KEPT = 8
_stores: dict[tuple, "SnapshotStore"] = {}


def _client(url: str) -> redis.Redis:
    client = _clients.get(url)
    if client is None:
        # Fail within seconds when Redis is away: a page shows its error instead of hanging.
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=2,
            socket_timeout=5,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
        )
        client = _clients.setdefault(url, client)
    return client


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _digest(*parts) -> str:
    return hashlib.sha1(codec.dumps(parts).encode(), usedforsecurity=False).hexdigest()[:20]


def _history_point(point: tuple) -> HistoryPoint:
    return HistoryPoint(*point)


class SnapshotStore:
    # A write that never switched leaves keys that go after this long.
    PENDING_TTL_SECONDS = 600

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = "meshdash",
        *,
        snapshot_ttl_seconds: float | None = None,
        result_ttl_seconds: float = 30.0,
        cache_client: redis.Redis | None = None,
        cache_max_entries: int | None = None,
        cache_max_bytes: int | None = None,
    ):
        from django.conf import settings

        if snapshot_ttl_seconds is None:
            snapshot_ttl_seconds = settings.MESHDASH_SNAPSHOT_TTL_SECONDS
        self.client = client
        self.cache_client = cache_client or client
        self.prefix = prefix
        self.snapshot_ttl_ms = max(1, int(snapshot_ttl_seconds * 1000))
        self.result_ttl_ms = max(1, int(result_ttl_seconds * 1000))
        self.cache_max_entries = (
            settings.MESHDASH_RESULT_CACHE_MAX_ENTRIES
            if cache_max_entries is None
            else cache_max_entries
        )
        self.cache_max_bytes = (
            settings.MESHDASH_RESULT_CACHE_MAX_BYTES if cache_max_bytes is None else cache_max_bytes
        )
        self._create = client.register_script(scripts.CREATE)
        self._create_numbers = client.register_script(scripts.CREATE_NUMBERS)
        self._switch = client.register_script(scripts.SWITCH)
        self._page = client.register_script(scripts.PAGE)
        self._packed_page = client.register_script(scripts.PACKED_PAGE)
        self._cached_page = self.cache_client.register_script(scripts.CACHED_PAGE)
        self._admit = self.cache_client.register_script(scripts.ADMIT)
        self._take_token = self.cache_client.register_script(scripts.TAKE_TOKEN)
        self._workload = client.register_script(scripts.WORKLOAD)
        self._workloads = client.register_script(scripts.WORKLOADS)
        self._history = client.register_script(scripts.HISTORY)
        self._release = client.register_script(scripts.RELEASE_LOCK)
        self._meta = client.register_script(scripts.META)

    @classmethod
    def from_settings(cls) -> "SnapshotStore":
        """The store the settings describe, one per process and configuration: a store keeps
        no state between calls, and making one (its scripts' digests) cost every page about
        0.08 ms."""
        from django.conf import settings

        key = (
            cls,
            settings.REDIS_URL,
            settings.MESHDASH_CACHE_REDIS_URL,
            settings.MESHDASH_REDIS_PREFIX,
            settings.MESHDASH_SNAPSHOT_TTL_SECONDS,
            settings.MESHDASH_RESULT_CACHE_MAX_ENTRIES,
            settings.MESHDASH_RESULT_CACHE_MAX_BYTES,
        )
        store = _stores.get(key)
        if store is None:
            if len(_stores) >= STORES_KEPT:  # settings changed that often: tests, not a server
                _stores.clear()
            store = cls(
                _client(settings.REDIS_URL),
                settings.MESHDASH_REDIS_PREFIX,
                cache_client=_client(settings.MESHDASH_CACHE_REDIS_URL or settings.REDIS_URL),
            )
            store = _stores.setdefault(key, store)
        return store

    # --- key names

    def _window_key(self, window: str, what: str) -> str:
        return f"{self.prefix}:{window}:{what}"

    def _version_key(self, version: str, what: str) -> str:
        return f"{self.prefix}:s:{version}:{what}"

    def _query_key(self, version: str, what: str) -> str:
        return f"{self.prefix}:q:{version}:{what}"

    def _history_key(self, workload_id: str) -> str:
        return f"{self.prefix}:hist:{workload_id}"

    # --- writing

    @_unavailable_on_connection_error
    def write(
        self,
        snapshot: Snapshot,
        overview: Overview | None = None,
        findings: list[Finding] | None = None,
    ) -> str:
        """Write ``snapshot`` as a new version and make it the window's current one, with its
        ``overview`` (the collection's, with drops against the history's baseline; without
        one, summarised against the oldest point of the last hour here) and the on-call
        checks' ``findings`` (None: the checks did not run; ``findings`` then reads None)."""
        version = f"{snapshot.window}.{int(snapshot.taken_at * 1000)}.{secrets.token_hex(4)}"
        minute = int(snapshot.taken_at // 60)
        oldest = self._update_history(snapshot.workloads, minute, snapshot.window == HISTORY_WINDOW)
        summary = overview or mesh_overview.summarise(snapshot, oldest, minute * 60)
        values = {
            self._version_key(version, what): value
            for what, value in layout.version_values(snapshot, version, summary, findings).items()
        }
        # The registry comes last: a version without it can never be switched to.
        registry = self._version_key(version, "keys")
        values[registry] = ("set", list(values))
        self._create_keys(values)
        self._switch(
            keys=[
                self._window_key(snapshot.window, "current"),
                self._window_key(snapshot.window, "failure"),
                registry,
            ],
            args=[version, self.snapshot_ttl_ms, f"{self.prefix}:s:", ":keys"],
        )
        return version

    def _create_keys(self, values: dict[str, tuple[str, object]]) -> None:
        """Create keys with their pending expiry, in one pipeline, in batches of WRITE_BATCH.

        Each key gets its expiry in the step that creates it (scripts.CREATE*): a writer killed
        at any point leaves nothing behind for good. No transaction: the switch alone makes
        the keys visible. Kinds: "string"; "hash" and "set" (any text, one argument each);
        "members" (numbers for a set) and "order" (numbers in display order, each scored by
        its position) sent as one comma-separated text that Redis splits, where packing each
        as an argument would cost the writer about a microsecond apiece.
        """
        pipe = self.client.pipeline(transaction=False)
        pending_ms = self.PENDING_TTL_SECONDS * 1000
        for key, (kind, value) in values.items():
            if kind == "string":
                pipe.set(key, value, px=pending_ms)
            elif kind == "hash":
                pairs = [part for pair in value.items() for part in pair]
                for chunk in _batches(pairs, 2 * WRITE_BATCH):
                    self._create(keys=[key], args=[pending_ms, "HSET", *chunk], client=pipe)
            elif kind == "set":
                for chunk in _batches(value, WRITE_BATCH):
                    self._create(keys=[key], args=[pending_ms, "SADD", *chunk], client=pipe)
            elif kind in ("members", "order"):
                command = "ZADD" if kind == "order" else "SADD"
                for start in range(0, len(value), WRITE_BATCH):
                    chunk = ",".join(map(str, value[start : start + WRITE_BATCH]))
                    self._create_numbers(
                        keys=[key], args=[pending_ms, command, chunk, start], client=pipe
                    )
            else:
                raise ValueError(f"unknown kind of key {kind!r}")
        pipe.execute()

    @_unavailable_on_connection_error
    def record_history(self, workloads: list[Workload], taken_at: float) -> None:
        """Record the minute of ``taken_at``'s point per workload (``write`` does it for 1m)."""
        self._update_history(workloads, int(taken_at // 60), update=True)

    def _update_history(
        self, workloads: list[Workload], minute: int, update: bool
    ) -> dict[WorkloadKey, HistoryPoint]:
        """Add this minute's point per workload when ``update``; return each oldest point."""
        oldest = {}
        ttl_ms = (HISTORY_MINUTES + 1) * 60 * 1000
        for batch in _batches(workloads, WRITE_BATCH):
            points = (
                [
                    codec.encode_history_point(minute, w.success_rate, w.rps, w.latency_ms_p99)
                    for w in batch
                ]
                if update
                else []
            )
            firsts = self._history(
                keys=[self._history_key(f"{w.namespace}/{w.kind}/{w.name}") for w in batch],
                args=[
                    minute,
                    ttl_ms,
                    "1" if update else "0",
                    codec.HISTORY_POINT.size,
                    HISTORY_MINUTES,
                    *points,
                ],
            )
            for workload, first in zip(batch, firsts, strict=True):
                if first:
                    oldest[workload.key] = HistoryPoint(*codec.decode_history_point(first))
        return oldest

    @_unavailable_on_connection_error
    def record_failure(self, window: str, reason: str, at: float) -> None:
        """Mark the window's last collection as failed; the next successful write clears it."""
        self.client.set(
            self._window_key(window, "failure"), codec.dumps({"reason": reason, "at": at})
        )

    # --- reading

    @_unavailable_on_connection_error
    def ping(self) -> None:
        """Raises StoreUnavailable unless Redis answers."""
        self.client.ping()

    @_unavailable_on_connection_error
    def current_version(self, window: str) -> str | None:
        raw = self.client.get(self._window_key(window, "current"))
        return None if raw is None else _text(raw)

    @_unavailable_on_connection_error
    def last_failure(self, window: str) -> tuple[str, float] | None:
        """The reason and time of the last collection's failure, None after a success."""
        data = codec.loads(self.client.get(self._window_key(window, "failure")))
        return None if data is None else (data["reason"], data["at"])

    @_unavailable_on_connection_error
    def meta(self, window: str, *, version: str | None = None) -> SnapshotMeta | None:
        found = self._meta(
            keys=[self._window_key(window, "current"), self._window_key(window, "failure")],
            args=[f"{self.prefix}:s:", version or ""],
        )
        if not found:
            return None
        _, raw_meta, raw_failure = found
        data = codec.loads(raw_meta or None)
        if data is None:
            return None
        failure = codec.loads(raw_failure) or {}
        return codec.from_dict(
            SnapshotMeta,
            {**data, "failure_reason": failure.get("reason"), "failed_at": failure.get("at")},
        )

    @_unavailable_on_connection_error
    def workload_page(
        self,
        window: str,
        query: WorkloadQuery,
        *,
        version: str | None = None,
        on_cold: Callable[[], None] | None = None,
    ) -> Page:
        """One page of workloads; the page number is clamped into 1..pages.

        ``on_cold`` is called before computing a filtered view the result cache does not
        hold (the expensive case); it may refuse by raising.
        """
        if query.sort not in SORT_KEYS:
            raise ValueError(f"unknown sort key {query.sort!r}")
        namespace_sets, filters = layout.filter_sets(query)
        version = version or self.current_version(window)
        precomputed = layout.precomputed_filter(namespace_sets, filters, query.search)
        if precomputed is not None:
            # A slice of the view's precomputed order (layout.PRECOMPUTED_FILTERS). A version
            # written before those were kept has none: its views are computed as below.
            of = layout.WORKLOADS.precomputed(precomputed)
            page = self._list_page(window, version, of, query, [], [], None, packed=True)
            if page.total:
                return page
        return self._list_page(
            window,
            version,
            layout.WORKLOADS,
            query,
            namespace_sets,
            filters,
            on_cold,
            search_index=True,
        )

    @_unavailable_on_connection_error
    def namespace_page(
        self,
        window: str,
        query: NamespaceQuery,
        *,
        version: str | None = None,
        on_cold: Callable[[], None] | None = None,
    ) -> Page:
        """One page of namespace rollups, as ``workload_page``."""
        if query.sort not in NAMESPACE_SORT_KEYS:
            raise ValueError(f"unknown namespace sort key {query.sort!r}")
        return self._list_page(window, version, layout.NAMESPACES, query, [], [], on_cold)

    @_unavailable_on_connection_error
    def pod_page(
        self,
        window: str,
        query: PodQuery,
        *,
        version: str | None = None,
        on_cold: Callable[[], None] | None = None,
    ) -> Page:
        """One page of pods, mesh-wide, as ``workload_page``."""
        if query.sort not in POD_SORT_KEYS:
            raise ValueError(f"unknown pod sort key {query.sort!r}")
        namespace_sets, filters = lists.pod_filter_sets(query)
        return self._list_page(
            window, version, layout.PODS, query, namespace_sets, filters, on_cold, packed=True
        )

    @_unavailable_on_connection_error
    def service_page(
        self,
        window: str,
        query: ServiceQuery,
        *,
        version: str | None = None,
        on_cold: Callable[[], None] | None = None,
    ) -> Page:
        """One page of Services, as ``workload_page``."""
        if query.sort not in SERVICE_SORT_KEYS:
            raise ValueError(f"unknown service sort key {query.sort!r}")
        namespace_sets, filters = lists.service_filter_sets(query)
        return self._list_page(
            window, version, layout.SERVICES, query, namespace_sets, filters, on_cold, packed=True
        )

    def _list_page(
        self,
        window: str,
        version: str | None,
        of: layout.ListKeys,
        query: WorkloadQuery | NamespaceQuery | PodQuery | ServiceQuery,
        namespace_sets: list[str],
        filters: list[str],
        on_cold: Callable[[], None] | None,
        *,
        packed: bool = False,
        search_index: bool = False,
    ) -> Page:
        """One page of the list ``of`` in ``query``'s order, of the items matching its search,
        in one of the ``namespace_sets`` (none: any) and in every one of the ``filters`` sets
        (both relative key names). ``packed``: the list keeps its orders packed
        (``scripts.PACKED_PAGE``), not as sorted sets. ``search_index``: it keeps the
        one-letter search's index (``layout.search_values``)."""
        per_page = max(1, query.per_page)
        version = version or self.current_version(window)
        if version is None:
            return Page(items=[], total=0, page=1, per_page=per_page)
        k = functools.partial(self._version_key, version)
        order = of.sorted(query.sort, query.descending)
        needle = query.search.lower()
        filtered = bool(namespace_sets or needle or filters)
        letter = layout.search_letter(needle) if search_index else None
        # A one-letter search alone reads the letter's index: a page costs about a bucket of
        # positions however many names match, so it is neither cached nor paced, as a range
        # of a sorted set is not.
        alone = letter is not None and not namespace_sets and not filters
        # With one filter of PRECOMPUTED_FILTERS besides, its packed order is read in place
        # of the intersection of the sorted set with the filter set (a fifth of the time).
        packed_filter = (
            letter is not None
            and not namespace_sets
            and layout.precomputed_filter([], filters, "") is not None
        )
        # The view's key in the result cache; none unfiltered: a range of a sorted set is cheap.
        cached = (
            self._query_key(version, _digest(order, namespace_sets, needle, sorted(filters)))
            if filtered
            else None
        )
        if packed:
            keys = [k(order), k(of.rows), k(of.names), *map(k, namespace_sets), *map(k, filters)]
        else:
            keys = [
                k(order),
                k(of.rows),
                self._temporary("result") if filtered else k(order),
                k(of.names),
                k(of.search_counts(query.sort, query.descending)),
                k(of.search_bits),
                self._temporary("namespaces"),
                *map(k, namespace_sets),
                *map(k, filters),
            ]
        if packed_filter:
            in_order = of.precomputed(filters[0]).sorted(query.sort, query.descending)
            with_packed = [*keys[:7], k(in_order)]
        page = min(max(1, query.page), 2**53)
        args = [page, per_page, len(namespace_sets), needle]
        script = self._packed_page if packed else self._page
        found = None
        if alone:
            found = self._read_page(version, keys, None, args, None, script, after=[letter, 0])
        elif packed_filter:
            found = self._read_page(
                version, with_packed, cached, args, on_cold, script, after=[letter, 1]
            )
        if found is None:
            # A version written before the index was kept has none: its views as below.
            after = [] if packed else [-1 if letter is None or alone else letter, 0]
            # A view that already took its token for the packed order's try does not again.
            gate = None if packed_filter else on_cold
            found = self._read_page(version, keys, cached, args, gate, script, after=after)
        total, page, rows = found
        return Page(
            items=[codec.from_row(of.item, codec.loads(row)) for row in rows if row is not None],
            total=total,
            page=page,
            per_page=per_page,
            extra={"version": version},
        )

    def _read_page(
        self, version, keys, cached, args, on_cold, script=None, after=()
    ) -> tuple[int, int, list] | None:
        """(total, clamped page, rows) of one page: a range of the order when unfiltered;
        else from the result cache when it holds the view (key ``cached``), or computed by
        ``script`` (``scripts.PAGE`` or ``PACKED_PAGE``, its arguments ``args``, whether to
        return the order, then ``after``) after ``on_cold`` and offered to the cache. None
        when the script answers -1 alone (a one-letter index or packed order the version
        lacks)."""
        script = script or self._page
        page, per_page = args[0], args[1]
        if cached is None:
            answer = script(keys=keys, args=[*args, "0", *after])
            if answer[0] == -1:
                return None
            total, page, _, *rows = answer
            return int(total), int(page), rows
        found = self._read_cached(cached, page, per_page)
        if found is not None:
            total, page, numbers = found
            return total, page, (self.client.hmget(keys[1], numbers) if numbers else [])
        if on_cold is not None:
            on_cold()
        answer = script(keys=keys, args=[*args, "1", *after])
        if answer[0] == -1:
            return None
        total, page, order, *rows = answer
        if order:
            self._offer(version, cached, order)
        return int(total), int(page), rows

    def _read_cached(self, key: str, page: int, per_page: int):
        try:
            found = self._cached_page(keys=[key], args=[page, per_page])
        except redis.RedisError as exc:  # the cache is an optimisation: read through it
            log.warning("result cache unavailable: %s", exc)
            return None
        if found is None:
            return None
        total, page, packed = found
        return int(total), int(page), codec.unpack_numbers(packed)

    def _offer(self, version: str, key: str, order: bytes) -> None:
        cost = len(order) + len(key) + CACHE_ENTRY_OVERHEAD_BYTES
        try:
            self._admit(
                keys=[key, self._query_key(version, "budget")],
                args=[
                    order,
                    self.result_ttl_ms,
                    self.cache_max_entries,
                    self.cache_max_bytes,
                    cost,
                ],
            )
        except redis.RedisError as exc:
            log.warning("result cache unavailable: %s", exc)

    def take_token(self, bucket: str, per_second: float, burst: int) -> float:
        """Take a token from ``bucket`` (refilled at ``per_second`` up to ``burst``): 0.0 when
        taken, else the seconds until one is there. Kept in the result cache's Redis: losing
        a bucket only refills it, and while that Redis is away nobody is held back (pages
        must not fail for want of their cache)."""
        try:
            wait = self._take_token(keys=[f"{self.prefix}:rl:{bucket}"], args=[per_second, burst])
        except redis.RedisError as exc:
            log.warning("result cache unavailable, new views not paced: %s", exc)
            return 0.0
        return float(wait)

    def _temporary(self, what: str) -> str:
        """A key that scripts.PAGE creates and deletes within one call: no call sees another's."""
        return f"{self.prefix}:tmp:{what}"

    def _workload_read(self, window, namespace, kind, name, detail: bool, version):
        version = version or self.current_version(window)
        if version is None:
            return None
        k = functools.partial(self._version_key, version)
        return self._workload(
            keys=[
                k("ids"),
                k("rows"),
                *(map(k, ("in", "out", "pods", "routes", "events", "authz")) if detail else ()),
            ],
            args=[WorkloadKey(namespace, kind, name).id, "1" if detail else "0"],
        )

    @_unavailable_on_connection_error
    def workload(
        self, window: str, namespace: str, kind: str, name: str, *, version: str | None = None
    ) -> Workload | None:
        found = self._workload_read(window, namespace, kind, name, False, version)
        if not found or found[0] is None:
            return None
        return codec.workload_from_json(found[0])

    @_unavailable_on_connection_error
    def workloads(
        self, window: str, keys: list[WorkloadKey], *, version: str | None = None
    ) -> dict[WorkloadKey, Workload | None]:
        """Several workloads in one call, each None when the snapshot has no such workload."""
        version = version or self.current_version(window)
        if version is None or not keys:
            return dict.fromkeys(keys)
        k = functools.partial(self._version_key, version)
        rows = self._workloads(keys=[k("ids"), k("rows")], args=[key.id for key in keys])
        return {
            key: None if row is None else codec.workload_from_json(row)
            for key, row in zip(keys, rows, strict=True)
        }

    @_unavailable_on_connection_error
    def existing_workloads(
        self, window: str, keys: list[WorkloadKey], *, version: str | None = None
    ) -> set[WorkloadKey]:
        """Those of ``keys`` the snapshot has: one read of the ids, no row decoded."""
        version = version or self.current_version(window)
        if version is None or not keys:
            return set()
        numbers = self.client.hmget(self._version_key(version, "ids"), [key.id for key in keys])
        return {key for key, number in zip(keys, numbers, strict=True) if number is not None}

    @_unavailable_on_connection_error
    def workload_detail(
        self, window: str, namespace: str, kind: str, name: str, *, version: str | None = None
    ) -> WorkloadDetail | None:
        found = self._workload_read(window, namespace, kind, name, True, version)
        if not found or found[0] is None:
            return None
        row, callers, callees, pods, routes, events, authz = found
        return WorkloadDetail(
            workload=codec.workload_from_json(row),
            callers=codec.decode_rows(Edge, callers),
            callees=codec.decode_rows(Edge, callees),
            pods=codec.decode_rows(Pod, pods),
            routes=codec.decode_rows(Route, routes),
            events=codec.decode_rows(Event, events),
            authorizations=codec.decode_rows(Authorization, authz),
        )

    @_unavailable_on_connection_error
    def service_detail(
        self, window: str, namespace: str, name: str, *, version: str | None = None
    ) -> ServiceDetail | None:
        """A Service, its backing workloads, its callers and its routes; None when the
        snapshot has no such Service."""
        version = version or self.current_version(window)
        if version is None:
            return None
        k = functools.partial(self._version_key, version)
        found = self._workload(
            keys=[
                k(layout.SERVICES.ids),
                k(layout.SERVICES.rows),
                k("svc_callers"),
                k("svc_routes"),
            ],
            args=[f"{namespace}/{name}", "1"],
        )
        if not found or found[0] is None:
            return None
        row, callers, routes = found
        service = codec.from_row(Service, codec.loads(row))
        keys = []
        for backing in service.workloads:
            kind, _, workload_name = backing.partition("/")
            keys.append(WorkloadKey(service.namespace, kind, workload_name))
        backing = self.workloads(window, keys, version=version)
        return ServiceDetail(
            service=service,
            workloads=[w for w in backing.values() if w is not None],
            callers=codec.decode_rows(Edge, callers),
            routes=codec.decode_rows(Route, routes),
        )

    @_unavailable_on_connection_error
    def mtls(self, window: str, *, version: str | None = None) -> MtlsPosture | None:
        """The mTLS posture page: namespaces' shares and the plain-text edges (bounded)."""
        version = version or self.current_version(window)
        if version is None:
            return None
        data = self._version_json(window, "mtls", version) or {}
        return MtlsPosture(
            namespaces=self.namespaces(window, version=version),
            plaintext_edges=[codec.from_row(Edge, r) for r in data.get("plaintext_edges", [])],
            unmeshed_clients=[codec.from_row(Edge, r) for r in data.get("unmeshed_clients", [])],
        )

    @_unavailable_on_connection_error
    def authz(self, window: str, *, version: str | None = None) -> AuthzSummary | None:
        """The authorization page: top denials and decisions per Server and policy (bounded)."""
        version = version or self.current_version(window)
        if version is None:
            return None
        data = self._version_json(window, "authz_summary", version) or {}
        return AuthzSummary(
            top_denials=[codec.from_row(Authorization, r) for r in data.get("top_denials", [])],
            by_policy=[codec.from_row(Authorization, r) for r in data.get("by_policy", [])],
            total=data.get("total", 0),
        )

    @_unavailable_on_connection_error
    def history(self, namespace: str, kind: str, name: str) -> list[HistoryPoint]:
        """The workload's last hour, a point a minute, oldest first."""
        raw = self.client.get(self._history_key(WorkloadKey(namespace, kind, name).id))
        return codec.decode_history(raw, HISTORY_MINUTES, make=_history_point)

    @_unavailable_on_connection_error
    def histories(self, keys: list[WorkloadKey]) -> dict[WorkloadKey, list[HistoryPoint]]:
        return self._histories(keys, make=_history_point)

    @_unavailable_on_connection_error
    def sparklines(
        self, keys: list[WorkloadKey], points: int | None = None
    ) -> dict[WorkloadKey, list[SparkPoint]]:
        """``histories`` for a page of sparklines: light tuples, and with ``points`` at most
        that many per workload, the newest and every ``ceil(n / points)``-th before it (how
        meshdash.dashboard.charts.sparkline_svg samples, which then keeps them all)."""
        return self._histories(keys, points, SparkPoint._make)

    def _histories(self, keys: list[WorkloadKey], points: int | None = None, make=tuple) -> dict:
        if not keys:
            return {}
        raw = self.client.mget([self._history_key(key.id) for key in keys])
        return {
            key: codec.decode_history(value, HISTORY_MINUTES, points, make)
            for key, value in zip(keys, raw, strict=True)
        }

    def _version_json(self, window: str, what: str, version: str | None):
        version = version or self.current_version(window)
        if version is None:
            return None
        return codec.loads(self.client.get(self._version_key(version, what)))

    @_unavailable_on_connection_error
    def findings(self, window: str, *, version: str | None = None) -> list[Finding] | None:
        """The on-call checks' findings stored with the window's current snapshot (or
        ``version``), worst first as the collector wrote them; None when there is no snapshot
        or its collection did not run the checks."""
        data = self._version_json(window, "findings", version)
        if not isinstance(data, list):
            return None
        return [finding_from_dict(item) for item in data]

    @_unavailable_on_connection_error
    def namespaces(self, window: str, *, version: str | None = None) -> list[Namespace]:
        data = self._version_json(window, "namespaces", version) or []
        return [codec.from_dict(Namespace, item) for item in data]

    @_unavailable_on_connection_error
    def namespace(self, window: str, name: str, *, version: str | None = None) -> Namespace | None:
        """One namespace's rollup, None when the snapshot has none for it."""
        version = version or self.current_version(window)
        if version is None:
            return None
        index = self.client.hget(self._version_key(version, layout.NAMESPACES.ids), name)
        raw = (
            None
            if index is None
            else self.client.hget(self._version_key(version, layout.NAMESPACES.rows), index)
        )
        return None if raw is None else codec.from_row(Namespace, codec.loads(raw))

    @_unavailable_on_connection_error
    def namespace_names(self, window: str, *, version: str | None = None) -> list[str]:
        """A version's namespace names, by name. A version's values never change once written
        (a collection writes a new version), so each process keeps the names of the last few
        versions it read: one Redis read fewer on every list page."""
        version = version or self.current_version(window)
        if version is None:
            return []
        key = self._version_key(version, "namespace_names")
        with _NAMESPACE_NAMES_LOCK:
            names = _NAMESPACE_NAMES.get(key)
            if names is not None:
                _NAMESPACE_NAMES.move_to_end(key)
                return list(names)
        names = codec.loads(self.client.get(key)) or []
        if names:  # a version not written yet (or gone) is read again next time
            with _NAMESPACE_NAMES_LOCK:
                _NAMESPACE_NAMES[key] = tuple(names)
                while len(_NAMESPACE_NAMES) > NAMESPACE_NAMES_KEPT:
                    _NAMESPACE_NAMES.popitem(last=False)
        return names

    @_unavailable_on_connection_error
    def control_plane(self, window: str, *, version: str | None = None) -> ControlPlane | None:
        data = self._version_json(window, "control_plane", version)
        return None if data is None else codec.from_dict(ControlPlane, data)

    @_unavailable_on_connection_error
    def overview(self, window: str, *, version: str | None = None) -> Overview | None:
        version = version or self.current_version(window)
        if version is None:
            return None
        k = functools.partial(self._version_key, version)
        raw_overview, raw_cp = self.client.mget(k("overview"), k("control_plane"))
        return codec.overview_from_json(
            raw_overview, codec.from_dict(ControlPlane, codec.loads(raw_cp) or {})
        )

    # --- the collection lock

    @_unavailable_on_connection_error
    def try_lock(self, window: str, ttl_seconds: float) -> str | None:
        """A token when the window's lock was free and is now ours, None when someone holds it."""
        token = secrets.token_hex(16)
        taken = self.client.set(
            self._window_key(window, "lock"), token, nx=True, px=max(1, int(ttl_seconds * 1000))
        )
        return token if taken else None

    @_unavailable_on_connection_error
    def release_lock(self, window: str, token: str) -> None:
        self._release(keys=[self._window_key(window, "lock")], args=[token])


def _batches(items: list, size: int) -> list[list]:
    return [items[start : start + size] for start in range(0, len(items), size)]
