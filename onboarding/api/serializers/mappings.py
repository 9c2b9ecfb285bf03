"""Mappings, code tables and canonical topics: the representations the endpoints return and the shapes of their
input. Input serializers check only types; the services check the rules, so the API and the editor give the same
errors at the same paths (``rules[3].sources[0]``, ``targets.<path>``, ``entries.<code>``)."""

from __future__ import annotations

from rest_framework import serializers

from onboarding.api.serializers.topics import StrictSerializer
from onboarding.models import CanonicalTopic, CodeTable, Mapping, MappingVersion

RULES_HELP = ('The field rules: [{"target": "gender", "sources": ["sex"], "fn": "code", "args": {"table": '
              '"hl7-gender"}}, ...]; fn is one of rename, cast, date_parse, unit, code, concat, split, default, '
              'constant, conditional, jsonata (docs/mappings.md).')


class CodeTableSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:code-table-detail")
    team = serializers.CharField(source="team.slug", read_only=True)
    version = serializers.SerializerMethodField(help_text="The latest version's number.")
    entries = serializers.SerializerMethodField(help_text="code -> value of the latest version.")
    has_default = serializers.SerializerMethodField()
    default = serializers.JSONField(source="latest_default", read_only=True, allow_null=True,
                                    help_text="The value of codes the table lacks (if has_default).")

    class Meta:
        model = CodeTable
        fields = ["id", "url", "team", "name", "description", "version", "entries", "has_default", "default",
                  "generation", "created_at", "updated_at"]
        read_only_fields = fields

    def get_version(self, table) -> int | None:
        return table.latest.number if table.latest else None

    def get_entries(self, table) -> dict:
        return table.latest.entries if table.latest else {}

    def get_has_default(self, table) -> bool:
        return bool(table.latest and table.latest.has_default)


class CodeTableCreateSerializer(StrictSerializer):
    team = serializers.CharField(help_text="Owning team's slug; you must be an owner or member.")
    name = serializers.CharField(allow_blank=True, help_text="Lowercase letters, digits and '-'.")
    description = serializers.CharField(allow_blank=True, required=False)
    entries = serializers.JSONField(help_text='code -> value, e.g. {"M": "male", "F": "female"}.')
    has_default = serializers.BooleanField(required=False, default=False)
    default = serializers.JSONField(required=False, allow_null=True)
    note = serializers.CharField(allow_blank=True, required=False)


class CodeTableUpdateSerializer(StrictSerializer):
    """New entries or default make a new version; ``generation`` the one the change is based on (409)."""

    description = serializers.CharField(allow_blank=True, required=False)
    entries = serializers.JSONField(required=False)
    has_default = serializers.BooleanField(required=False)
    default = serializers.JSONField(required=False, allow_null=True)
    note = serializers.CharField(allow_blank=True, required=False)
    generation = serializers.IntegerField(required=False)


class MappingVersionSerializer(serializers.ModelSerializer):
    source_schema_version = serializers.IntegerField(source="source_schema_version.number", read_only=True)
    canonical_schema_version = serializers.IntegerField(source="canonical_schema_version.number", read_only=True)
    code_tables = serializers.SerializerMethodField(help_text="name -> version the rules were checked with.")
    author = serializers.CharField(source="author.username", read_only=True, default=None)

    class Meta:
        model = MappingVersion
        fields = ["number", "source_schema_version", "canonical_schema_version", "rules", "code_tables", "coverage",
                  "author", "note", "created_at"]
        read_only_fields = fields

    def get_code_tables(self, version) -> dict:
        return {tv.table.name: tv.number for tv in version.code_tables.select_related("table")}


class MappingSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:mapping-detail")
    mapping_id = serializers.CharField(read_only=True, help_text="The mapper's key: <team slug>.<name>.")
    cluster = serializers.CharField(source="cluster.name", read_only=True)
    team = serializers.CharField(source="team.slug", read_only=True)
    source_topic = serializers.CharField(source="source_topic.name", read_only=True)
    canonical_topic = serializers.CharField(source="canonical_topic.name", read_only=True)
    dlq_topic = serializers.CharField(read_only=True)
    current_version = MappingVersionSerializer(read_only=True)

    class Meta:
        model = Mapping
        fields = ["id", "url", "mapping_id", "cluster", "team", "name", "description", "source_topic",
                  "canonical_topic", "dlq_topic", "current_version", "status", "generation", "observed_generation",
                  "last_error", "created_at", "updated_at", "ready_at"]
        read_only_fields = fields


class _RuleFields(StrictSerializer):
    rules = serializers.JSONField(required=False, help_text=RULES_HELP)
    source_version = serializers.IntegerField(required=False, allow_null=True,
                                              help_text="The source value schema's version (default: latest).")
    canonical_version = serializers.IntegerField(required=False, allow_null=True,
                                                 help_text="The canonical value schema's version (default: latest).")


class MappingCreateSerializer(_RuleFields):
    team = serializers.CharField(help_text="Owning team's slug; you must be an owner or member.")
    cluster = serializers.CharField(help_text="The cluster's name (the source's and the canonical topic's).")
    name = serializers.CharField(allow_blank=True, help_text="Lowercase letters, digits and '-'.")
    source_topic = serializers.CharField(help_text="Name of the team's topic (or one it subscribes to).")
    canonical_topic = serializers.CharField(help_text="Name of a canonical topic, e.g. std.patient.")
    description = serializers.CharField(allow_blank=True, required=False)
    note = serializers.CharField(allow_blank=True, required=False)


class MappingUpdateSerializer(_RuleFields):
    """New rules (or newer schema versions) make a new version; ``generation`` the one it is based on (409)."""

    description = serializers.CharField(allow_blank=True, required=False)
    note = serializers.CharField(allow_blank=True, required=False)
    generation = serializers.IntegerField(required=False)


class MappingPreviewSerializer(_RuleFields):
    """What create takes (name, description and note are not needed), plus the events to run."""

    echoed_fields = frozenset({"name", "description", "note"})
    team = serializers.CharField()
    cluster = serializers.CharField()
    source_topic = serializers.CharField()
    canonical_topic = serializers.CharField()
    events = serializers.JSONField(required=False, help_text="Pasted events: an object or a list of objects.")
    recent = serializers.IntegerField(required=False, default=0, help_text="How many of the source's last events "
                                      "to run too (0-50), read as peek reads them.")


class PromoteSerializer(StrictSerializer):
    cluster = serializers.CharField(help_text="The cluster to promote to (its topics of the same names).")


class RollbackSerializer(StrictSerializer):
    version = serializers.IntegerField(help_text="The version whose rules become the new version.")


class CanonicalTopicSerializer(serializers.ModelSerializer):
    topic = serializers.CharField(source="topic.name", read_only=True)
    topic_id = serializers.IntegerField(read_only=True)
    cluster = serializers.CharField(source="topic.cluster.name", read_only=True)
    team = serializers.CharField(source="topic.team.slug", read_only=True)

    class Meta:
        model = CanonicalTopic
        fields = ["topic_id", "topic", "cluster", "team", "description", "marked_at"]
        read_only_fields = fields


class CanonicalMarkSerializer(StrictSerializer):
    cluster = serializers.CharField()
    topic = serializers.CharField(help_text="The topic's name.")
    description = serializers.CharField(allow_blank=True, required=False)
