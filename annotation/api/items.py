from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers

from annotation import selectors
from annotation.api import serializers as s
from annotation.models import Role
from core.api.base import ProjectScopedApi
from core.api.pagination import StandardPagination
from core.errors import ValidationFailed


class ItemListFilterSerializer(serializers.Serializer):
    status = serializers.CharField(required=False)
    tag = serializers.CharField(required=False)
    has_issue = serializers.BooleanField(required=False, allow_null=True, default=None)
    flag = serializers.CharField(required=False)
    batch = serializers.IntegerField(required=False)
    # The metaclass moves declared fields off the class, so this does not shadow Field.label at runtime.
    label = serializers.CharField(required=False)  # type: ignore[assignment]
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)
    ordering = serializers.ChoiceField(choices=list(selectors.ITEM_ORDERINGS), required=False, default="id")


class ItemListApi(ProjectScopedApi):
    required_role = Role.REVIEWER
    # Read by drf-spectacular so the schema documents the {count, next, previous, results} envelope.
    pagination_class = StandardPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str),
            OpenApiParameter("tag", str),
            OpenApiParameter("has_issue", bool),
            OpenApiParameter("flag", str),
            OpenApiParameter("batch", int),
            OpenApiParameter("label", str),
            OpenApiParameter(
                "q",
                str,
                description="Words to find in the text, external id, tags or metadata (each as a prefix).",
            ),
            OpenApiParameter("ordering", str, enum=list(selectors.ITEM_ORDERINGS)),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=s.ItemListSerializer(many=True),
        operation_id="items_list",
    )
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        filters = ItemListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        if "has_issue" in request.query_params and request.query_params["has_issue"] not in (
            "true",
            "false",
            "1",
            "0",
        ):
            raise ValidationFailed("has_issue must be true or false.", field="has_issue")
        queryset = selectors.item_list(project=project, **filters.validated_data)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(s.ItemListSerializer(page, many=True).data)
