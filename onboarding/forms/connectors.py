"""Browser form for connectors: it shapes input, the connector services (and Connect) decide.

The config is typed like a Kafka properties file, one ``key=value`` per line, and secret references the same
way (``connection.uri=env:MONGO_URI``). An error the service keys ``config.<key>`` (Connect's own among them) is
shown beside the config box, starting with its key."""

from __future__ import annotations

from django import forms

from onboarding.forms.base import ServiceErrorsForm
from onboarding.models import Cluster, Connector, Team
from onboarding.selectors import writable_teams_of

CODE = {"class": "code", "spellcheck": "false", "autocomplete": "off"}
MONO = {"class": "mono", "spellcheck": "false", "autocomplete": "off"}


def lines_from(values: dict) -> str:
    return "\n".join(f"{k}={v}" for k, v in (values or {}).items())


def values_from(text: str) -> dict:
    """``key=value`` lines to a dict; a line without '=' keeps its key with an empty value, so the service
    (or Connect) names what is missing; # comments and blank lines are skipped."""
    values = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values


class ConnectorForm(ServiceErrorsForm):
    """Declare (``connector`` None) or change a connector; team, cluster and name are fixed once it exists."""

    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    cluster = forms.ModelChoiceField(queryset=Cluster.objects.none(), empty_label=None)
    name = forms.CharField(required=False, widget=forms.TextInput(attrs=MONO))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    connector_class = forms.ChoiceField(choices=(), label="Connector class")
    config = forms.CharField(required=False, widget=forms.Textarea(attrs={**CODE, "rows": 10}),
                             help_text="One key=value per line, as in a properties file; no secrets.")
    secret_refs = forms.CharField(required=False, label="Secret references",
                                  widget=forms.Textarea(attrs={**CODE, "rows": 3}),
                                  help_text="key=env:VARIABLE or key=file:/path:key, one per line; the worker "
                                            "resolves them, the portal never sees the secret.")
    desired_state = forms.ChoiceField(choices=Connector.DesiredState.choices, label="State")
    generation = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *, user, connector: Connector | None = None):
        self.connector = connector
        initial = None
        if connector is not None:
            initial = {"description": connector.description, "connector_class": connector.connector_class,
                       "config": lines_from(connector.config), "secret_refs": lines_from(connector.secret_refs),
                       "desired_state": connector.desired_state, "generation": connector.generation}
        super().__init__(data, initial=initial)
        clusters = Cluster.objects.filter(is_active=True)
        classes = sorted({c for cluster in clusters for c in cluster.connect_allowed_classes or []})
        if connector is not None:
            del self.fields["team"], self.fields["cluster"], self.fields["name"]
            classes = sorted(set(classes) | {connector.connector_class})
        else:
            self.fields["team"].queryset = writable_teams_of(user)
            self.fields["cluster"].queryset = clusters
        self.fields["connector_class"].choices = [(c, c) for c in classes]

    def values(self) -> dict:
        data = self.cleaned_data
        return {"description": data.get("description", ""), "connector_class": data["connector_class"],
                "config": values_from(data.get("config", "")), "secret_refs": values_from(data.get("secret_refs", "")),
                "desired_state": data["desired_state"]}

    def changes(self) -> dict:
        current = self.connector
        values = self.values()
        before = {"description": current.description, "connector_class": current.connector_class,
                  "config": current.config, "secret_refs": current.secret_refs,
                  "desired_state": current.desired_state}
        return {k: v for k, v in values.items() if v != before[k]}

    def _field_for(self, key: str, message: str) -> str | None:
        for box in ("config", "secret_refs"):
            if key.startswith(box + "."):
                return box
        return super()._field_for(key, message)

    def add_service_errors(self, errors: dict[str, list[str]], *, skip_failed: bool = False) -> None:
        # A config key's message names its key, since the box holds them all.
        named = {}
        for key, messages in errors.items():
            prefix = next((key[len(box) + 1:] for box in ("config", "secret_refs") if key.startswith(box + ".")), None)
            named[key] = [f"{prefix}: {m}" if prefix and not m.startswith(prefix) else m for m in messages]
        super().add_service_errors(named, skip_failed=skip_failed)
