"""meshdash watching itself: liveness heartbeats of the worker and beat, Prometheus metrics of
the web and the collections, and JSON logs."""
