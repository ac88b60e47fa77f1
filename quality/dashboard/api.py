"""``GET /api/projects/{pid}/dashboard/kind-panels/``: the dashboard's panels of the project's task kind (spans,
boxes) with the numbers the page draws (``quality.dashboard.kind_panels``)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from annotation.models import Role
from core.api.base import ProjectScopedApi
from core.api.fields import FREE_FORM_OBJECT_SCHEMA, json_field
from kinds.registry import kind_for
from quality.dashboard.kind_panels import panel_data
from quality.dashboard.selectors import saved_filter_list
from quality.dashboard.tables import DashboardSource
from quality.services.saved_filters import saved_filter_create, saved_filter_delete


class DashboardKindFigureSerializer(serializers.Serializer):
    column = serializers.CharField(help_text="The column of ``rows`` drawn.")
    name = serializers.CharField()
    counts = serializers.CharField(help_text="What one value counts.")
    fraction = serializers.BooleanField(help_text="A figure in [0, 1]; otherwise a count.")


class DashboardKindPanelSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Also the page's ``?csv=`` name of the panel.")
    title = serializers.CharField()
    note = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    figures = DashboardKindFigureSerializer(many=True)
    rows = serializers.ListField(
        child=json_field(FREE_FORM_OBJECT_SCHEMA),
        help_text="One object per row keyed by ``columns``; the first column names the row, a missing figure is "
        "null.",
    )


class DashboardKindPanelsOutputSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text="The project's task kind (``spans``, ``boxes``, ``classification``)."
    )
    quality_run = serializers.IntegerField(
        allow_null=True, help_text="The quality report the run-based figures come from; null before any run."
    )
    computed_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the panels were computed, for a large project that reuses them for a few minutes; null: "
        "computed for this request.",
    )
    panels = DashboardKindPanelSerializer(many=True, help_text="Empty for a kind without its own panels.")


class DashboardKindPanelsApi(ProjectScopedApi):
    required_role = Role.REVIEWER

    @extend_schema(responses=DashboardKindPanelsOutputSerializer, operation_id="dashboard_kind_panels")
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        source = DashboardSource(project)
        data = {
            "kind": kind_for(project).name,
            "quality_run": source.report.pk if source.report else None,
            "computed_at": source.kind_panels_at,
            "panels": [panel_data(panel) for panel in source.kind_panels],
        }
        return Response(DashboardKindPanelsOutputSerializer(data).data)


class SavedItemFilterOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    query = serializers.CharField(
        help_text="The items browser's URL query (and the item list API's filters)."
    )
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()


class SavedItemFilterInputSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True, max_length=200)
    query = serializers.CharField(allow_blank=True, max_length=2000)


class SavedItemFilterListApi(ProjectScopedApi):
    required_role = Role.REVIEWER

    @extend_schema(
        responses=SavedItemFilterOutputSerializer(many=True), operation_id="saved_item_filters_list"
    )
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        rows = saved_filter_list(project=project)
        return Response(SavedItemFilterOutputSerializer(rows, many=True).data)

    @extend_schema(
        request=SavedItemFilterInputSerializer,
        responses={201: SavedItemFilterOutputSerializer},
        operation_id="saved_item_filters_create",
    )
    def post(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        body = SavedItemFilterInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        saved = saved_filter_create(project=project, user=request.user, **body.validated_data)
        return Response(SavedItemFilterOutputSerializer(saved).data, status=201)


class SavedItemFilterDeleteApi(ProjectScopedApi):
    required_role = Role.REVIEWER

    @extend_schema(responses={204: None}, operation_id="saved_item_filters_delete")
    def delete(self, request, pid: int, filter_id: int):
        project, access = self.project_for(request, pid)
        saved_filter_delete(project=project, access=access, user=request.user, filter_id=filter_id)
        return Response(status=204)
