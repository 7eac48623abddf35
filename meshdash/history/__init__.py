"""meshdash's own history of the mesh, kept in the project's SQL database.

``meshdash.history.write`` records each collection, ``meshdash.history.maintain`` rolls points
up, packs closed chunks and expires old ones (a beat task), ``meshdash.history.backfill`` fills
a fresh install from what Prometheus still has, and ``meshdash.history.read`` is what pages and
on-call checks read. The arithmetic is in ``meshdash.mesh.history``.
"""


def forget() -> None:
    """Empty this process's caches of the history (series ids, rollouts seen, the drops'
    baselines, the checks' history): for tests, whose database rollbacks remove the rows they
    point at."""
    from meshdash.history import collection, read, write

    write._ids.clear()
    write._rollouts.clear()
    write._in_use.clear()
    read._drop_cache.clear()
    collection.forget_check_history()
