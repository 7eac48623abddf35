"""One bookmark form for the pages and the JSON API alike."""

from django import forms

from meshdash.bookmarks.models import (
    EVERYONE,
    PRIVATE,
    TEAM,
    VISIBILITY_CHOICES,
    may_share_with_everyone,
)
from meshdash.bookmarks.urlcheck import UnsafeUrl, normalise_internal_url


class BookmarkForm(forms.Form):
    title = forms.CharField(max_length=200)
    url = forms.CharField(max_length=2000)
    note = forms.CharField(max_length=2000, required=False, widget=forms.Textarea)
    visibility = forms.ChoiceField(choices=VISIBILITY_CHOICES, required=False, initial=PRIVATE)
    team = forms.CharField(max_length=150, required=False)
    pinned = forms.BooleanField(required=False)
    freeze = forms.BooleanField(required=False)

    def __init__(self, *args, user, current=None, **kwargs):
        """``current``: the bookmark being changed, which may keep the visibility it has."""
        super().__init__(*args, **kwargs)
        self.user = user
        self.current = current

    def clean_url(self):
        url = self.cleaned_data["url"]
        # A bookmark keeping the URL it has stays editable, even once its page refuses it.
        kept = self.current is not None and url == self.current.url
        try:
            return normalise_internal_url(url, check_query=not kept)
        except UnsafeUrl as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_visibility(self):
        visibility = self.cleaned_data["visibility"] or PRIVATE
        kept = self.current is not None and self.current.visibility == visibility
        if visibility == EVERYONE and not kept and not may_share_with_everyone(self.user):
            raise forms.ValidationError("only staff and team admins can share with everyone")
        return visibility

    def clean(self):
        cleaned = super().clean()
        cleaned["team_obj"] = None
        if cleaned.get("visibility") == TEAM:
            teams = self.user.groups.order_by("name")
            name = cleaned.get("team") or ""
            if name:
                cleaned["team_obj"] = teams.filter(name=name).first()
            elif teams.count() == 1:
                cleaned["team_obj"] = teams.first()
            if cleaned["team_obj"] is None:
                self.add_error("team", "choose one of your teams to share with")
        return cleaned


def first_error(form) -> str:
    for field, errors in form.errors.items():
        prefix = "" if field == "__all__" else f"{field}: "
        return prefix + errors[0]
    return "invalid input"
