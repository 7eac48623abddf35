"""Mutes: a check silenced in a namespace or for one workload, with who and why."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from meshdash.mesh.checks import CHECKS
from meshdash.mesh.kinds import KINDS
from meshdash.mesh.names import namespace_error, workload_ref_error

MAX_WHY = 500
CHECK_CHOICES = [("", "every check")] + [(check_id, check_id) for check_id in CHECKS]
KIND_CHOICES = [("", "every workload")] + [(kind, kind) for kind in KINDS]


class Mute(models.Model):
    """One check (or every check: ``check_id`` "") muted in ``namespace`` ("" = everywhere,
    superusers only), or only for the workload ``kind``/``name`` in it. Rules are checked in
    meshdash.triage.permissions; the matching itself is meshdash.triage.mutes.split_muted."""

    # Not `check`: that name is Model.check(), Django's system checks.
    # Checked against CHECKS in clean(), not as choices: a new check needs no migration.
    check_id = models.CharField("check", max_length=64, blank=True)
    namespace = models.CharField(max_length=63, blank=True)
    kind = models.CharField(max_length=20, blank=True)
    name = models.CharField(max_length=253, blank=True)
    who = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="mutes",
    )
    # The name as it was, shown after the account is deleted.
    who_name = models.CharField(max_length=150, blank=True)
    why = models.CharField(max_length=MAX_WHY)
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["namespace", "kind", "name", "check_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["check_id", "namespace", "kind", "name"], name="triage_mute_unique_scope"
            ),
            # A workload is named by both its kind and its name, inside a namespace.
            models.CheckConstraint(
                condition=(models.Q(kind="") & models.Q(name=""))
                | (~models.Q(kind="") & ~models.Q(name="") & ~models.Q(namespace="")),
                name="triage_mute_workload_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.check_id or 'every check'} muted in {self.scope_label}"

    def clean(self) -> None:
        """The names must be ones the checks can report; who may mute them is
        meshdash.triage.permissions' question."""
        super().clean()
        errors = {}
        if self.check_id and self.check_id not in CHECKS:
            errors["check_id"] = f"{self.check_id[:80]!r} is not a check"
        if self.namespace and (error := namespace_error(self.namespace)):
            errors["namespace"] = error
        if self.kind or self.name:
            if not self.namespace:
                errors["namespace"] = "a workload is muted inside its namespace: name it"
            elif error := workload_ref_error(self.namespace, self.kind, self.name):
                errors["name" if self.kind in KINDS else "kind"] = error
        if not self.why.strip():
            errors["why"] = "say why it is muted"
        if errors:
            raise ValidationError(errors)

    @property
    def scope_label(self) -> str:
        if not self.namespace:
            return "every namespace"
        if self.kind:
            return f"{self.namespace}/{self.kind}/{self.name}"
        return f"namespace {self.namespace}"
