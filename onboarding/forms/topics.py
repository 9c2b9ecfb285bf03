"""Browser forms: they shape input for the services and show the services' messages.

The rules (names, ranges, allowed configs) live in policies and services, so a form only parses
text into Python values; whatever the service says is wrong is put back on the matching field, and
the browser and the API show the same text.
"""

from __future__ import annotations

from django import forms

from onboarding import policies
from onboarding.forms.base import ServiceErrorsForm
from onboarding.models import Cluster, Team, Topic, TopicPolicy
from onboarding.selectors import writable_teams_of
from onboarding.services.topics import MAX_DESCRIPTION, MAX_TAGS, policy_for, replication_choices

APPROVAL_LIMIT = ("Public topics: other teams' subscriptions wait for your team's approval instead of starting at "
                  "once. Private topics always need it.")


def split_tags(text: str) -> list[str]:
    return [tag.strip() for tag in (text or "").split(",") if tag.strip()]


class TopicCreateForm(ServiceErrorsForm):
    cluster = forms.ModelChoiceField(queryset=Cluster.objects.filter(is_active=True), empty_label=None)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    # Not required here: the service's "Enter a topic name." is the one message people see.
    name = forms.CharField(required=False, widget=forms.TextInput(attrs={"autocomplete": "off",
                                                                        "spellcheck": "false"}))
    partitions = forms.IntegerField(required=False, widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    replication_factor = forms.IntegerField(required=False, label="Replication factor")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    tags = forms.CharField(required=False, help_text="Comma-separated, e.g. pii, billing")
    visibility = forms.ChoiceField(choices=Topic.Visibility.choices, initial=Topic.Visibility.PUBLIC,
                                   widget=forms.RadioSelect)
    subscriptions_need_approval = forms.BooleanField(required=False, label="Subscriptions need approval")

    KEPT_ON_CLUSTER_SWITCH = ("cluster", "team", "name", "description", "tags", "visibility",
                              "subscriptions_need_approval")

    def __init__(self, data=None, *, user, initial=None):
        super().__init__(data, initial=initial)
        self.fields["team"].queryset = writable_teams_of(user)
        self.cluster_obj = self._chosen("cluster")
        self.team_obj = self._chosen("team")
        self.policy: TopicPolicy | None = policy_for(self.cluster_obj) if self.cluster_obj else None
        self.replication = replication_choices(self.cluster_obj, self.policy) if self.policy else None
        if self.policy:
            self.fields["partitions"].initial = self.policy.default_partitions
            self.fields["replication_factor"].initial = self.replication.default
            # Only what the cluster can do: a factor above its broker count would fail on Kafka.
            allowed = self.replication.allowed or (
                list(range(1, self.replication.brokers + 1)) if self.replication.brokers else [])
            if allowed:
                self.fields["replication_factor"].widget = forms.Select(choices=[(f, f) for f in allowed])
            self.add_config_fields(self.policy.config_rules, self.policy.default_configs)

    def _chosen(self, name: str):
        """The cluster/team the page is about, even before the form is valid (limits depend on it)."""
        field = self.fields[name]
        raw = self.data.get(name) if self.is_bound else self.initial.get(name)
        pk = str(getattr(raw, "pk", raw) or "")
        found = field.queryset.filter(pk=pk).first() if pk.isdigit() else None
        return found or field.queryset.first()

    def limits(self) -> dict[str, str]:
        """The policy beside each field, so people see the rule before they break it."""
        if not self.policy:
            return {}
        policy = self.policy
        slug = self.team_obj.slug if self.team_obj else "{team}"
        allowed = self.replication.allowed
        brokers = self.replication.brokers
        on_cluster = (f" The cluster has {brokers} broker{'s' if brokers != 1 else ''}." if brokers is not None
                      else "")
        return {
            "name": f"Must match {policy.name_pattern.replace('{team}', slug)}, e.g. {slug}.orders "
                    f"(at most {policies.KAFKA_MAX_NAME_LENGTH} characters).",
            "partitions": f"{policy.min_partitions} to {policy.max_partitions}; "
                          f"default {policy.default_partitions}. Can grow later, never shrink.",
            "replication_factor": ("Allowed: " + ", ".join(map(str, allowed)) if allowed else "Any")
                                  + "." + on_cluster + " Cannot change later.",
            "description": f"At most {MAX_DESCRIPTION} characters.",
            "tags": f"Lowercase letters, digits and '-'; at most {MAX_TAGS}.",
            "subscriptions_need_approval": APPROVAL_LIMIT,
        }

    def create_kwargs(self) -> dict | None:
        """Keyword arguments for topic_create, or None when cluster or team are unusable.

        Fields that failed to parse fall back to the policy default, so the service still checks
        the others and the page shows every problem at once.
        """
        data = getattr(self, "cleaned_data", {})
        cluster, team = data.get("cluster"), data.get("team")
        if cluster is None or team is None:
            return None
        return {
            "cluster": cluster, "team": team, "name": data.get("name", ""),
            "partitions": data.get("partitions"), "replication_factor": data.get("replication_factor"),
            "configs": self.config_values(), "description": data.get("description", ""),
            "tags": split_tags(data.get("tags", "")),
            "visibility": data.get("visibility") or Topic.Visibility.PUBLIC,
            "subscriptions_need_approval": bool(data.get("subscriptions_need_approval")),
        }


def with_policy_defaults(kwargs: dict, policy: TopicPolicy) -> dict:
    """What topic_create will validate: defaults filled in the same way the service fills them."""
    return {
        **kwargs,
        "partitions": policy.default_partitions if kwargs["partitions"] is None else kwargs["partitions"],
        "replication_factor": (replication_choices(kwargs["cluster"], policy).default
                               if kwargs["replication_factor"] is None else kwargs["replication_factor"]),
        "configs": {**policy.default_configs, **kwargs["configs"]},
    }


class TopicEditForm(ServiceErrorsForm):
    generation = forms.IntegerField(widget=forms.HiddenInput)
    partitions = forms.IntegerField(widget=forms.TextInput(attrs={"inputmode": "numeric"}),
                                    error_messages={"required": "Enter the number of partitions."})
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    tags = forms.CharField(required=False, help_text="Comma-separated, e.g. pii, billing")
    visibility = forms.ChoiceField(choices=Topic.Visibility.choices, widget=forms.RadioSelect)
    drift_reaction = forms.ChoiceField(choices=Topic.DriftReaction.choices, required=False,
                                       label="When changed outside the portal")
    subscriptions_need_approval = forms.BooleanField(required=False, label="Subscriptions need approval")

    def __init__(self, data=None, *, topic: Topic):
        super().__init__(data, initial={
            "generation": topic.generation, "partitions": topic.partitions, "description": topic.description,
            "tags": ", ".join(topic.tags), "visibility": topic.visibility, "drift_reaction": topic.drift_reaction,
            "subscriptions_need_approval": topic.subscriptions_need_approval,
        })
        self.topic = topic
        self.policy = policy_for(topic.cluster)
        self.add_config_fields(self.policy.config_rules, topic.configs)
        # Imported topics may carry configs teams cannot set; they are kept, shown read-only.
        self.kept_configs = {k: v for k, v in sorted(topic.configs.items()) if k not in self.config_rules}

    def limits(self) -> dict[str, str]:
        policy = self.policy
        return {
            "partitions": f"Up to {policy.max_partitions}. Can grow, never shrink (now {self.topic.partitions}).",
            "description": f"At most {MAX_DESCRIPTION} characters.",
            "tags": f"Lowercase letters, digits and '-'; at most {MAX_TAGS}.",
            "drift_reaction": f"Cluster default: {self.topic.cluster.get_drift_reaction_display().lower()}.",
            "subscriptions_need_approval": APPROVAL_LIMIT,
        }

    def update_kwargs(self) -> dict:
        """Keyword arguments for topic_update; a field that did not parse is left unchanged (None)."""
        data = getattr(self, "cleaned_data", {})
        configs = {**self.kept_configs, **self.config_values()}
        unchanged = {k: policies.normalize_config_value(v) for k, v in configs.items()} == self.topic.configs
        return {
            "expected_generation": data.get("generation"),
            "partitions": data.get("partitions"),
            # None leaves Kafka alone when nothing changed, so saving only a description bumps no generation.
            "configs": None if unchanged else configs,
            "description": data.get("description") if "description" in data else None,
            "tags": split_tags(data["tags"]) if "tags" in data else None,
            "visibility": data.get("visibility") or None,
            "drift_reaction": data.get("drift_reaction") if "drift_reaction" in data else None,
            "subscriptions_need_approval": (data["subscriptions_need_approval"]
                                            if "subscriptions_need_approval" in data else None),
        }


class DeleteConfirmForm(forms.Form):
    confirm_name = forms.CharField(required=False, label="Type the topic's name to confirm",
                                   widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    delete_schemas = forms.BooleanField(required=False, label="Also delete its schemas' registry subjects")


class NameListField(forms.Field):
    """The ticked topic names; the service checks they exist and are unmanaged."""

    widget = forms.MultipleHiddenInput  # reads every value of the key (getlist)

    def to_python(self, value):
        return [v for v in (value or []) if v]


class ImportForm(forms.Form):
    cluster = forms.ModelChoiceField(queryset=Cluster.objects.filter(is_active=True), empty_label=None)
    team = forms.ModelChoiceField(queryset=Team.objects.all(), empty_label="Choose a team…")
    names = NameListField(required=False)

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for key, messages in errors.items():
            for message in messages:
                self.add_error(key if key in self.fields else None, message)
