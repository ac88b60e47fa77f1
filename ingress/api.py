"""Ingress REST: bulk item rows, file imports (as jobs), import batches with their profile and drift, near-duplicate groups."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from annotation.api import serializers as s
from annotation.api.fields import LabelValueField
from annotation.models import Role
from core.api.base import ProjectScopedApi
from core.api.fields import (
    COUNTS_SCHEMA,
    FREE_FORM_OBJECT_SCHEMA,
    NULLABLE_NUMBER,
    FreeFormObjectField,
    json_field,
    map_of,
)
from core.api.pagination import StandardPagination
from core.models import Job
from ingress import selectors as ingress_selectors
from ingress.models import ImportBatch
from ingress.services.bulk import item_bulk_create
from ingress.services.imports import import_start


class IngressUploadInputSerializer(serializers.Serializer):
    # An empty file is accepted here: like any other unusable file it becomes an import that fails with the
    # reason, so a script and the page see it the same way.
    file = serializers.FileField(
        allow_empty_file=True,
        help_text="CSV, JSONL, JSON array, Label Studio JSON export, or a zip of media.",
    )
    labelstudio_annotations = serializers.ChoiceField(
        choices=["annotations", "metadata", "gold"],
        default="annotations",
        required=False,
        help_text="Label Studio annotations: imported as annotations by their annotators (default), kept as "
        "metadata, or, when they all agree, used as gold.",
    )
    labelstudio_config = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200_000,
        help_text="The Label Studio project's labelling config (XML): its <Choices> control and the data key of "
        'the object it labels (value="$review") say where labels and text/media are.',
    )
    data_key = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text="The task data key holding the text or media (without $), when no labelling config is sent.",
    )
    labelstudio_users = json_field(
        map_of({"type": "string", "format": "email"}, "Label Studio user id → e-mail"),
        required=False,
        default=dict,
        help_text='Label Studio user id → e-mail ({"1": "ann@example.com"}), for exports that name annotators '
        "by id only (the quick export; GET /api/users/ in Label Studio lists them).",
    )


class IngressJobRefSerializer(serializers.Serializer):
    job = serializers.UUIDField()
    status = serializers.CharField()


class IngressImportJobSerializer(serializers.ModelSerializer):
    file_name = serializers.SerializerMethodField()
    # A plain string here: a second enum for the job status makes drf-spectacular's enum names collide.
    status = serializers.CharField(help_text="queued | running | succeeded | failed")
    outcome = serializers.SerializerMethodField(
        help_text="null while queued or running; then completed | completed_with_errors (succeeded, some rows "
        "were not imported: see result.report) | failed (error says why)"
    )

    result = FreeFormObjectField(
        allow_null=True, help_text="The import report (result.report); null until it ends."
    )

    class Meta:
        model = Job
        fields = [
            "id",
            "status",
            "outcome",
            "progress",
            "message",
            "file_name",
            "result",
            "error",
            "created_at",
            "finished_at",
        ]

    def get_file_name(self, job: Job) -> str:
        return str(job.params.get("file_name", ""))

    def get_outcome(self, job: Job) -> str | None:
        return job.outcome


class IngressDriftFindingSerializer(serializers.Serializer):
    field = serializers.CharField()
    test = serializers.CharField(help_text="ks (numeric field) or chi2 (categorical field)")
    statistic = serializers.FloatField()
    p_value = serializers.FloatField()
    effect = serializers.FloatField(help_text="KS D for numeric fields, Cramér's V for categorical ones")
    sentence = serializers.CharField()


class IngressBatchSerializer(serializers.ModelSerializer):
    job = serializers.UUIDField(source="job_id", allow_null=True)
    profile_summary = json_field(
        {
            "type": "object",
            "properties": {
                "n_items": {"type": "integer"},
                "numeric": map_of(map_of(NULLABLE_NUMBER), "field → {n, mean, std, min, max, p5, p50, p95}"),
                "categorical": map_of(FREE_FORM_OBJECT_SCHEMA, "field → value counts"),
                "flags": {**COUNTS_SCHEMA, "description": "profiling flag → items flagged"},
            },
            "description": "Empty until the batch is profiled.",
        }
    )
    drift = json_field(IngressDriftFindingSerializer(many=True))

    class Meta:
        model = ImportBatch
        fields = [
            "number",
            "source",
            "created_at",
            "n_created",
            "n_duplicates",
            "n_errors",
            "profile_summary",
            "drift",
            "job",
        ]


class IngressNearDupMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    flags = serializers.ListField(child=serializers.CharField())
    final_label = LabelValueField(allow_null=True)
    consensus_label = LabelValueField(allow_null=True)
    media_url = serializers.CharField(allow_null=True)


class IngressNearDupGroupSerializer(serializers.Serializer):
    group = serializers.IntegerField()
    size = serializers.IntegerField()
    labels_disagree = serializers.BooleanField()
    members = IngressNearDupMemberSerializer(many=True)


class ImportListCreateApi(ProjectScopedApi):
    required_role = Role.MANAGER
    parser_classes = [MultiPartParser]  # the one body that carries a file
    # Read by drf-spectacular so the schema documents the {count, next, previous, results} envelope.
    pagination_class = StandardPagination

    @extend_schema(
        request={"multipart/form-data": IngressUploadInputSerializer},
        responses={202: IngressJobRefSerializer},
        operation_id="imports_create",
    )
    def post(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        data = IngressUploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = import_start(
            project=project,
            user=request.user,
            upload=data.validated_data["file"],
            labelstudio_annotations=data.validated_data["labelstudio_annotations"],
            labelstudio_config=data.validated_data["labelstudio_config"],
            data_key=data.validated_data["data_key"],
            labelstudio_users=data.validated_data["labelstudio_users"],
        )
        return Response({"job": job.pk, "status": job.status}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses=IngressImportJobSerializer(many=True),
        operation_id="imports_list",
    )
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid, Role.REVIEWER)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(ingress_selectors.import_jobs(project=project), request, view=self)
        return paginator.get_paginated_response(IngressImportJobSerializer(page, many=True).data)


class BatchListApi(ProjectScopedApi):
    required_role = Role.REVIEWER
    # Read by drf-spectacular so the schema documents the {count, next, previous, results} envelope.
    pagination_class = StandardPagination

    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses=IngressBatchSerializer(many=True),
        operation_id="batches_list",
    )
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(ingress_selectors.batch_list(project=project), request, view=self)
        return paginator.get_paginated_response(IngressBatchSerializer(page, many=True).data)


class NearDuplicateGroupListApi(ProjectScopedApi):
    required_role = Role.REVIEWER

    @extend_schema(
        parameters=[OpenApiParameter("limit", int, description="Largest groups first; at most 200.")],
        responses=IngressNearDupGroupSerializer(many=True),
        operation_id="near_duplicates_list",
    )
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        limit = serializers.IntegerField(min_value=1, max_value=200, required=False)
        raw = request.query_params.get("limit")
        value = 50
        if raw is not None:
            try:
                value = limit.run_validation(raw)
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"limit": exc.detail}) from exc
        groups = ingress_selectors.near_duplicate_groups(project=project, limit=value)
        return Response(IngressNearDupGroupSerializer(groups, many=True).data)


class ItemBulkCreateApi(ProjectScopedApi):
    required_role = Role.MANAGER

    @extend_schema(
        request=s.BulkItemRowSerializer(many=True),
        responses={201: s.BulkResultSerializer, 200: s.BulkResultSerializer},
    )
    def post(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        result = item_bulk_create(project=project, rows=request.data, refresh_duplicates=True)
        return Response(
            result.as_dict(), status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )
