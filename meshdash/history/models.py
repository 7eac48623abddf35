"""The history's tables: a row per series, a row per chunk of its points.

A chunk holds one series' points of one tier over ``Tier.chunk`` seconds as bytes
(``meshdash.history.packing``): about 20 to 40 rows per series for 30 days instead of one per
point, which in SQLite would cost about 35 bytes a point in row and index overhead alone, more
than a packed point's values.
"""

from django.db import models


class Series(models.Model):
    """What one line of points is about: a workload in one window ("w"), a pod ("p", window ""
    since its gauges are no window's), or the whole mesh in one window ("m", key "")."""

    scope = models.CharField(max_length=1)
    window = models.CharField(max_length=8)
    key = models.CharField(max_length=520)  # "namespace/kind/name", "namespace/pod", ""
    owner = models.CharField(max_length=520, blank=True, default="")  # a pod's workload key
    last_seen = models.BigIntegerField(default=0)  # unix seconds

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "window", "key"], name="history_series_key")
        ]
        indexes = [models.Index(fields=["owner"], name="history_series_owner")]

    def __str__(self) -> str:
        return f"{self.scope} {self.window} {self.key}"


class Chunk(models.Model):
    # The unique (series, tier, start) index serves lookups by series: no index of its own.
    series = models.ForeignKey(
        Series, on_delete=models.CASCADE, db_constraint=False, db_index=False
    )
    tier = models.SmallIntegerField()  # index into the configured tiers, finest first
    start = models.BigIntegerField()  # unix seconds, a multiple of the tier's chunk length
    packed = models.BooleanField(default=False)
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "tier", "start"], name="history_chunk_key")
        ]
        indexes = [models.Index(fields=["tier", "start"], name="history_chunk_tier_start")]

    def __str__(self) -> str:
        return f"{self.series_id} tier {self.tier} from {self.start}"


class Deploy(models.Model):
    """A workload's rollout (its newest ReplicaSet or ControllerRevision, or a Job's start)."""

    workload = models.CharField(max_length=520)  # "namespace/kind/name"
    at = models.BigIntegerField()  # unix seconds

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workload", "at"], name="history_deploy_key")
        ]

    def __str__(self) -> str:
        return f"{self.workload} at {self.at}"


class Hold(models.Model):
    """A time range whose points stay past their tiers' retention, until ``until``."""

    start = models.BigIntegerField()
    end = models.BigIntegerField()
    until = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.start}..{self.end} until {self.until}"


class State(models.Model):
    """Small named values: the last minute written per window, the roll-ups done, the
    backfill's progress (JSON)."""

    name = models.CharField(max_length=64, primary_key=True)
    value = models.TextField(default="")

    def __str__(self) -> str:
        return self.name
