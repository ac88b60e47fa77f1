from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from activelearning import selectors, services
from activelearning.models import ModelVersion
from activelearning.priority import BAND_NAMES, BAND_STARTED
from activelearning.strategy_names import STRATEGIES  # not strategies: that one loads scipy
from annotation.api.fields import LabelValueField
from annotation.models import Item, Role
from core.api.base import ProjectScopedApi
from core.api.fields import NULLABLE_NUMBER, FreeFormObjectField, json_field, map_of
from core.api.openapi import error_response
from core.api.serializers import JobRefSerializer
from core.errors import Conflict, NotFound


class ActiveLearningTrainInputSerializer(serializers.Serializer):
    strategy = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=f"One of {', '.join(STRATEGIES)}; default: the latest model's strategy, "
        "else the project's sampling strategy.",
    )
    seed = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1, default=0)


class ActiveLearningTrainApi(ProjectScopedApi):
    required_role = Role.MANAGER

    @extend_schema(
        request=ActiveLearningTrainInputSerializer,
        responses={
            202: JobRefSerializer,
            409: error_response("code train_job_active: job is still running."),
        },
        operation_id="model_train",
    )
    def post(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        data = ActiveLearningTrainInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.model_train_start(
            project=project,
            user=request.user,
            strategy=data.validated_data.get("strategy"),
            seed=data.validated_data["seed"],
        )
        return Response({"job": str(job.pk), "status": job.status}, status=status.HTTP_202_ACCEPTED)


class ActiveLearningCurvePointSerializer(serializers.Serializer):
    n = serializers.IntegerField()
    accuracy = serializers.FloatField()


class ActiveLearningProjectionPointSerializer(serializers.Serializer):
    factor = serializers.IntegerField()
    n = serializers.IntegerField()
    accuracy = serializers.FloatField()


class ActiveLearningProjectionSerializer(serializers.Serializer):
    method = serializers.CharField(help_text="power_law, log_linear or flat")
    a = serializers.FloatField()
    b = serializers.FloatField()
    c = serializers.FloatField()
    points = ActiveLearningProjectionPointSerializer(many=True)


class ActiveLearningStabilitySerializer(serializers.Serializer):
    changed_share = serializers.FloatField(help_text="Share of pool items whose predicted label changed.")
    kappa_vs_previous = serializers.FloatField(help_text="Cohen's κ between this and the previous version.")
    n_items = serializers.IntegerField()


class ActiveLearningModelOutputSerializer(serializers.ModelSerializer):
    job = serializers.UUIDField(source="job_id", read_only=True, allow_null=True)
    learning_curve = ActiveLearningCurvePointSerializer(many=True)
    projection = ActiveLearningProjectionSerializer(
        source="projection_or_none", allow_null=True, help_text="null for the token model (no learning curve)"
    )
    stability = ActiveLearningStabilitySerializer(allow_null=True)
    per_label = json_field(map_of(map_of(NULLABLE_NUMBER)), help_text="recall, precision, support per label")
    label_values = serializers.ListField(child=serializers.CharField())
    overlap = FreeFormObjectField(help_text="What adaptive overlap changed in this run.")
    figures = FreeFormObjectField(
        help_text="The kind's own model figures: for a token model (span projects) model_f1, model_f1_consensus, "
        "model_f1_gold ({span_f1, token_f1, against, n_items, model_version}), n_label_issues, "
        "n_model_disagreements, label_issue_gate ({min_span_f1, min_items, too_weak}: why the model is too weak "
        "to flag label issues, empty when it flags), token_classes."
    )

    class Meta:
        model = ModelVersion
        fields = [
            "version",
            "created_at",
            "job",
            "strategy",
            "extractor",
            "extractor_name",
            "extractor_version",
            "seed",
            "n_train",
            "n_labelled",
            "n_pool",
            "n_folds",
            "cv_accuracy",
            "per_label",
            "learning_curve",
            "projection",
            "stability",
            "summary",
            "worth_labelling",
            "label_values",
            "overlap",
            "figures",
        ]


class ActiveLearningModelApi(ProjectScopedApi):
    required_role = Role.REVIEWER

    @extend_schema(responses=ActiveLearningModelOutputSerializer, operation_id="model_latest")
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        version = selectors.model_version_latest(project=project)
        if version is None:
            raise NotFound(
                "No model has been trained for this project yet; start one with "
                f"POST /api/projects/{project.pk}/model/train/ (it needs 10 labelled items with two different labels)."
            )
        return Response(ActiveLearningModelOutputSerializer(version).data)


class ActiveLearningQueueInputSerializer(serializers.Serializer):
    limit = serializers.IntegerField(required=False, default=50, min_value=1, max_value=selectors.QUEUE_MAX)
    strategy = serializers.CharField(required=False, allow_blank=True)


class ActiveLearningQueueItemSerializer(serializers.ModelSerializer):
    score = serializers.FloatField(allow_null=True, help_text="The strategy's score (null before a model).")
    band = serializers.CharField(help_text="extra, started, batch or pool — see activelearning/priority.py")
    predicted_label = LabelValueField(allow_null=True)

    class Meta:
        model = Item
        fields = [
            "id",
            "external_id",
            "status",
            "priority",
            "band",
            "score",
            "annotation_count",
            "target_annotations",
            "predicted_label",
        ]


class ActiveLearningQueueOutputSerializer(serializers.Serializer):
    strategy = serializers.CharField(help_text="The ranking shown: the stored one, or the previewed one.")
    model_version = serializers.IntegerField(allow_null=True)
    is_preview = serializers.BooleanField(
        help_text="True when the order is a re-ranking, not what next serves."
    )
    results = ActiveLearningQueueItemSerializer(many=True)


def _queue_rows(items: list[Item], field: str, preview: bool) -> list[dict]:
    rows = []
    for item in items:
        prediction = getattr(item, "al_prediction", None)
        band = int(min(item.priority, 3)) if item.priority >= 0 else 0
        rows.append(
            {
                "id": item.pk,
                "external_id": item.external_id,
                "status": item.status,
                "priority": item.priority,
                "band": BAND_NAMES.get(band if not preview or band >= BAND_STARTED else 0, "pool"),
                "score": None if prediction is None else getattr(prediction, field),
                "annotation_count": item.annotation_count,
                "target_annotations": item.target_annotations,
                "predicted_label": item.predicted_label,
            }
        )
    return rows


class ActiveLearningQueueApi(ProjectScopedApi):
    required_role = Role.REVIEWER

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", int, description=f"1 to {selectors.QUEUE_MAX}, default 50"),
            OpenApiParameter(
                "strategy",
                str,
                enum=list(STRATEGIES),
                description="Preview another strategy's order (re-ranked from stored scores).",
            ),
        ],
        responses={
            200: ActiveLearningQueueOutputSerializer,
            409: error_response("A strategy preview was asked for before any model was trained."),
        },
        operation_id="model_queue",
    )
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        data = ActiveLearningQueueInputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        requested = data.validated_data.get("strategy")
        if requested is not None:
            services.strategy_check(requested)
        version = selectors.model_version_latest(project=project)
        stored = version.strategy if version is not None else "cold_start"
        preview = requested is not None and requested != stored
        if preview and version is None:
            raise Conflict(
                "No model yet, so there are no scores to re-rank; the queue follows the cold-start order. "
                f"Train one with POST /api/projects/{project.pk}/model/train/.",
                field="strategy",
            )
        items = selectors.queue_preview(
            project=project, limit=data.validated_data["limit"], strategy=requested if preview else None
        )
        body = {
            "strategy": requested if preview else stored,
            "model_version": None if version is None else version.version,
            "is_preview": preview,
            "results": _queue_rows(items, requested if preview else "score", preview),
        }
        return Response(ActiveLearningQueueOutputSerializer(body).data)


