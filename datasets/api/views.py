from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.models import Role
from core.api.base import ProjectScopedApi
from core.api.pagination import StandardPagination
from core.api.serializers import JobRefSerializer
from datasets import selectors
from datasets.api import serializers as s
from datasets.checksums import version_checksum_verify
from datasets.delivery import export_response
from datasets.diffs import version_diff
from datasets.policy import policy_from_params
from datasets.services import dataset_freeze_request


class DatasetVersionListCreateApi(ProjectScopedApi):
    required_role = Role.REVIEWER
    # Read by drf-spectacular so the schema documents the {count, next, previous, results} envelope.
    pagination_class = StandardPagination

    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses=s.DatasetVersionOutputSerializer(many=True),
        operation_id="dataset_versions_list",
    )
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(selectors.version_list(project=project), request, view=self)
        return paginator.get_paginated_response(s.DatasetVersionOutputSerializer(page, many=True).data)

    @extend_schema(
        request=s.DatasetFreezeInputSerializer,
        responses={202: JobRefSerializer},
        operation_id="dataset_versions_freeze",
    )
    def post(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        data = s.DatasetFreezeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = dataset_freeze_request(project=project, user=request.user, params=dict(data.validated_data))
        return Response({"job": job.pk, "status": job.status}, status=status.HTTP_202_ACCEPTED)


class DatasetPreviewApi(ProjectScopedApi):
    required_role = Role.REVIEWER

    @extend_schema(parameters=[s.DatasetPreviewQuerySerializer], responses=s.DatasetPreviewOutputSerializer)
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        query = s.DatasetPreviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        policy = policy_from_params(dict(query.validated_data))
        return Response(selectors.selection_preview(project=project, policy=policy))


class DatasetVersionDetailApi(APIView):
    @extend_schema(responses=s.DatasetVersionOutputSerializer)
    def get(self, request, vid: int):
        version = selectors.version_get_for_user(user=request.user, version_id=vid)
        return Response(s.DatasetVersionOutputSerializer(version).data)


class _QueryFormatNegotiation(DefaultContentNegotiation):
    """``?format=`` names the export format here, not a DRF renderer; errors are always JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


# The labelstudio export's body: Label Studio's task list (each task's data, annotations and predictions).
LABEL_STUDIO_TASKS_SCHEMA = {
    "type": "array",
    "items": {"type": "object", "additionalProperties": True, "description": "A Label Studio task"},
}

EXPORT_RESPONSE_HEADERS = [
    OpenApiParameter(
        "Repr-Digest",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description="sha256 of this response's bytes (RFC 9530), e.g. sha-256=:<base64>:",
    ),
    OpenApiParameter(
        "X-Dataset-Checksum",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description="The version's checksum: sha256 (hex) of its full JSONL export (all splits), whatever this "
        "response holds.",
    ),
    OpenApiParameter(
        "X-Dataset-Version", int, OpenApiParameter.HEADER, response=[200], description="The version number."
    ),
]


class DatasetVersionExportApi(APIView):
    content_negotiation_class = _QueryFormatNegotiation

    @extend_schema(
        parameters=[s.DatasetExportQuerySerializer, *EXPORT_RESPONSE_HEADERS],
        # application/octet-stream comes first: it is the one binary type generators know, so a generated
        # client reads every format as bytes (a text/csv first would make it decode parquet and zip as text).
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The file in the asked format; Content-Type names it: application/x-ndjson (jsonl), "
                "text/csv (csv), application/vnd.apache.parquet (parquet), application/zip (zip: the splits, "
                "manifest, dataset card and media), application/json (labelstudio: Label Studio tasks), "
                "application/xml (labelstudio-config: the Label Studio labelling config matching those tasks).",
            ),
            (200, "application/x-ndjson"): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/vnd.apache.parquet"): OpenApiTypes.BINARY,
            (200, "application/zip"): OpenApiTypes.BINARY,
            # Label Studio tasks are JSON: declared as what they are, so a client or checker that parses JSON
            # reads a list, not a string.
            (200, "application/json"): LABEL_STUDIO_TASKS_SCHEMA,
            (200, "application/xml"): OpenApiTypes.BINARY,
        },
        operation_id="dataset_versions_export",
    )
    def get(self, request, vid: int):
        version = selectors.version_get_for_user(user=request.user, version_id=vid)
        query = s.DatasetExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fmt, split = query.validated_data["format"], query.validated_data.get("split") or None
        return export_response(
            version=version, fmt=fmt, split=split, base_url=request.build_absolute_uri("/")
        )


class DatasetVersionDiffApi(APIView):
    @extend_schema(parameters=[s.DatasetDiffQuerySerializer], responses=s.DatasetDiffOutputSerializer)
    def get(self, request, vid: int):
        version = selectors.version_get_for_user(user=request.user, version_id=vid)
        query = s.DatasetDiffQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        base = selectors.version_in_project(
            project=version.project, version_id=query.validated_data["against"]
        )
        return Response(version_diff(base=base, target=version, limit=query.validated_data["limit"]))


class DatasetVersionVerifyApi(APIView):
    @extend_schema(responses=s.DatasetVerifyOutputSerializer)
    def get(self, request, vid: int):
        version = selectors.version_get_for_user(user=request.user, version_id=vid)
        return Response(version_checksum_verify(version=version))


class ItemDatasetVersionsApi(ProjectScopedApi):
    required_role = Role.REVIEWER
    # Read by drf-spectacular so the schema documents the {count, next, previous, results} envelope.
    pagination_class = StandardPagination

    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses=s.DatasetItemVersionSerializer(many=True),
        operation_id="item_dataset_versions_list",
    )
    def get(self, request, pid: int, item_id: int):
        project, _ = self.project_for(request, pid)
        entries = selectors.item_dataset_entries(project=project, item_id=item_id)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(entries, request, view=self)
        return paginator.get_paginated_response(s.DatasetItemVersionSerializer(page, many=True).data)
