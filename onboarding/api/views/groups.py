"""/api/v1/consumer-groups/, /api/v1/offset-resets/ and /api/v1/topics/<id>/delete-records/: thin views over
the group reads and the reset and delete-records services. They keep the API's default permissions (signed in, and
a read-scope token only reads): the services decide who may change what."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.serializers.groups import (
    DeleteRecordsResultSerializer,
    DeleteRecordsSerializer,
    GroupDetailSerializer,
    GroupSummarySerializer,
    LagHistorySerializer,
    OffsetResetSerializer,
    ResetDecisionSerializer,
    ResetInputSerializer,
    ResetPlanSerializer,
)
from onboarding.api.views.changes import change_request_accepted
from onboarding.errors import NotFound
from onboarding.models import AuditEvent, ChangeRequest, Cluster, OffsetReset, ResourceStatus, Team
from onboarding.permissions import can_read_team
from onboarding.selectors.groups import group_detail, group_lag_history, resets_visible_to, team_groups
from onboarding.services.groups import (
    ResetRequest,
    offset_reset_approve,
    offset_reset_dry_run,
    offset_reset_reject,
    offset_reset_request,
    offset_reset_withdraw,
    readable_group_team,
)
from onboarding.services.records_delete import records_delete

VIA = AuditEvent.Via.API
WRITE_ERRORS = {400: schema.ERRORS, 403: schema.FORBIDDEN, 404: schema.NOT_FOUND, 503: schema.UNAVAILABLE}
TEAM = OpenApiParameter("team", str, OpenApiParameter.QUERY, required=True, description="The team's slug.")
CLUSTER = OpenApiParameter("cluster", str, OpenApiParameter.QUERY, required=False,
                           description="Only this cluster (its name); every cluster by default.")


def _cluster(name: str) -> Cluster:
    cluster = Cluster.objects.filter(name=name).first()
    if cluster is None:
        raise NotFound("No such cluster.")
    return cluster


def _validated(serializer: serializers.Serializer) -> dict:
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class GroupListView(APIView):
    @extend_schema(operation_id="consumer_groups_list", summary="A team's consumer groups", parameters=[TEAM, CLUSTER],
                   description="Groups whose id starts with `<team>.`, as Kafka reports them now.",
                   responses={200: GroupSummarySerializer(many=True), 400: schema.ERRORS, 404: schema.NOT_FOUND,
                              503: schema.UNAVAILABLE})
    def get(self, request):
        slug = request.query_params.get("team", "")
        if not slug:
            raise serializers.ValidationError({"team": ["Name the team: ?team=<slug>."]})
        team = Team.objects.filter(slug=slug).first()
        if team is None or not can_read_team(request.user, team):
            raise NotFound("No such team.")
        clusters = [_cluster(name)] if (name := request.query_params.get("cluster")) else \
            list(Cluster.objects.order_by("order", "name"))
        rows = [{**row, "cluster": cluster.name} for cluster in clusters for row in team_groups(team, cluster)]
        return Response(GroupSummarySerializer(rows, many=True).data)


class GroupDetailView(APIView):
    @extend_schema(summary="A consumer group: members, partitions, committed offsets and lag",
                   responses={200: GroupDetailSerializer, 404: schema.NOT_FOUND, 503: schema.UNAVAILABLE})
    def get(self, request, cluster: str, group_id: str):
        target = _cluster(cluster)
        readable_group_team(request.user, group_id)
        return Response(GroupDetailSerializer({**group_detail(target, group_id), "cluster": target.name}).data)


class GroupLagView(APIView):
    @extend_schema(summary="A consumer group's sampled lag per topic (the kept history, LAG_HISTORY_DAYS)",
                   responses={200: LagHistorySerializer, 404: schema.NOT_FOUND})
    def get(self, request, cluster: str, group_id: str):
        target = _cluster(cluster)
        readable_group_team(request.user, group_id)
        history = group_lag_history(target, group_id)
        topics = {topic: [{"at": at, "lag": lag} for at, lag in sorted(points)] for topic, points in history.items()}
        return Response(LagHistorySerializer({"group_id": group_id, "cluster": target.name, "topics": topics}).data)


class GroupResetView(APIView):
    @extend_schema(
        summary="Reset a group's offsets on a topic (or only plan it with dry_run)", request=ResetInputSerializer,
        description="Refused while the group has active members. On the team's own topic the reset is applied at "
                    "once (201); on another team's topic it waits for one of that team's owners (201, status "
                    "requested); a cluster gating group.reset answers 202 with the change request. dry_run answers "
                    "the plan per partition with the lag change (200).",
        responses={200: ResetPlanSerializer, 201: OffsetResetSerializer, 202: schema.DETAIL, **WRITE_ERRORS})
    def post(self, request, cluster: str, group_id: str):
        target = _cluster(cluster)
        body = _validated(ResetInputSerializer(data=request.data))
        topic = (selectors.topics_visible_to(request.user).filter(cluster=target, name=body["topic"])
                 .exclude(status=ResourceStatus.DELETED).first())
        if topic is None:
            raise serializers.ValidationError({"topic": [f"There is no topic {body['topic']!r} on {target.name} "
                                                         "that you can see."]})
        reset_request = ResetRequest(body["strategy"], body.get("timestamp"), body.get("shift"), body.get("offset"),
                                     tuple(body.get("partitions") or ()))
        if body["dry_run"]:
            plan = offset_reset_dry_run(actor=request.user, cluster=target, group_id=group_id, topic=topic,
                                        request=reset_request)
            return Response(ResetPlanSerializer(plan).data)
        result = offset_reset_request(actor=request.user, cluster=target, group_id=group_id, topic=topic,
                                      request=reset_request, reason=body["reason"], via=VIA)
        if isinstance(result, ChangeRequest):
            return change_request_accepted(request, result)
        return Response(OffsetResetSerializer(result).data, status=status.HTTP_201_CREATED)


class OffsetResetListView(ListAPIView):
    """A list view (ListModelMixin), so the schema documents the paginated answer and not one reset."""

    serializer_class = OffsetResetSerializer
    queryset = OffsetReset.objects.none()  # the schema generator's model; get_queryset gives the caller's rows

    def get_queryset(self):
        rows = resets_visible_to(self.request.user)
        wanted = self.request.query_params.get("status")
        if wanted is None:
            return rows
        if wanted not in OffsetReset.Status.values:
            raise serializers.ValidationError({"status": [
                f"{wanted[:40]!r} is not a status; use one of {', '.join(OffsetReset.Status.values)}."]})
        return rows.filter(status=wanted)

    @extend_schema(operation_id="offset_resets_list",
                   summary="Offset resets of your teams' groups and of the topics your teams own",
                   parameters=[OpenApiParameter("status", str, OpenApiParameter.QUERY, required=False,
                                                enum=list(OffsetReset.Status.values))],
                   responses={200: OffsetResetSerializer(many=True), 400: schema.ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class OffsetResetDetailView(APIView):
    @extend_schema(summary="An offset reset", responses={200: OffsetResetSerializer, 404: schema.NOT_FOUND})
    def get(self, request, pk: int):
        return Response(OffsetResetSerializer(_reset(request.user, pk)).data)


def _reset(user, pk: int):
    reset = resets_visible_to(user).filter(pk=pk).first()
    if reset is None:
        raise NotFound("No such offset reset.")
    return reset


class OffsetResetDecisionView(APIView):
    decide = None

    @extend_schema(request=ResetDecisionSerializer, responses={200: OffsetResetSerializer, **WRITE_ERRORS})
    def post(self, request, pk: int):
        body = _validated(ResetDecisionSerializer(data=request.data))
        result = type(self).decide(actor=request.user, reset=_reset(request.user, pk), comment=body["comment"],
                                   via=VIA)
        return Response(OffsetResetSerializer(result).data)


class OffsetResetApproveView(OffsetResetDecisionView):
    """An owner of the topic's team approves: the reset is applied now (refused while the group has members)."""

    decide = staticmethod(offset_reset_approve)


