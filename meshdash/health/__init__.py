"""Liveness and readiness answers for process managers and Kubernetes probes."""
