"""The client-quota form of a service account: it only parses numbers; the service judges them."""

from __future__ import annotations

from django import forms

from onboarding.forms.base import ServiceErrorsForm

NUMERIC = {"inputmode": "numeric", "autocomplete": "off"}


class ServiceAccountQuotaForm(ServiceErrorsForm):
    producer_byte_rate = forms.IntegerField(
        required=False, label="Produce quota (bytes/s)", widget=forms.TextInput(attrs=NUMERIC),
        help_text="Kafka slows the account's producers down above this rate. Empty: no quota. 102400 = 100 KB/s.")
    consumer_byte_rate = forms.IntegerField(
        required=False, label="Consume quota (bytes/s)", widget=forms.TextInput(attrs=NUMERIC),
        help_text="Kafka slows the account's consumers down above this rate. Empty: no quota.")
    request_percentage = forms.IntegerField(
        required=False, label="Request quota (% of a broker thread)", widget=forms.TextInput(attrs=NUMERIC),
        help_text="Share of the brokers' request-handler and network threads; 100 = one thread. Empty: no quota.")
