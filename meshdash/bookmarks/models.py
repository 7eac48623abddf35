"""Saved views: bookmarks, watched workloads and the data a frozen bookmark keeps."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from meshdash.accounts.teams import administered_team_ids
from meshdash.mesh.model import KINDS
from meshdash.mesh.names import is_namespace_name, is_object_name

PRIVATE, TEAM, EVERYONE = "private", "team", "everyone"
VISIBILITY_CHOICES = [(PRIVATE, "Only me"), (TEAM, "My team"), (EVERYONE, "Everyone")]


def validate_namespace(value: str) -> None:
    if not is_namespace_name(value):
        raise ValidationError("not a namespace name (a lower-case DNS label)")


def validate_object_name(value: str) -> None:
    if not is_object_name(value):
        raise ValidationError("not a workload name (a lower-case DNS subdomain)")


def may_share_with_everyone(user) -> bool:
    """Sharing with everyone puts a bookmark in every user's menu: staff and team admins only,
    unless MESHDASH_EVERYONE_MAY_SHARE_WITH_EVERYONE."""
    if settings.MESHDASH_EVERYONE_MAY_SHARE_WITH_EVERYONE:
        return True
    return user.is_authenticated and (user.is_staff or bool(administered_team_ids(user)))


class BookmarkQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The one visibility rule, for pages, menu and API alike.

        A team bookmark whose team was deleted has no team any more and falls back to its owner.
        """
        if not user.is_authenticated:
            if settings.MESHDASH_ANONYMOUS_READ:
                return self.filter(visibility=EVERYONE)
            return self.none()
        return self.filter(
            Q(owner=user)
            | Q(visibility=EVERYONE)
            | Q(visibility=TEAM, team__isnull=False, team__in=user.groups.all())
        )

    def in_menu_order(self):
        return self.order_by("-pinned", "position", "title", "id")


class Bookmark(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="bookmarks")
    title = models.CharField(max_length=200)
    note = models.TextField(max_length=2000, blank=True)
    path = models.CharField(max_length=500)
    query = models.CharField(max_length=2000, blank=True)  # normalised: params sorted
    visibility = models.CharField(max_length=10, choices=VISIBILITY_CHOICES, default=PRIVATE)
    team = models.ForeignKey(
        Group, models.SET_NULL, null=True, blank=True, related_name="bookmarks"
    )
    pinned = models.BooleanField(default=False)
    position = models.IntegerField(default=0)
    # Incident links: the view as it was at `as_of`, over `window`.
    as_of = models.DateTimeField(null=True, blank=True)
    window = models.CharField(max_length=10, blank=True)
    # A frozen workload page: the time range its charts were copied over.
    range_start = models.DateTimeField(null=True, blank=True)
    range_end = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    objects = BookmarkQuerySet.as_manager()

    class Meta:
        ordering = ["-pinned", "position", "title", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def url(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    @property
    def is_frozen(self) -> bool:
        return self.as_of is not None

    def can_edit(self, user) -> bool:
        return user.is_authenticated and self.owner_id == user.pk

    def can_delete(self, user, admin_of: set[int] | None = None) -> bool:
        """Owners delete; a team's admins may also delete the team's shared bookmarks.

        ``admin_of`` (ids of the teams the user administers) saves a query per bookmark in lists.
        """
        if self.can_edit(user):
            return True
        if not user.is_authenticated or self.visibility != TEAM or self.team_id is None:
            return False
        if admin_of is None:
            admin_of = administered_team_ids(user)
        return self.team_id in admin_of


class FrozenView(models.Model):
    """The data a frozen bookmark showed, kept for MESHDASH_FROZEN_RETENTION_DAYS.

    A workload page's copy also keeps the points of its charts' time range (``data["history"]``,
    the bookmark's ``range_start`` to ``range_end``), so that the incident stays readable after
    the history has let them go."""

    bookmark = models.OneToOneField(Bookmark, models.CASCADE, related_name="frozen")
    kind = models.CharField(max_length=20)  # "workloads" or "workload"
    data = models.JSONField()
    created = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"Frozen {self.kind} of bookmark {self.bookmark_id}"


class WatchQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The user's own watches and those of their teams."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(user=user) | Q(team__in=user.groups.all()))


class Watch(models.Model):
    """A watched workload, for a user or for a whole team; watched ones head the overview."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True, related_name="watches"
    )
    team = models.ForeignKey(Group, models.CASCADE, null=True, blank=True, related_name="watches")
    # Validated like the watch form does, so the admin cannot store names Kubernetes refuses.
    namespace = models.CharField(max_length=253, validators=[validate_namespace])
    kind = models.CharField(max_length=20, choices=[(kind, kind) for kind in KINDS])
    name = models.CharField(max_length=253, validators=[validate_object_name])
    created = models.DateTimeField(default=timezone.now)

    objects = WatchQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True)
                | Q(user__isnull=True, team__isnull=False),
                name="watch_user_xor_team",
            ),
            models.UniqueConstraint(
                fields=["user", "namespace", "kind", "name"], name="watch_unique_user"
            ),
            models.UniqueConstraint(
                fields=["team", "namespace", "kind", "name"], name="watch_unique_team"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.kind}/{self.name}"