_OBJECT_LIST = {"type": "array", "items": {"type": "object", "additionalProperties": True}}


class ActiveLearningTokenIssueSerializer(serializers.Serializer):
    item = serializers.IntegerField(source="item.id")
    external_id = serializers.CharField(source="item.external_id")
    label_quality = serializers.FloatField(
        allow_null=True, help_text="cleanlab's score of the item: its worst token's probability of its label."
    )
    reason = serializers.CharField(help_text="The flagged tokens in words, worst first.")
    flagged_tokens = json_field(
        _OBJECT_LIST,
        help_text="{token, index, given, predicted, probability_of_given} per flagged token, worst first.",
    )
    predicted_spans = json_field(
        _OBJECT_LIST,
        help_text="The model's out-of-sample spans {start, end, label}.",
    )
    checked_spans = json_field(
        {**_OBJECT_LIST, "nullable": True},
        allow_null=True,
        help_text="The item's reference spans (final label, else consensus) the model was checked against.",
    )


class ActiveLearningTokenIssuesInputSerializer(serializers.Serializer):
    limit = serializers.IntegerField(required=False, default=50, min_value=1, max_value=selectors.QUEUE_MAX)


class ActiveLearningTokenIssuesOutputSerializer(serializers.Serializer):
    results = ActiveLearningTokenIssueSerializer(many=True)


class ActiveLearningTokenIssuesApi(ProjectScopedApi):
    required_role = Role.REVIEWER

    @extend_schema(
        parameters=[OpenApiParameter("limit", int, description=f"1 to {selectors.QUEUE_MAX}, default 50")],
        responses=ActiveLearningTokenIssuesOutputSerializer,
        operation_id="model_token_issues",
    )
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        data = ActiveLearningTokenIssuesInputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        rows = selectors.token_issues_for_project(project=project, limit=data.validated_data["limit"])
        return Response(ActiveLearningTokenIssuesOutputSerializer({"results": rows}).data)
