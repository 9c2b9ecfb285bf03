"""/api/v1/webhooks/ and /api/v1/notification-deliveries/: thin views over the webhook services.

Team owners (and operators) change webhooks; members and viewers read them and their deliveries;
other people get 404. The signing secret appears only in the answers to create and rotate.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.responses import created
from onboarding.api.serializers.webhooks import (
    DeliverySerializer,
    WebhookCreateSerializer,
    WebhookSecretSerializer,
    WebhookSerializer,
    WebhookUpdateSerializer,
)
from onboarding.models import AuditEvent, NotificationDelivery, Webhook
from onboarding.notifications.webhooks import (
    webhook_create,
    webhook_delete,
    webhook_rotate_secret,
    webhook_send_test,
    webhook_update,
)
from onboarding.permissions import can_read_team

VIA = AuditEvent.Via.API
WRITE_ERRORS = {400: schema.ERRORS, 403: schema.FORBIDDEN, 404: schema.NOT_FOUND}


@extend_schema_view(
    list=extend_schema(summary="List your teams' webhooks"),
    retrieve=extend_schema(summary="Get a webhook", responses={200: WebhookSerializer, 404: schema.NOT_FOUND}),
    create=extend_schema(summary="Add a webhook (the signing secret is in this answer only)",
                         request=WebhookCreateSerializer, responses={201: WebhookSecretSerializer, **WRITE_ERRORS}),
    partial_update=extend_schema(summary="Change a webhook's name, URL, events or active flag",
                                 request=WebhookUpdateSerializer, responses={200: WebhookSerializer, **WRITE_ERRORS}),
    destroy=extend_schema(summary="Delete a webhook (its delivery log stays)", request=None,
                          responses={204: None, **WRITE_ERRORS}),
)
class WebhookViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Signed JSON POSTs to your endpoints when change requests move or resources drift."""

    serializer_class = WebhookSerializer
    lookup_value_converter = "int"
    queryset = Webhook.objects.none()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Webhook.objects.none()
        return selectors.webhooks_visible_to(self.request.user).order_by("team__slug", "name", "id")

    def get_object(self) -> Webhook:
        return selectors.webhook_for(self.request.user, self.kwargs["pk"])

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request):
        serializer = WebhookCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        slug = fields.pop("team")
        team = selectors.team_with_slug(slug)
        if team is None or not can_read_team(request.user, team):
            raise serializers.ValidationError({"team": [f"There is no team with the slug {slug!r}."]})
        hook, secret = webhook_create(actor=request.user, team=team, via=VIA, **fields)
        data = self._with_secret(hook, secret).data
        return created(data, location=data["self_url"])

    def partial_update(self, request, pk=None):
        hook = self.get_object()
        serializer = WebhookUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hook = webhook_update(actor=request.user, webhook=hook, via=VIA, **serializer.validated_data)
        return Response(self.get_serializer(hook).data)

    def destroy(self, request, pk=None):
        webhook_delete(actor=request.user, webhook=self.get_object(), via=VIA)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Replace the signing secret (the new one is in this answer only)", request=None,
                   responses={200: WebhookSecretSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        hook, secret = webhook_rotate_secret(actor=request.user, webhook=self.get_object(), via=VIA)
        return self._with_secret(hook, secret)

    @extend_schema(summary="Send a test event to this webhook", request=None,
                   responses={202: DeliverySerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        delivery = webhook_send_test(actor=request.user, webhook=self.get_object())
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="This webhook's deliveries, newest first", responses={200: DeliverySerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def deliveries(self, request, pk=None):
        rows = self.get_object().deliveries.select_related("team")[:100]
        return Response(DeliverySerializer(rows, many=True).data)

    def _with_secret(self, hook: Webhook, secret: str, code: int = status.HTTP_200_OK) -> Response:
        hook.secret = secret
        return Response(WebhookSecretSerializer(hook, context=self.get_serializer_context()).data, status=code)


@extend_schema_view(list=extend_schema(summary="The notification log of your teams (webhooks and e-mail)"),
                    retrieve=extend_schema(summary="Get a delivery"))
class DeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """Every notification sent (or being retried) to your teams' webhooks and e-mail recipients."""

    serializer_class = DeliverySerializer
    queryset = NotificationDelivery.objects.none()
    filterset_fields = ["team__slug", "channel", "status", "event", "webhook"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return NotificationDelivery.objects.none()
        return selectors.deliveries_visible_to(self.request.user).order_by("-created_at", "-id")
