"""What the API's reconciled team resources (aggregations, connectors, mappings) share: reads through their
selectors, deleted rows only when asked for with ``?status=deleted``, in team and name order."""

from __future__ import annotations

from rest_framework import viewsets

from onboarding.models import ResourceStatus


class TeamResourceViewSet(viewsets.GenericViewSet):
    """A subclass names its model (``queryset = Model.objects.none()``, which documents it for the schema), the
    selector of the rows a user may see (``visible_to(user, include_deleted=)``), the selector of one
    (``one_for(user, pk)``) and ``_answer(obj)``."""

    lookup_value_converter = "int"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    visible_to = None
    one_for = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.model.objects.none()
        include_deleted = self.request.query_params.get("status") == ResourceStatus.DELETED
        return (type(self).visible_to(self.request.user, include_deleted=include_deleted)
                .order_by("team__slug", "name", "id"))

    def get_object(self):
        return type(self).one_for(self.request.user, self.kwargs["pk"])

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self._answer(self.get_object())
