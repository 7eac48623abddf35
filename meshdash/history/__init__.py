"""meshdash's own history of the mesh, kept in the project's SQL database.

``meshdash.history.write`` records each collection, ``meshdash.history.maintain`` rolls points
up, packs closed chunks and expires old ones (a beat task), ``meshdash.history.backfill`` fills
a fresh install from what Prometheus still has, and ``meshdash.history.read`` is what pages and
on-call checks read. The arithmetic is in ``meshdash.mesh.history``.
"""
