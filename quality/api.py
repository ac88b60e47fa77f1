from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from annotation.models import Project, Role
from core.api.base import ProjectScopedApi
from core.api.fields import NULLABLE_NUMBER, StringListField, json_field, map_of
from core.api.openapi import error_response
from core.api.pagination import StandardPagination
from core.api.serializers import JobRefSerializer
from core.errors import NotFound
from quality import selectors, services
from quality.models import AnnotatorQuality, QualityReport


def _report_or_404(project: Project) -> QualityReport:
    report = selectors.quality_report_latest(project=project)
    if report is None:
        raise NotFound(
            f"No quality report yet for this project; start one with POST /api/projects/{project.pk}/quality-runs/."
        )
    return report


class QualityRunCreateInputSerializer(serializers.Serializer):
    n_boot = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=services.runs.MAX_BOOT_REQUEST,
        help_text="Bootstrap resamples for the confidence intervals (default: 200, fewer for very large projects).",
    )


class QualityRunCreateApi(ProjectScopedApi):
    required_role = Role.REVIEWER

    @extend_schema(
        request=QualityRunCreateInputSerializer,
        responses={
            202: JobRefSerializer,
            409: error_response("code quality_run_active: job is still running."),
        },
    )
    def post(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        data = QualityRunCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.quality_run_create(
            project=project, user=request.user, n_boot=data.validated_data.get("n_boot")
        )
        return Response({"job": str(job.pk), "status": job.status}, status=status.HTTP_202_ACCEPTED)


# A metrics row: figures (null when undefined) and their 95 % intervals as [low, high].
# An array names its items: a client generator cannot build an array type without them. Kind figures hold
# intervals ([low, high]), rows (objects) and names.
_KIND_ITEM = {"oneOf": [NULLABLE_NUMBER, {"type": "string"}, {"type": "object"}]}
_KIND_FIGURE = {
    "oneOf": [NULLABLE_NUMBER, {"type": "string"}, {"type": "object"}, {"type": "array", "items": _KIND_ITEM}]
}


def _with_kind_figures(data: dict) -> dict:
    """The kind's figures also as top-level fields (the contract names them there); a shared field wins."""
    for name, value in (data.get("kind_figures") or {}).items():
        data.setdefault(name, value)
    return data


_METRICS_ROW = map_of(
    {"oneOf": [NULLABLE_NUMBER, {"type": "array", "items": NULLABLE_NUMBER, "minItems": 2, "maxItems": 2}]},
    "metric → value, or [low, high] for a *_ci interval",
)


class QualityPairwiseSerializer(serializers.Serializer):
    user_a = serializers.IntegerField()
    user_b = serializers.IntegerField()
    n_overlap = serializers.IntegerField()
    observed_agreement = serializers.FloatField(allow_null=True)
    kappa = serializers.FloatField(allow_null=True)


class QualityTagErrorSerializer(serializers.Serializer):
    tag = serializers.CharField()
    n_items = serializers.IntegerField()
    share_of_data = serializers.FloatField(allow_null=True)
    share_of_errors = serializers.FloatField(allow_null=True)
    model_error_rate = serializers.FloatField(allow_null=True)
    model_accuracy = serializers.FloatField(allow_null=True)
    hlp = serializers.FloatField(allow_null=True)
    gap = serializers.FloatField(allow_null=True, help_text="HLP minus model accuracy, in points")
    potential_gain = serializers.FloatField(allow_null=True)
    reading = serializers.CharField()


class QualityAccuracyRowSerializer(serializers.Serializer):
    reference = serializers.CharField(
        help_text='What HLP and the model are scored against: "consensus" or "gold"'
    )
    n_items = serializers.IntegerField(help_text="Items the judgements of this row are on")
    n_judgements = serializers.IntegerField(help_text="Annotations scored, the same for HLP and the model")
    hlp = serializers.FloatField(allow_null=True)
    hlp_ci = serializers.ListField(child=serializers.FloatField(allow_null=True), allow_null=True)
    model = serializers.CharField(help_text='The model scored ("base model v3"); "" without one')
    model_accuracy = serializers.FloatField(allow_null=True)
    model_accuracy_ci = serializers.ListField(child=serializers.FloatField(allow_null=True), allow_null=True)
    hlp_all = serializers.FloatField(
        allow_null=True, help_text="HLP on every judgement the reference can check"
    )
    hlp_all_n_items = serializers.IntegerField(help_text="Items hlp_all is measured on")
    with_predictions_only = serializers.BooleanField(
        help_text="HLP is restricted to the items with a model prediction so both figures share their items"
    )


class QualityReportOutputSerializer(serializers.ModelSerializer):
    job = serializers.UUIDField(source="job_id", read_only=True)
    per_label = json_field(map_of(_METRICS_ROW, "label value → metrics"))
    per_tag = json_field(map_of(_METRICS_ROW, "tag → metrics"))
    per_guideline_version = json_field(map_of(_METRICS_ROW, "guideline version → metrics"))
    pairwise = json_field(QualityPairwiseSerializer(many=True))
    error_analysis = json_field(QualityTagErrorSerializer(many=True))
    explanations = StringListField()
    accuracy_by_reference = json_field(QualityAccuracyRowSerializer(many=True))
    model_accuracy_reference = serializers.SerializerMethodField(
        help_text='What model_accuracy is measured against ("gold" or "consensus"); null without it'
    )
    model_accuracy_n_items = serializers.SerializerMethodField(
        help_text="Items model_accuracy is measured on"
    )
    model_accuracy_model = serializers.SerializerMethodField(help_text="The model model_accuracy scores")
    kind_figures = json_field(
        map_of(_KIND_FIGURE, "figure name → value"),
        help_text="Figures only the project's task kind has (e.g. mean_pairwise_span_f1 for text_spans); each "
        "is also served as a top-level field of the report",
    )

    class Meta:
        model = QualityReport
        fields = [
            "id",
            "job",
            "created_at",
            "consensus_method",
            "n_items",
            "n_annotations",
            "n_annotators",
            "n_boot",
            "krippendorff_alpha",
            "krippendorff_alpha_ci_low",
            "krippendorff_alpha_ci_high",
            "fleiss_kappa",
            "fleiss_kappa_ci_low",
            "fleiss_kappa_ci_high",
            "mean_pairwise_cohen_kappa",
            "mean_pairwise_cohen_kappa_ci_low",
            "mean_pairwise_cohen_kappa_ci_high",
            "weighted_pairwise_cohen_kappa",
            "percent_agreement",
            "percent_agreement_ci_low",
            "percent_agreement_ci_high",
            "hlp",
            "hlp_ci_low",
            "hlp_ci_high",
            "hlp_gold",
            "hlp_gold_ci_low",
            "hlp_gold_ci_high",
            "model_accuracy",
            "flag_model",
            "n_issues",
            "n_routed_to_review",
            "per_label",
            "per_tag",
            "per_guideline_version",
            "pairwise",
            "error_analysis",
            "explanations",
            "accuracy_by_reference",
            "model_accuracy_reference",
            "model_accuracy_n_items",
            "model_accuracy_model",
            "kind_figures",
        ]

    def to_representation(self, instance):
        return _with_kind_figures(super().to_representation(instance))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_model_accuracy_reference(self, report: QualityReport) -> str | None:
        row = selectors.quality_report_model_accuracy_row(report=report)
        return None if row is None else row["reference"]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_model_accuracy_n_items(self, report: QualityReport) -> int | None:
        row = selectors.quality_report_model_accuracy_row(report=report)
        return None if row is None else row["n_items"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_model_accuracy_model(self, report: QualityReport) -> str | None:
        row = selectors.quality_report_model_accuracy_row(report=report)
        return None if row is None else row["model"]


class QualityReportApi(ProjectScopedApi):
    required_role = Role.REVIEWER

    @extend_schema(responses=QualityReportOutputSerializer, operation_id="quality_report_latest")
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        return Response(QualityReportOutputSerializer(_report_or_404(project)).data)


class QualityAnnotatorOutputSerializer(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id", read_only=True)
    kind_figures = json_field(
        map_of(_KIND_FIGURE, "figure name → value"),
        help_text="The annotator's figures only the project's task kind has (e.g. span_f1 for text_spans); each "
        "is also served as a top-level field",
    )
    username = serializers.CharField(source="user.username", read_only=True)
    confusion = json_field(
        {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
        read_only=True,
        help_text="Rows: consensus label, columns: this annotator's label (label order as the project).",
    )

    class Meta:
        model = AnnotatorQuality
        fields = [
            "user",
            "username",
            "n_annotations",
            "agreement_with_consensus",
            "quality_score",
            "gold_accuracy",
            "n_gold",
            "agreement_with_others",
            "n_agreement_with_consensus",
            "n_agreement_with_others",
            "kappa_vs_others",
            "median_lead_time_s",
            "confusion",
            "kind_figures",
        ]

    def to_representation(self, instance):
        return _with_kind_figures(super().to_representation(instance))


class QualityAnnotatorListApi(ProjectScopedApi):
    required_role = Role.REVIEWER
    # Read by drf-spectacular so the schema documents the {count, next, previous, results} envelope.
    pagination_class = StandardPagination

    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses=QualityAnnotatorOutputSerializer(many=True),
        operation_id="quality_annotators_list",
    )
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        report = _report_or_404(project)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(
            selectors.annotator_quality_list(report=report), request, view=self
        )
        return paginator.get_paginated_response(QualityAnnotatorOutputSerializer(page, many=True).data)
