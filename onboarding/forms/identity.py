"""Browser forms for API tokens and team members: they shape input, the services decide.

As in ``onboarding.forms.topics``, no service rule is repeated here: a service's ValidationError goes back
next to the field it names, with the service's own text.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.validators import ProhibitNullCharactersValidator
from django.utils import timezone

from onboarding.forms.base import ServiceErrorsForm
from onboarding.models import ApiToken, Membership

CODE = {"class": "mono", "spellcheck": "false", "autocomplete": "off"}


class TokenCreateForm(ServiceErrorsForm):
    name = forms.CharField(required=False, help_text="What the token is for, e.g. 'payments CI'.")
    # Django refuses a NUL with its own words; the service's (about every control character) should be the one.
    name.validators = [v for v in name.validators if not isinstance(v, ProhibitNullCharactersValidator)]
    scope = forms.ChoiceField(choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ,
                              help_text="Read: GET only. Read and write: may change what the account may change.")
    expires_in_days = forms.IntegerField(label="Expires in (days)", required=False,
                                         widget=forms.TextInput(attrs={"inputmode": "numeric"}),
                                         help_text=f"At most {settings.TOKEN_MAX_DAYS} days (the default).")
    service_fields = {"expires_at": "expires_in_days"}

    def expires_at(self):
        days = self.cleaned_data.get("expires_in_days")
        # Out-of-range days become a date the service refuses with its own words.
        return None if days is None else timezone.now() + timedelta(days=max(min(days, 100_000), -1))


def active_user_named(username: str):
    """The active account of that name; the same refusal in the browser and the API otherwise."""
    username = username.strip()
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise forms.ValidationError(f"There is no active account named {username!r}.")
    return user


class MemberAddForm(ServiceErrorsForm):
    username = forms.CharField(widget=forms.TextInput(attrs=CODE))
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)

    def clean_username(self):
        return active_user_named(self.cleaned_data["username"])


class MemberRoleForm(ServiceErrorsForm):
    role = forms.ChoiceField(choices=Membership.Role.choices)
