"""/api/v1/change-requests/: read, approve, reject, refresh and withdraw requests; every gated write answers with
one."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.reverse import reverse

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.serializers.changes import ChangeDecisionSerializer, ChangeRequestSerializer
from onboarding.changes.requests import (
    change_request_approve,
    change_request_refresh,
    change_request_reject,
    change_request_withdraw,
)
from onboarding.models import AuditEvent, ChangeRequest

VIA = AuditEvent.Via.API
WRITE_ERRORS = {400: schema.ERRORS, 403: schema.FORBIDDEN, 404: schema.NOT_FOUND}


def change_request_accepted(request, change_request: ChangeRequest) -> Response:
    """The answer of a write that the cluster's policy turned into a change request: 202, the request, Location."""
    answer = Response(ChangeRequestSerializer(change_request, context={"request": request}).data,
                      status=status.HTTP_202_ACCEPTED)
    answer["Location"] = str(reverse("api:change-request-detail", args=[change_request.pk], request=request))
    return answer


def _decision(summary: str):
    return extend_schema(summary=summary, request=ChangeDecisionSerializer,
                         responses={200: ChangeRequestSerializer, **WRITE_ERRORS})


@extend_schema_view(
    list=extend_schema(summary="List the change requests of your teams (operators: all)", parameters=[
        OpenApiParameter("status", str, enum=ChangeRequest.Status.values, required=False),
        OpenApiParameter("awaiting_me", bool, required=False,
                         description="Only waiting requests you may decide (not your own).")]),
    retrieve=extend_schema(summary="Get a change request with its plan and impact",
                           responses={200: ChangeRequestSerializer, 404: schema.NOT_FOUND}),
)
class ChangeRequestViewSet(viewsets.GenericViewSet):
    """Operations a cluster's change policy holds for a second person's approval. Approving applies them
    at once (status applied, or failed with the error); the requester can never approve."""

    serializer_class = ChangeRequestSerializer
    lookup_value_converter = "int"
    queryset = ChangeRequest.objects.none()  # documents the model for the schema; reads go through selectors
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ChangeRequest.objects.none()
        requests = selectors.change_requests_visible_to(self.request.user)
        if self.request.query_params.get("awaiting_me", "").lower() in {"1", "true", "yes"}:
            requests = selectors.change_requests_awaiting(self.request.user)
        if status_filter := self.request.query_params.get("status"):
            if status_filter not in ChangeRequest.Status.values:
                raise serializers.ValidationError({"status": [
                    f"{status_filter[:40]!r} is not a status; use one of {', '.join(ChangeRequest.Status.values)}."]})
            requests = requests.filter(status=status_filter)
        return requests.order_by("-created_at", "-id")

    def get_object(self) -> ChangeRequest:
        return selectors.change_request_for(self.request.user, self.kwargs["pk"])

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @_decision("Approve and apply (approvers per the cluster's policy; never the requester)")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(change_request_approve, request)

    @_decision("Reject (approvers per the cluster's policy; never the requester)")
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(change_request_reject, request)

    @extend_schema(summary="Recompute the base, plan and impact against the live cluster", request=None,
                   responses={200: ChangeRequestSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def refresh(self, request, pk=None):
        cr = change_request_refresh(actor=request.user, change_request=self.get_object(), via=VIA)
        return Response(self.get_serializer(cr).data)

    @extend_schema(summary="Withdraw a waiting request (only its requester): nothing is applied", request=None,
                   responses={200: ChangeRequestSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        cr = change_request_withdraw(actor=request.user, change_request=self.get_object(), via=VIA)
        return Response(self.get_serializer(cr).data)

    def _decide(self, service, request) -> Response:
        fields = ChangeDecisionSerializer(data=request.data if request.data else {})
        fields.is_valid(raise_exception=True)
        cr = service(actor=request.user, change_request=self.get_object(), comment=fields.validated_data["comment"],
                     via=VIA)
        return Response(self.get_serializer(cr).data)
