"""/api/v1/clusters/ (read-only), plus the operators' look at unmanaged topics and their import."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.permissions import IsOperator
from onboarding.api.serializers import (
    ClusterSerializer,
    ImportSerializer,
    ObservedTopicSerializer,
    TopicSerializer,
)
from onboarding.models import AuditEvent, Cluster
from onboarding.services.imports import topics_import, unmanaged_topics

OPERATORS_ONLY = [*api_settings.DEFAULT_PERMISSION_CLASSES, IsOperator]


@extend_schema_view(list=extend_schema(summary="List the clusters and their topic policies"),
                    retrieve=extend_schema(summary="Get a cluster and its topic policy",
                                           responses={200: ClusterSerializer, 404: schema.NOT_FOUND}))
class ClusterViewSet(viewsets.ReadOnlyModelViewSet):
    """Clusters topics can be registered on, with the limits of each one's topic policy."""

    serializer_class = ClusterSerializer
    lookup_value_converter = "int"
    queryset = Cluster.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Cluster.objects.none()
        return selectors.clusters_with_policies()

    @extend_schema(summary="Operators: topics on the cluster that the portal does not manage",
                   responses={200: ObservedTopicSerializer(many=True), 403: schema.FORBIDDEN,
                              404: schema.NOT_FOUND, 503: schema.UNAVAILABLE})
    @action(detail=True, methods=["get"], url_path="unmanaged-topics", permission_classes=OPERATORS_ONLY,
            filter_backends=[], pagination_class=None)
    def unmanaged_topics(self, request, pk=None):
        observed = unmanaged_topics(self.get_object())
        return Response(ObservedTopicSerializer(observed, many=True).data)

    @extend_schema(summary="Operators: bring existing topics under a team's management", request=ImportSerializer,
                   responses={201: TopicSerializer(many=True), 400: schema.ERRORS, 403: schema.FORBIDDEN,
                              404: schema.NOT_FOUND, 503: schema.UNAVAILABLE})
    @action(detail=True, methods=["post"], url_path="import", permission_classes=OPERATORS_ONLY,
            filter_backends=[], pagination_class=None)
    def import_topics(self, request, pk=None):
        cluster = self.get_object()
        body = ImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        team = selectors.team_with_slug(body.validated_data["team"])
        if team is None:
            raise serializers.ValidationError(
                {"team": [f"There is no team with the slug {body.validated_data['team']!r}."]})
        topics = topics_import(actor=request.user, cluster=cluster, team=team, names=body.validated_data["names"],
                               via=AuditEvent.Via.API)
        context = self.get_serializer_context()
        return Response(TopicSerializer(topics, many=True, context=context).data, status=status.HTTP_201_CREATED)