class OffsetResetRejectView(OffsetResetDecisionView):
    """An owner of the topic's team refuses: nothing changes."""

    decide = staticmethod(offset_reset_reject)


class OffsetResetWithdrawView(APIView):
    """The requester takes back a reset still waiting for the topic's owners: nothing changes."""

    @extend_schema(summary="Withdraw a waiting offset reset (only its requester)", request=None,
                   responses={200: OffsetResetSerializer, **WRITE_ERRORS})
    def post(self, request, pk: int):
        result = offset_reset_withdraw(actor=request.user, reset=_reset(request.user, pk), via=VIA)
        return Response(OffsetResetSerializer(result).data)


class DeleteRecordsView(APIView):
    @extend_schema(summary="Delete a topic's records before an offset per partition (topic owners; gated like "
                           "topic.delete)", request=DeleteRecordsSerializer,
                   responses={200: DeleteRecordsResultSerializer, 202: schema.DETAIL, **WRITE_ERRORS})
    def post(self, request, pk: int):
        topic = selectors.topic_for(request.user, pk)
        body = _validated(DeleteRecordsSerializer(data=request.data))
        try:
            before = {int(partition): offset for partition, offset in body["before"].items()}
        except ValueError:
            raise serializers.ValidationError({"before": ["Keys are partition numbers."]}) from None
        result = records_delete(actor=request.user, topic=topic, before=before, confirm_name=body["confirm_name"],
                                via=VIA)
        if isinstance(result, ChangeRequest):
            return change_request_accepted(request, result)
        return Response(DeleteRecordsResultSerializer(result).data)
