"""/api/v1/topics/{id}/event-store/: the topic's event store binding. GET reads it (anyone who sees the topic),
PUT binds or changes it, PATCH changes it, DELETE unbinds it (the topic's owning team); thin over the event
store services, which answer field errors, 403 for another team, and 202 with a change request when gated."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.serializers.event_store import EventStoreBindingSerializer, EventStoreBindingWriteSerializer
from onboarding.api.views.changes import change_request_accepted
from onboarding.errors import NotFound
from onboarding.models import AuditEvent, ChangeRequest, EventStoreBinding
from onboarding.permissions import can_read_team
from onboarding.selectors.event_store import binding_for
from onboarding.services import event_store as services

VIA = AuditEvent.Via.API
WRITE_ERRORS = {400: schema.ERRORS, 403: schema.FORBIDDEN, 404: schema.NOT_FOUND}
NOT_BOUND = "This topic is not kept in the event store."
ACCEPTED = OpenApiResponse(description="The cluster's change policy made it a change request (in the body).")


class TopicEventStoreView(APIView):
    """Keep a topic in the event store (MongoDB API) through a managed sink connector."""

    serializer_class = EventStoreBindingSerializer

    @extend_schema(summary="The topic's event store binding",
                   responses={200: EventStoreBindingSerializer, 404: schema.NOT_FOUND})
    def get(self, request, pk: int):
        return self._answer(self._binding(request, pk))

    @extend_schema(summary="Keep the topic in the event store, or change how", request=EventStoreBindingWriteSerializer,
                   responses={200: EventStoreBindingSerializer, 201: EventStoreBindingSerializer, 202: ACCEPTED,
                              409: schema.CONFLICT, **WRITE_ERRORS})
    def put(self, request, pk: int):
        topic = selectors.topic_for(request.user, pk)
        fields = _validated(EventStoreBindingWriteSerializer(data=request.data))
        expected = fields.pop("generation", None)
        current = binding_for(topic)
        if current is None:
            outcome = services.event_store_bind(actor=request.user, topic=topic, via=VIA, **fields)
            code = status.HTTP_201_CREATED
        else:
            outcome = services.event_store_update(actor=request.user, binding=current, expected_generation=expected,
                                                  via=VIA, **fields)
            code = status.HTTP_200_OK
        return self._outcome(request, outcome, code)

    @extend_schema(summary="Change how the topic is kept in the event store", request=EventStoreBindingWriteSerializer,
                   responses={200: EventStoreBindingSerializer, 202: ACCEPTED, 409: schema.CONFLICT, **WRITE_ERRORS})
    def patch(self, request, pk: int):
        binding = self._binding(request, pk)
        fields = _validated(EventStoreBindingWriteSerializer(data=request.data, partial=True))
        expected = fields.pop("generation", None)
        outcome = services.event_store_update(actor=request.user, binding=binding, expected_generation=expected,
                                              via=VIA, **fields)
        return self._outcome(request, outcome, status.HTTP_200_OK)

    @extend_schema(summary="Stop keeping the topic in the event store (its documents are dropped)", request=None,
                   responses={202: EventStoreBindingSerializer, **WRITE_ERRORS})
    def delete(self, request, pk: int):
        outcome = services.event_store_unbind(actor=request.user, binding=self._binding(request, pk), via=VIA)
        return self._outcome(request, outcome, status.HTTP_202_ACCEPTED)

    @staticmethod
    def _binding(request, pk: int) -> EventStoreBinding:
        topic = selectors.topic_for(request.user, pk)
        # Where and how a topic is stored (collection, the sink's traces) is its team's business, like connectors.
        binding = binding_for(topic) if can_read_team(request.user, topic.team) else None
        if binding is None:
            raise NotFound(NOT_BOUND)
        return binding

    def _outcome(self, request, outcome, code: int) -> Response:
        if isinstance(outcome, ChangeRequest):
            return change_request_accepted(request, outcome)
        return self._answer(outcome, code)

    @staticmethod
    def _answer(binding: EventStoreBinding, code: int = status.HTTP_200_OK) -> Response:
        return Response(EventStoreBindingSerializer(binding).data, status=code)


def _validated(serializer: serializers.Serializer) -> dict:
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
