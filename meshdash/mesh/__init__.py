"""The mesh domain: plain dataclasses and rules, free of Django and Redis."""
