"""The mute form of the triage page (one per finding)."""

import datetime as dt

from django import forms

from meshdash.mesh.checks import CHECKS
from meshdash.mesh.kinds import KINDS
from meshdash.mesh.names import MAX_LABEL, MAX_SUBDOMAIN
from meshdash.triage.models import MAX_WHY

EXPIRIES = {
    "": None,
    "1h": dt.timedelta(hours=1),
    "8h": dt.timedelta(hours=8),
    "1d": dt.timedelta(days=1),
    "7d": dt.timedelta(days=7),
    "30d": dt.timedelta(days=30),
}
EXPIRY_LABELS = {"": "until unmuted", "1h": "1 hour", "8h": "8 hours", "1d": "1 day"}


class MuteForm(forms.Form):
    check = forms.ChoiceField(
        choices=[("", "every check")] + [(c, c) for c in CHECKS], required=False
    )
    namespace = forms.CharField(max_length=MAX_LABEL, required=False)
    kind = forms.ChoiceField(
        choices=[("", "the whole namespace")] + [(k, k) for k in KINDS], required=False
    )
    name = forms.CharField(max_length=MAX_SUBDOMAIN, required=False)
    why = forms.CharField(max_length=MAX_WHY, strip=True)
    expires_in = forms.ChoiceField(
        choices=[(key, EXPIRY_LABELS.get(key, key.replace("d", " days"))) for key in EXPIRIES],
        required=False,
    )

    # The button pressed: "namespace" mutes the check in the whole namespace (kind and name
    # are then ignored), "workload" or nothing only for the workload given.
    scope = forms.ChoiceField(
        choices=[("", "as given"), ("workload", "workload"), ("namespace", "namespace")],
        required=False,
    )
    next = forms.CharField(max_length=2000, required=False)

    def clean(self):
        data = super().clean()
        if data.get("scope") == "namespace":
            data["kind"] = data["name"] = ""
        if bool(data.get("kind")) != bool(data.get("name")):
            raise forms.ValidationError("a workload is named by its kind and its name")
        return data

    @property
    def expiry(self) -> dt.timedelta | None:
        return EXPIRIES[self.cleaned_data.get("expires_in") or ""]
