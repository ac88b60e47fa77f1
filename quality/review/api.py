"""REST for review: decisions (one and bulk), the review queue, the reviewer's item detail, label-schema changes,
label examples and the caller's own feedback. Annotators get 403 on everything but their feedback."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from annotation.models import Role
from annotation.selectors import label_mapping_for
from core.api.base import ProjectScopedApi
from core.api.openapi import error_response
from core.api.pagination import StandardPagination
from core.errors import ValidationFailed
from kinds.registry import kind_for
from quality.models import LabelSchemaChange, ReviewAction
from quality.review import feedback as feedback_selectors
from quality.review import selectors, services
from quality.review.selectors import NOBODY_LEFT_CODE
from quality.review.serializers import (
    LabelAddInputSerializer,
    LabelChangeOutputSerializer,
    LabelChangeResultSerializer,
    LabelExampleInputSerializer,
    LabelExampleOutputSerializer,
    LabelMergeInputSerializer,
    LabelRenameInputSerializer,
    ReviewAnnotationSerializer,
    ReviewBulkInputSerializer,
    ReviewBulkOutputSerializer,
    ReviewDecisionInputSerializer,
    ReviewDecisionOutputSerializer,
    ReviewFeedbackRowSerializer,
    ReviewFeedbackSerializer,
    ReviewItemDetailSerializer,
    ReviewItemQualitySerializer,
    ReviewQueueFilterSerializer,
    ReviewQueueItemSerializer,
    history_rows,
    item_fields,
    review_answer_input,
)
from quality.review.services.decisions import MAX_BULK


class ReviewDecisionCreateApi(ProjectScopedApi):
    required_role = Role.REVIEWER

    @extend_schema(
        request=ReviewDecisionInputSerializer,
        responses={
            201: ReviewDecisionOutputSerializer,
            409: error_response(f"code {NOBODY_LEFT_CODE}: a relabel that no annotator is left to take."),
        },
        operation_id="reviews_create",
    )
    def post(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        data = ReviewDecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = review_answer_input(value_schema=kind_for(project).value_schema, data=request.data)
        decision = services.review_decide(
            project=project,
            reviewer=request.user,
            item_id=data.validated_data["item"],
            action=data.validated_data["action"],
            label=data.validated_data.get("label"),
            reason=data.validated_data["reason"],
            answer=answer,
        )
        decision.item.refresh_from_db(fields=["status", "final_label"])
        return Response(ReviewDecisionOutputSerializer(decision).data, status=status.HTTP_201_CREATED)


class ReviewBulkDecideApi(ProjectScopedApi):
    required_role = Role.REVIEWER

    @extend_schema(
        request=ReviewBulkInputSerializer,
        responses={
            200: ReviewBulkOutputSerializer,
            201: ReviewBulkOutputSerializer,
            409: error_response(
                f"code {NOBODY_LEFT_CODE}: a relabel that no annotator is left to take on any selected item "
                "(refused lists them)."
            ),
        },
        operation_id="reviews_bulk",
    )
    def post(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        data = ReviewBulkInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if "items" in values:
            item_ids = list(dict.fromkeys(values["items"]))
        else:
            filters = selectors.queue_filters_clean(**values["filter"])
            item_ids = selectors.review_queue_ids(project=project, filters=filters, limit=MAX_BULK + 1)
            if len(item_ids) > MAX_BULK:
                raise ValidationFailed(
                    f"More than {MAX_BULK} queue items match; narrow the filter.", field="filter"
                )
        body = {"action": values["action"], "count": len(item_ids), "items": item_ids}
        if not values["confirm"]:
            refused = (
                selectors.relabel_refusals(project=project, item_ids=item_ids)
                if values["action"] == ReviewAction.RELABEL
                else []
            )
            return Response({"confirmed": False, **body, "refused": [r.as_row() for r in refused]})
        outcome = services.review_bulk_decide(
            project=project,
            reviewer=request.user,
            item_ids=item_ids,
            action=values["action"],
            label=values.get("label"),
            reason=values["reason"],
        )
        return Response(
            {
                "confirmed": True,
                **body,
                "decisions": [d.pk for d in outcome.decisions],
                "refused": [r.as_row() for r in outcome.refused],
            },
            status=status.HTTP_201_CREATED,
        )


class ReviewQueueApi(ProjectScopedApi):
    required_role = Role.REVIEWER
    # Read by drf-spectacular so the schema documents the {count, next, previous, results} envelope.
    pagination_class = StandardPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("reason", str, enum=list(selectors.REVIEW_REASONS)),
            OpenApiParameter("label", str),
            OpenApiParameter("tag", str),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=ReviewQueueItemSerializer(many=True),
        operation_id="review_queue_list",
    )
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        params = ReviewQueueFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        queryset = selectors.review_queue(
            project=project, filters=selectors.queue_filters_clean(**params.validated_data)
        )
        paginator = StandardPagination()
        page = paginator.paginate_queryset(selectors.review_queue_page(queryset=queryset), request, view=self)
        mapping = label_mapping_for(project=project)
        return paginator.get_paginated_response(
            ReviewQueueItemSerializer(
                page,
                many=True,
                context={"label_mapping": mapping, "project": project},
            ).data
        )


class ReviewItemDetailApi(ProjectScopedApi):
    required_role = Role.REVIEWER

    @extend_schema(responses=ReviewItemDetailSerializer, operation_id="items_retrieve_for_review")
    def get(self, request, pid: int, item_id: int):
        project, _ = self.project_for(request, pid)
        review = selectors.item_review(project=project, item_id=item_id)
        value_schema = kind_for(project).value_schema
        body = {
            "item": item_fields(review.item),
            "reasons": review.reasons,
            "annotations": ReviewAnnotationSerializer(
                review.annotations, many=True, context={"value_schema": value_schema}
            ).data,
            "decisions": ReviewDecisionOutputSerializer(review.decisions, many=True).data,
            "quality": ReviewItemQualitySerializer(review.quality).data if review.quality else None,
            "near_duplicates": review.near_duplicates,
            "examples_of": [example.label.value for example in review.examples],
            "history": history_rows(review.history, value_schema=value_schema),
        }
        # A kind with structured answers also shows the item's consensus in its own shape (consensus_boxes ...).
        consensus_fields = getattr(value_schema, "consensus_fields", None)
        if consensus_fields is not None:
            body.update(consensus_fields(review.item.consensus_label))
        return Response(body)


class LabelChangeListApi(ProjectScopedApi):
    required_role = Role.REVIEWER
    # Read by drf-spectacular so the schema documents the {count, next, previous, results} envelope.
    pagination_class = StandardPagination

    @extend_schema(responses=LabelChangeOutputSerializer(many=True), operation_id="label_changes_list")
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(selectors.label_changes(project=project), request, view=self)
        return paginator.get_paginated_response(LabelChangeOutputSerializer(page, many=True).data)


def _change_response(change: LabelSchemaChange, message: str) -> Response:
    return Response(
        {"change": LabelChangeOutputSerializer(change).data, "message": message},
        status=status.HTTP_201_CREATED,
    )


class LabelAddApi(ProjectScopedApi):
    required_role = Role.MANAGER

    @extend_schema(
        request=LabelAddInputSerializer,
        responses={201: LabelChangeResultSerializer},
        operation_id="label_changes_add",
    )
    def post(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        data = LabelAddInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = services.label_add(project=project, author=request.user, **data.validated_data)
        return _change_response(change, f"Label {change.to_label!r} added.")


class LabelRenameApi(ProjectScopedApi):
    required_role = Role.MANAGER

    @extend_schema(
        request=LabelRenameInputSerializer,
        responses={201: LabelChangeResultSerializer},
        operation_id="label_changes_rename",
    )
    def post(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        data = LabelRenameInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _change_response(
            *services.label_rename(project=project, author=request.user, **data.validated_data)
        )


class LabelMergeApi(ProjectScopedApi):
    required_role = Role.MANAGER

    @extend_schema(
        request=LabelMergeInputSerializer,
        responses={201: LabelChangeResultSerializer},
        operation_id="label_changes_merge",
    )
    def post(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        data = LabelMergeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _change_response(
            *services.label_merge(project=project, author=request.user, **data.validated_data)
        )


class LabelExampleCreateApi(ProjectScopedApi):
    required_role = Role.REVIEWER

    @extend_schema(
        request=LabelExampleInputSerializer,
        responses={201: LabelExampleOutputSerializer, 200: LabelExampleOutputSerializer},
        operation_id="label_examples_create",
    )
    def post(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        data = LabelExampleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        example, created = services.label_example_add(
            project=project,
            user=request.user,
            item_id=data.validated_data["item"],
            label=data.validated_data["label"],
            note=data.validated_data["note"],
        )
        return Response(
            LabelExampleOutputSerializer(example).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class LabelExampleDeleteApi(ProjectScopedApi):
    required_role = Role.REVIEWER

    @extend_schema(responses={204: None}, operation_id="label_examples_destroy")
    def delete(self, request, pid: int, example_id: int):
        project, _ = self.project_for(request, pid)
        services.label_example_remove(project=project, example_id=example_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReviewFeedbackApi(ProjectScopedApi):
    required_role = Role.ANNOTATOR

    @extend_schema(responses=ReviewFeedbackSerializer, operation_id="my_feedback_retrieve")
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        fb = feedback_selectors.annotator_feedback(project=project, user=request.user)
        quality = fb.quality
        return Response(
            {
                "report": fb.report.pk if fb.report else None,
                "n_annotations": quality.n_annotations if quality else None,
                "agreement_with_consensus": quality.agreement_with_consensus if quality else None,
                "gold_accuracy": quality.gold_accuracy if quality else None,
                "n_gold": quality.n_gold if quality else None,
                "n_reviewed": fb.n_reviewed,
                "n_disagreed": fb.n_disagreed,
                "agreement_after_review": fb.agreement_after_review,
                "disagreements": ReviewFeedbackRowSerializer(fb.disagreements, many=True).data,
            }
        )
