from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from annotation import selectors
from annotation.api import serializers as s
from annotation.api.labelling_bodies import annotation_body, next_body, recent_body
from annotation.services import queue
from annotation.services.annotations import AnnotationInput, annotation_submit
from core.api.base import ProjectScopedApi
from core.api.openapi import error_response
from core.errors import Conflict
from kinds.registry import kind_for


class NextApi(ProjectScopedApi):
    @extend_schema(
        responses={
            200: s.NextOutputSerializer,
            204: OpenApiResponse(description="Nothing left for you"),
            409: error_response(
                "code guideline_ack_required: acknowledge guideline_version first "
                "(POST .../guidelines/acknowledge/), then ask again."
            ),
        },
        operation_id="next_item",
    )
    def get(self, request, pid: int):
        project, membership = self.project_for(request, pid)
        # The newest version came with the access; the guideline row is read only to explain a refusal.
        latest = membership.latest_guideline_version if membership is not None else None
        if (
            membership is not None
            and latest is not None
            and membership.acknowledged_guideline_version < latest
        ):
            guideline = selectors.guideline_latest(project=project)
            assert guideline is not None, "the membership query just found this project's newest guideline"
            raise Conflict(
                f"The guideline changed (version {guideline.version}: {guideline.change_note}). "
                "Read and acknowledge it before the next item.",
                code="guideline_ack_required",
                extra={"guideline_version": guideline.version},
            )
        assignment = queue.assignment_next_for_annotator(project=project, user=request.user)
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        suggestion = selectors.suggestion_for_annotator(project=project, item=assignment.item)
        return Response(next_body(assignment, suggestion))


class SkipApi(ProjectScopedApi):
    @extend_schema(request=None, responses={204: OpenApiResponse(description="Skipped")})
    def post(self, request, pid: int, aid: int):
        project, _ = self.project_for(request, pid)
        queue.assignment_skip(project=project, user=request.user, assignment_id=aid)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProgressApi(ProjectScopedApi):
    @extend_schema(responses=s.ProgressOutputSerializer)
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        return Response(selectors.progress_for_annotator(project=project, user=request.user))


class RecentOwnApi(ProjectScopedApi):
    @extend_schema(
        responses=s.RecentOwnAnnotationOutputSerializer(many=True), operation_id="my_recent_annotations"
    )
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        recent = selectors.annotation_recent_for_annotator(project=project, user=request.user)
        value_schema = kind_for(project).value_schema
        return Response([recent_body(annotation, value_schema) for annotation in recent])


class AnnotationCreateApi(ProjectScopedApi):
    @extend_schema(
        request=s.AnnotationInputSerializer,
        responses={
            201: s.AnnotationOutputSerializer,
            200: s.AnnotationOutputSerializer,
            409: error_response("Not stored: code item_full, item_discarded or item_already_seen."),
        },
    )
    def post(self, request, pid: int):
        project, membership = self.project_for(request, pid)
        value_schema = kind_for(project).value_schema
        data = s.annotation_input_serializer(value_schema.input_serializer)(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        labels = value_schema.value_from_input(values)
        annotation, created = annotation_submit(
            project=project,
            user=request.user,
            data=AnnotationInput(
                item_id=values["item"],
                labels=labels,
                unsure=values["unsure"],
                unusable=values["unusable"],
                comment=values["comment"],
                lead_time_ms=values.get("lead_time_ms"),
                client_id=values.get("client_id"),
            ),
            membership=membership,
        )
        return Response(
            annotation_body(annotation, value_schema),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
