"""/api/v1/service-accounts/: thin views over the service-account services; passwords appear once."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.responses import created
from onboarding.api.serializers.service_accounts import (
    ServiceAccountCreateSerializer,
    ServiceAccountQuotaSerializer,
    ServiceAccountSecretSerializer,
    ServiceAccountSerializer,
    ServiceAccountUpdateSerializer,
)
from onboarding.api.views.changes import change_request_accepted
from onboarding.models import AuditEvent, ChangeRequest, ServiceAccount
from onboarding.services.service_account_quotas import service_account_set_quota
from onboarding.services.service_accounts import (
    service_account_create,
    service_account_delete,
    service_account_rotate,
    service_account_update,
)
from onboarding.services.service_accounts_drift import service_account_adopt, service_account_revert

VIA = AuditEvent.Via.API
WRITE_ERRORS = {400: schema.ERRORS, 403: schema.FORBIDDEN, 404: schema.NOT_FOUND}
GATED = OpenApiResponse(description="The cluster's change policy made it a change request (in the body).")


@extend_schema_view(
    list=extend_schema(summary="List your teams' service accounts"),
    retrieve=extend_schema(summary="Get a service account",
                           responses={200: ServiceAccountSerializer, 404: schema.NOT_FOUND}),
    create=extend_schema(summary="Create a service account (the password is in this answer only)",
                         request=ServiceAccountCreateSerializer,
                         responses={201: ServiceAccountSecretSerializer, **WRITE_ERRORS}),
    partial_update=extend_schema(summary="Change a service account's description or own-topic READ",
                                 request=ServiceAccountUpdateSerializer,
                                 responses={200: ServiceAccountSerializer, **WRITE_ERRORS}),
    destroy=extend_schema(summary="Delete a service account (refused while approved subscriptions use it)",
                          request=None, responses={202: ServiceAccountSerializer, **WRITE_ERRORS}),
)
class ServiceAccountViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Kafka principals of your teams. The reconciler sets the credential on the cluster."""

    serializer_class = ServiceAccountSerializer
    lookup_value_converter = "int"
    queryset = ServiceAccount.objects.none()  # documents the model for the schema; reads go through selectors

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ServiceAccount.objects.none()
        return selectors.service_accounts_visible_to(self.request.user).order_by("team__slug", "name", "id")

    def get_object(self) -> ServiceAccount:
        return selectors.service_account_for(self.request.user, self.kwargs["pk"])

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request):
        serializer = ServiceAccountCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        cluster_name, team_slug = fields.pop("cluster"), fields.pop("team")
        cluster, team = selectors.cluster_named(cluster_name), selectors.team_with_slug(team_slug)
        errors = {}
        if cluster is None:
            errors["cluster"] = [f"There is no cluster named {cluster_name!r}."]
        if team is None:
            errors["team"] = [f"There is no team with the slug {team_slug!r}."]
        if errors:
            raise serializers.ValidationError(errors)
        outcome = service_account_create(actor=request.user, cluster=cluster, team=team, via=VIA, **fields)
        if isinstance(outcome, ChangeRequest):
            return change_request_accepted(request, outcome)
        account, password = outcome
        data = self._with_password(account, password).data
        return created(data, location=data["url"])

    def partial_update(self, request, pk=None):
        serializer = ServiceAccountUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = service_account_update(actor=request.user, sa=self.get_object(), via=VIA,
                                         **serializer.validated_data)
        return Response(self.get_serializer(account).data)

    def destroy(self, request, pk=None):
        account = service_account_delete(actor=request.user, sa=self.get_object(), via=VIA)
        if isinstance(account, ChangeRequest):
            return change_request_accepted(request, account)
        return Response(self.get_serializer(account).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="Rotate the password (the new one is in this answer only)", request=None,
                   responses={200: ServiceAccountSecretSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        account, password = service_account_rotate(actor=request.user, sa=self.get_object(), via=VIA)
        return self._with_password(account, password)

    @extend_schema(summary="Set the account's client quotas (produce and consume bytes/s, request percentage)",
                   request=ServiceAccountQuotaSerializer,
                   responses={200: ServiceAccountSerializer, 202: GATED, **WRITE_ERRORS})
    @action(detail=True, methods=["put"])
    def quota(self, request, pk=None):
        sa = self.get_object()  # first: another team learns nothing of the account from a body's errors
        serializer = ServiceAccountQuotaSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = service_account_set_quota(actor=request.user, sa=sa, via=VIA, **serializer.validated_data)
        if isinstance(account, ChangeRequest):
            return change_request_accepted(request, account)
        return Response(self.get_serializer(account).data)

    @extend_schema(summary="Revert ACL drift: put back the portal's standard ACLs of the account", request=None,
                   responses={200: ServiceAccountSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def revert(self, request, pk=None):
        account = service_account_revert(actor=request.user, sa=self.get_object(), via=VIA)
        return Response(self.get_serializer(account).data)

    @extend_schema(summary="Adopt ACL drift: the account's ACLs on the cluster become its desired ACLs",
                   request=None, responses={200: ServiceAccountSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def adopt(self, request, pk=None):
        account = service_account_adopt(actor=request.user, sa=self.get_object(), via=VIA)
        return Response(self.get_serializer(account).data)

    def _with_password(self, account: ServiceAccount, password: str, code: int = status.HTTP_200_OK) -> Response:
        account.password = password
        return Response(ServiceAccountSecretSerializer(account, context=self.get_serializer_context()).data,
                        status=code)
