from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group

from meshdash.accounts.forms import ThrottledAdminAuthenticationForm
from meshdash.accounts.models import ApiToken, TeamProfile
from meshdash.accounts.teams import label_selector_error

# The backend enforces the throttle for every way in; this form also tells the user why.
admin.site.login_form = ThrottledAdminAuthenticationForm


class TeamProfileForm(forms.ModelForm):
    def clean_label_selector(self):
        selector = self.cleaned_data["label_selector"].strip()
        why = label_selector_error(selector)
        if why:
            raise forms.ValidationError(why)
        return selector


class TeamProfileInline(admin.StackedInline):
    model = TeamProfile
    form = TeamProfileForm
    can_delete = False
    filter_horizontal = ["admins"]
    verbose_name = "team profile"


class TeamAdmin(GroupAdmin):
    inlines = [TeamProfileInline]


admin.site.unregister(Group)
admin.site.register(Group, TeamAdmin)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["hint", "name", "user", "scope", "created", "expires", "last_used"]
    list_filter = ["scope", "user"]
    # Tokens are issued from the user's page or `manage.py token create`, where the secret is
    # shown, and revoked by deleting them; never moved to another user or given more rights.
    readonly_fields = ["user", "hint", "scope", "created", "expires", "last_used"]
    fields = ["user", "name", "hint", "scope", "created", "expires", "last_used"]

    def has_add_permission(self, request):
        return False
