"""/api/v1/subscriptions/: thin views over the subscription services (request, decide, revoke, filters)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.responses import created
from onboarding.api.serializers.subscriptions import (
    DecisionSerializer,
    FilterTestResultSerializer,
    FilterTestSerializer,
    SubscriptionFilterSerializer,
    SubscriptionRequestSerializer,
    SubscriptionSerializer,
)
from onboarding.api.views.changes import change_request_accepted
from onboarding.errors import NotFound
from onboarding.filtersets import SubscriptionFilterSet
from onboarding.models import AuditEvent, ChangeRequest, ServiceAccount, Subscription, Topic
from onboarding.services.service_accounts_drift import subscription_adopt, subscription_revert
from onboarding.services.subscriptions import (
    subscription_approve,
    subscription_filter_test,
    subscription_reject,
    subscription_request,
    subscription_revoke,
    subscription_update_filter,
)

VIA = AuditEvent.Via.API
WRITE_ERRORS = {400: schema.ERRORS, 403: schema.FORBIDDEN, 404: schema.NOT_FOUND}


def _decision(summary: str):
    return extend_schema(summary=summary, request=DecisionSerializer,
                         responses={200: SubscriptionSerializer, **WRITE_ERRORS})


@extend_schema_view(
    list=extend_schema(summary="List the subscriptions of your teams, from both sides"),
    retrieve=extend_schema(summary="Get a subscription", responses={200: SubscriptionSerializer,
                                                                     404: schema.NOT_FOUND}),
    create=extend_schema(
        summary="Ask for a topic's events", request=SubscriptionRequestSerializer,
        description="Public topics that need no approval are approved at once (decision approved, status "
                    "pending); otherwise the topic's owners decide (decision requested).",
        responses={201: SubscriptionSerializer, **WRITE_ERRORS}),
    partial_update=extend_schema(summary="Change a routed subscription's filter",
                                 request=SubscriptionFilterSerializer,
                                 responses={200: SubscriptionSerializer, **WRITE_ERRORS}),
)
class SubscriptionViewSet(viewsets.GenericViewSet):
    """Team B's access to team A's topic: direct read access or routed copies into B's own topic.
    Approval (``decision``) and apply status (``status``) are separate: only approved ones are applied."""

    serializer_class = SubscriptionSerializer
    filterset_class = SubscriptionFilterSet
    lookup_value_converter = "int"
    queryset = Subscription.objects.none()  # documents the model for the schema; reads go through selectors
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Subscription.objects.none()
        return selectors.subscriptions_visible_to(self.request.user).order_by("-created_at", "-id")

    def get_object(self) -> Subscription:
        return selectors.subscription_for(self.request.user, self.kwargs["pk"])

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self._answer(self.get_object())

    def create(self, request):
        fields = _validated(SubscriptionRequestSerializer(data=request.data))
        # An unknown and a secret topic get the same answer, so ids cannot be probed.
        source = Topic.objects.select_related("team", "cluster").filter(pk=fields.pop("source")).first()
        if source is None:
            raise NotFound("No such topic.")
        errors = {}
        subscriber = selectors.team_with_slug(slug := fields.pop("subscriber"))
        if subscriber is None:
            errors["subscriber"] = [f"There is no team with the slug {slug!r}."]
        account = ServiceAccount.objects.filter(pk=fields.pop("service_account")).first()
        if account is None:
            errors["service_account"] = ["No such service account."]
        destination = None
        if (destination_id := fields.pop("destination", None)) is not None:
            destination = Topic.objects.filter(pk=destination_id).first()
            if destination is None:
                errors["destination"] = ["No such topic."]
        if errors:
            raise serializers.ValidationError(errors)
        subscription = subscription_request(actor=request.user, subscriber=subscriber, source=source,
                                            service_account=account, destination=destination, via=VIA, **fields)
        if isinstance(subscription, ChangeRequest):
            return change_request_accepted(request, subscription)
        data = self.get_serializer(subscription).data
        return created(data, location=data["url"])

    def partial_update(self, request, pk=None):
        fields = _validated(SubscriptionFilterSerializer(data=request.data))
        return self._answer(subscription_update_filter(actor=request.user, subscription=self.get_object(),
                                                       filter=fields["filter"], via=VIA))

    @_decision("Approve a request (owners of the topic's team or operators; never the requester)")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(subscription_approve, request)

    @_decision("Reject a request (owners of the topic's team or operators; never the requester)")
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(subscription_reject, request)

    @_decision("End a subscription, from either side; its access is removed from the cluster")
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        return self._decide(subscription_revoke, request)

    @extend_schema(summary="Revert ACL drift: put the subscription's topic ACLs back as the portal has them",
                   request=None, responses={200: SubscriptionSerializer, 400: schema.ERRORS, 403: schema.FORBIDDEN,
                                            404: schema.NOT_FOUND})
    @action(detail=True, methods=["post"])
    def revert(self, request, pk=None):
        return self._answer(subscription_revert(actor=request.user, subscription=self.get_object(), via=VIA))

    @extend_schema(summary="Adopt ACL drift: the cluster's topic ACLs become desired (recorded on the account)",
                   request=None, responses={200: SubscriptionSerializer, 400: schema.ERRORS, 403: schema.FORBIDDEN,
                                            404: schema.NOT_FOUND})
    @action(detail=True, methods=["post"])
    def adopt(self, request, pk=None):
        return self._answer(subscription_adopt(actor=request.user, subscription=self.get_object(), via=VIA))

    @extend_schema(summary="Try a filter on a sample event", request=FilterTestSerializer,
                   responses={200: FilterTestResultSerializer, 400: schema.ERRORS})
    @action(detail=False, methods=["post"], url_path="test-filter", filter_backends=[], pagination_class=None)
    def test_filter(self, request):
        fields = _validated(FilterTestSerializer(data=request.data))
        result = subscription_filter_test(expression=fields["filter"], event_text=fields["event"],
                                          headers=fields.get("headers"))
        return Response(FilterTestResultSerializer(result).data)

    def _decide(self, service, request) -> Response:
        fields = _validated(DecisionSerializer(data=request.data if request.data else {}))
        return self._answer(service(actor=request.user, subscription=self.get_object(), comment=fields["comment"],
                                    via=VIA))

    def _answer(self, subscription: Subscription, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(subscription).data, status=code)


def _validated(serializer: serializers.Serializer) -> dict:
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
