"""A service account's client quotas: the form, and the service's answer beside its fields."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse

from onboarding.errors import ValidationError
from onboarding.forms.service_account_quotas import ServiceAccountQuotaForm
from onboarding.models import AuditEvent, ChangeRequest
from onboarding.services.service_account_quotas import QUOTA_FIELDS, service_account_set_quota
from onboarding.views.changes import to_change_request
from onboarding.views.common import after_post, form_status, portal_view
from onboarding.views.service_accounts import _writable


@portal_view
def service_account_quota_view(request, pk: int):
    sa = _writable(request, pk)
    back = reverse("onboarding:service_accounts", args=[sa.team.slug])
    initial = {name: getattr(sa, name) for name in QUOTA_FIELDS}
    form = ServiceAccountQuotaForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = service_account_set_quota(actor=request.user, sa=sa, via=AuditEvent.Via.BROWSER,
                                                **{name: form.cleaned_data[name] for name in QUOTA_FIELDS})
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        else:
            if isinstance(outcome, ChangeRequest):
                return to_change_request(request, outcome)
            messages.success(request, f"The client quotas of {sa.username} are applied to {sa.cluster.name}.")
            return after_post(request, back)
    return render(request, "onboarding/service_account_quota.html",
                  {"sa": sa, "form": form, "section": "access"}, status=form_status(form))
