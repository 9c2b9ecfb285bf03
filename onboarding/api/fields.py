"""Serializer fields that only shape input, leaving the rules (and their wording) to the services."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_choice_field
from rest_framework import serializers


class ServiceChoiceField(serializers.CharField):
    """A string whose allowed values the service checks, so the API and the form say the same thing.

    The choices are only documented (an enum in the OpenAPI schema); a ChoiceField would refuse bad
    values itself, with DRF's wording instead of the service's.
    """

    def __init__(self, *, choices, **kwargs):
        # value -> label, as ChoiceField keeps them (DRF's OPTIONS metadata reads .choices.items()).
        self.choices = dict(choices)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)


class ServiceChoiceFieldSchema(OpenApiSerializerFieldExtension):
    """Documents a ServiceChoiceField exactly like a ChoiceField (same enum component as the model's)."""

    target_class = ServiceChoiceField

    def map_serializer_field(self, auto_schema, direction):
        return build_choice_field(serializers.ChoiceField(choices=list(self.target.choices.items())))
