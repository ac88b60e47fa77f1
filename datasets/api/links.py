"""Signed export links: one operation makes a link, another serves it to whoever holds it (no credentials)."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFound
from datasets import selectors
from datasets.api.views import EXPORT_RESPONSE_HEADERS, LABEL_STUDIO_TASKS_SCHEMA, _QueryFormatNegotiation
from datasets.delivery import export_filename, export_response
from datasets.exporters import FORMATS
from datasets.links import DEFAULT_MAX_AGE, LONGEST_MAX_AGE, export_link_open, export_link_sign
from datasets.splits import SPLIT_NAMES


class DatasetExportLinkInputSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=list(FORMATS), default="jsonl")
    split = serializers.ChoiceField(
        choices=list(SPLIT_NAMES),
        required=False,
        allow_null=True,
        default=None,
        help_text="Leave out (or null) for every split; ignored for zip, which holds them all.",
    )
    expires_in = serializers.IntegerField(
        min_value=60,
        max_value=LONGEST_MAX_AGE,
        default=DEFAULT_MAX_AGE,
        help_text="Seconds the link stays valid.",
    )


class DatasetExportLinkOutputSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Absolute URL; GET it without any header.")
    expires_at = serializers.DateTimeField()
    format = serializers.CharField()
    split = serializers.CharField(allow_null=True)
    filename = serializers.CharField()


class DatasetExportLinkCreateApi(APIView):
    @extend_schema(
        request=DatasetExportLinkInputSerializer,
        responses={201: DatasetExportLinkOutputSerializer},
        operation_id="dataset_versions_export_link_create",
        description="A signed URL that downloads one export of this version without credentials (for polars, "
        "duckdb, curl), read-only and valid for expires_in seconds (default 3600).",
    )
    def post(self, request, vid: int):
        version = selectors.version_get_for_user(user=request.user, version_id=vid)
        data = DatasetExportLinkInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fmt = data.validated_data["format"]
        split = None if fmt == "zip" else data.validated_data.get("split")
        token, expires_at = export_link_sign(
            version=version,
            user_id=request.user.pk,
            fmt=fmt,
            split=split,
            max_age=data.validated_data["expires_in"],
        )
        filename = export_filename(version=version, fmt=fmt, split=split)
        path = reverse("api-dataset-export-signed", kwargs={"token": token, "filename": filename})
        body = {
            "url": request.build_absolute_uri(path),
            "expires_at": expires_at,
            "format": fmt,
            "split": split,
            "filename": filename,
        }
        return Response(DatasetExportLinkOutputSerializer(body).data, status=status.HTTP_201_CREATED)


class DatasetExportSignedApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    content_negotiation_class = _QueryFormatNegotiation

    @extend_schema(
        auth=[],
        tags=["dataset-versions"],
        parameters=EXPORT_RESPONSE_HEADERS,
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The export the link names, as GET /api/dataset-versions/{vid}/export/.",
            ),
            (200, "application/x-ndjson"): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/vnd.apache.parquet"): OpenApiTypes.BINARY,
            (200, "application/zip"): OpenApiTypes.BINARY,
            # Label Studio tasks are JSON: declared as what they are, so a client or checker that parses JSON
            # reads a list, not a string.
            (200, "application/json"): LABEL_STUDIO_TASKS_SCHEMA,
            403: OpenApiResponse(
                description="The link expired (code export_link_expired), was changed (export_link_invalid), or "
                "its maker lost access (export_link_revoked)."
            ),
            404: OpenApiResponse(
                description="The version no longer exists, or the file name is not the link's."
            ),
        },
        operation_id="dataset_versions_export_signed",
    )
    def get(self, request, token: str, filename: str):
        link = export_link_open(token=token)
        if filename != export_filename(version=link.version, fmt=link.fmt, split=link.split):
            raise NotFound("This link names another file.")
        return export_response(
            version=link.version, fmt=link.fmt, split=link.split, base_url=request.build_absolute_uri("/")
        )
