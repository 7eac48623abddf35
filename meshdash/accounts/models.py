"""Teams (Django groups plus what they own) and API tokens."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone

from meshdash.mesh.model import TEAM_LABEL

TOKEN_PREFIX = "mdt_"
READ, WRITE = "read", "write"
SCOPE_CHOICES = [(READ, "read only"), (WRITE, "read and write")]


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TeamProfile(models.Model):
    """What a team owns in the mesh, and who may manage its shared bookmarks."""

    team = models.OneToOneField(Group, models.CASCADE, related_name="profile")
    # Namespaces as a list of names, so a team may own several.
    namespaces = models.JSONField(default=list, blank=True)
    # A single `team=value` selector matched against each workload's TEAM_LABEL (the only label
    # the collector reads: meshdash.accounts.teams.label_selector_error refuses other keys).
    label_selector = models.CharField(max_length=300, blank=True)
    admins = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="administered_teams"
    )

    def __str__(self) -> str:
        return f"Profile of {self.team.name}"

    @property
    def label_value(self) -> str:
        """The value the selector asks of TEAM_LABEL (`team=payments` -> `payments`); "" for a
        selector on another key, which selects nothing: the collector reads no other label."""
        key, _, value = self.label_selector.partition("=")
        return value.strip() if key.strip() == TEAM_LABEL else ""


class ApiTokenQuerySet(models.QuerySet):
    def for_secret(self, secret: str):
        return self.select_related("user").filter(digest=hash_token(secret)).first()


class ApiToken(models.Model):
    """A bearer token for the JSON API: only the sha256 of its secret is stored; the secret is
    shown once. Read-only unless issued with the write scope; refused after ``expires``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the secret, so a user can tell tokens apart.
    hint = models.CharField(max_length=12, editable=False)
    scope = models.CharField(max_length=10, choices=SCOPE_CHOICES, default=READ)
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.hint}… ({self.name or 'unnamed'})"

    @property
    def can_write(self) -> bool:
        return self.scope == WRITE

    def has_expired(self, now=None) -> bool:
        return self.expires is not None and self.expires <= (now or timezone.now())

    @classmethod
    def issue(
        cls, user, name: str = "", *, scope: str = READ, expires=None
    ) -> tuple["ApiToken", str]:
        """Create a token for ``user``; returns it with the secret, which is never stored."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name[:100],
            digest=hash_token(secret),
            hint=secret[:12],
            scope=scope,
            expires=expires,
        )
        return token, secret


class SsoAccount(models.Model):
    """Marks a user created by single sign-on: the SSO header signs in such users only, never a
    local account (see SsoHeaderBackend)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="sso_account"
    )
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"SSO account of user {self.user_id}"


class LoginFailure(models.Model):
    """One failed sign-in; recent rows decide the throttle (shared by every web worker)."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.CharField(max_length=45, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.username} from {self.address} at {self.at:%Y-%m-%d %H:%M:%S}"
