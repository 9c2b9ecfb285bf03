"""/api/v1/topics/<id>/sensitive-fields/: the fields of a topic's events tagged PHI, PII, secret or confidential."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.serializers.sensitivity import (
    SensitiveFieldInputSerializer,
    SensitiveFieldSerializer,
    SensitiveFieldSetSerializer,
)
from onboarding.errors import ValidationError
from onboarding.models import AuditEvent
from onboarding.services.sensitivity import sensitive_field_clear, sensitive_field_set, sensitive_fields_replace
from portal.error_paths import flat_errors

VIA = AuditEvent.Via.API
PATH = OpenApiParameter("path", str, OpenApiParameter.QUERY, required=True,
                        description="The tagged field's path, e.g. patient.ssn or visits[].code.")


class SensitiveFieldsView(APIView):
    """Fields of a schema tagged as sensitive (PHI, PII, secret, confidential): masked in every peek."""

    def _schema(self, request, pk: int):
        return selectors.schema_for(request.user, pk)

    def _list(self, schema) -> Response:
        tags = schema.sensitive_fields.select_related("tagged_by").order_by("path")
        return Response(SensitiveFieldSerializer(tags, many=True).data)

    @extend_schema(summary="List a schema's sensitive fields", responses={200: SensitiveFieldSerializer(many=True),
                                                                         404: schema.NOT_FOUND})
    def get(self, request, pk: int):
        return self._list(self._schema(request, pk))

    @extend_schema(summary="Tag a field as sensitive (or change its classification)",
                   description="The path must exist in the schema's latest version.",
                   request=SensitiveFieldInputSerializer,
                   responses={201: SensitiveFieldSerializer, 400: schema.ERRORS, 403: schema.FORBIDDEN,
                              404: schema.NOT_FOUND})
    def post(self, request, pk: int):
        schema_ = self._schema(request, pk)
        data = _validated(SensitiveFieldInputSerializer(data=request.data))
        tag = sensitive_field_set(actor=request.user, schema=schema_, path=data["path"],
                                  classification=data["classification"], note=data.get("note", ""), via=VIA)
        return Response(SensitiveFieldSerializer(tag).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Replace the whole set of a schema's sensitive fields", request=SensitiveFieldSetSerializer,
                   description="All or nothing: one entry whose path is not in the latest version refuses the "
                               "set (errors keyed fields[i].path).",
                   responses={200: SensitiveFieldSerializer(many=True), 400: schema.ERRORS, 403: schema.FORBIDDEN,
                              404: schema.NOT_FOUND})
    def put(self, request, pk: int):
        schema_ = self._schema(request, pk)
        data = _validated(SensitiveFieldSetSerializer(data=request.data))
        sensitive_fields_replace(actor=request.user, schema=schema_, fields=data["fields"], via=VIA)
        return self._list(schema_)

    @extend_schema(summary="Remove a field's sensitive tag", parameters=[PATH],
                   responses={204: None, 403: schema.FORBIDDEN, 404: schema.NOT_FOUND})
    def delete(self, request, pk: int):
        schema_ = self._schema(request, pk)
        sensitive_field_clear(actor=request.user, schema=schema_, path=request.query_params.get("path", ""), via=VIA)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _validated(serializer) -> dict:
    if not serializer.is_valid():
        raise ValidationError(flat_errors(serializer.errors))
    return serializer.validated_data
