from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation import selectors
from annotation.api import serializers as s
from annotation.models import Role
from annotation.services import projects as project_services
from annotation.services.item_state import label_colour_set
from annotation.services.projects import LabelSpec
from core import permissions
from core.api.base import ProjectScopedApi
from core.api.openapi import error_response
from core.api.pagination import StandardPagination


class ProjectListCreateApi(APIView):
    permission_classes = [IsAuthenticated]
    # Read by drf-spectacular so the schema documents the {count, next, previous, results} envelope of GET;
    # POST answers one object and stays unwrapped.
    pagination_class = StandardPagination

    @extend_schema(responses=s.ProjectListItemSerializer(many=True), operation_id="projects_list")
    def get(self, request):
        memberships = selectors.project_list_for_user(user=request.user)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(memberships, request, view=self)
        return paginator.get_paginated_response(s.ProjectListItemSerializer(page, many=True).data)

    @extend_schema(
        request=s.ProjectCreateInputSerializer,
        responses={
            201: s.ProjectOutputSerializer,
            403: error_response("Not site staff and not in the “project creators” group."),
        },
    )
    def post(self, request):
        permissions.require_project_creator(user=request.user)
        data = s.ProjectCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        labels = [LabelSpec(**label) for label in fields.pop("labels")]
        project = project_services.project_create(user=request.user, labels=labels, **fields)
        context = {
            "role": Role.MANAGER,
            "counts": selectors.project_status_counts(project=project),
            "guideline_version": 1,
        }
        return Response(
            s.ProjectOutputSerializer(project, context=context).data, status=status.HTTP_201_CREATED
        )


class ProjectDetailApi(ProjectScopedApi):
    @extend_schema(responses=s.ProjectOutputSerializer)
    def get(self, request, pid: int):
        project, membership = self.project_for(request, pid)
        return Response(self._output(project, membership))

    @extend_schema(
        request=s.ProjectUpdateInputSerializer,
        responses={200: s.ProjectOutputSerializer},
        description="Change the project's settings (manager only); only the fields sent change.",
    )
    def patch(self, request, pid: int):
        project, membership = self.project_for(request, pid, Role.MANAGER)
        data = s.ProjectUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        project = project_services.project_update(project=project, **data.validated_data)
        return Response(self._output(project, membership))

    @staticmethod
    def _output(project, membership) -> dict:
        guideline = selectors.guideline_latest(project=project)
        context = {
            "role": membership.role if membership else Role.MANAGER,
            "counts": selectors.project_status_counts(project=project),
            "guideline_version": guideline.version if guideline else None,
        }
        return s.ProjectOutputSerializer(project, context=context).data


class LabelUpdateApi(ProjectScopedApi):
    required_role = Role.MANAGER

    @extend_schema(
        request=s.LabelUpdateInputSerializer,
        responses={200: s.LabelSerializer},
        description="Change an active label's colour (manager only). The label is named by its value.",
        operation_id="labels_partial_update",
    )
    def patch(self, request, pid: int, value: str):
        project, _ = self.project_for(request, pid)
        data = s.LabelUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        label = label_colour_set(project=project, value=value, colour=data.validated_data["colour"])
        return Response(s.LabelSerializer(label).data)


class MembershipListCreateApi(ProjectScopedApi):
    required_role = Role.MANAGER
    # Read by drf-spectacular so the schema documents the {count, next, previous, results} envelope.
    pagination_class = StandardPagination

    @extend_schema(responses=s.MembershipOutputSerializer(many=True), operation_id="members_list")
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(selectors.membership_list(project=project), request, view=self)
        return paginator.get_paginated_response(s.MembershipOutputSerializer(page, many=True).data)

    @extend_schema(request=s.MembershipInputSerializer, responses={201: s.MembershipOutputSerializer})
    def post(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        data = s.MembershipInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = project_services.membership_set(
            project=project, user_id=data.validated_data["user"], role=data.validated_data["role"]
        )
        return Response(s.MembershipOutputSerializer(membership).data, status=status.HTTP_201_CREATED)


class GuidelineListCreateApi(ProjectScopedApi):
    # Read by drf-spectacular so the schema documents the {count, next, previous, results} envelope.
    pagination_class = StandardPagination

    @extend_schema(responses=s.GuidelineOutputSerializer(many=True), operation_id="guidelines_list")
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(selectors.guideline_list(project=project), request, view=self)
        return paginator.get_paginated_response(s.GuidelineOutputSerializer(page, many=True).data)

    @extend_schema(request=s.GuidelineInputSerializer, responses={201: s.GuidelineOutputSerializer})
    def post(self, request, pid: int):
        project, _ = self.project_for(request, pid, Role.MANAGER)
        data = s.GuidelineInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        guideline = project_services.guideline_create(
            project=project, author=request.user, **data.validated_data
        )
        return Response(s.GuidelineOutputSerializer(guideline).data, status=status.HTTP_201_CREATED)


class GuidelineAcknowledgeApi(ProjectScopedApi):
    @extend_schema(
        request=s.GuidelineAckInputSerializer,
        responses={
            200: s.GuidelineAckInputSerializer,
            409: error_response("code stale_guideline: the version is not the current one."),
        },
    )
    def post(self, request, pid: int):
        project, membership = self.project_for(request, pid)
        data = s.GuidelineAckInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if membership is not None:
            project_services.guideline_acknowledge(
                membership=membership, version=data.validated_data["version"]
            )
        return Response({"version": data.validated_data["version"]})


class UserListCreateApi(APIView):
    # Read by drf-spectacular so the schema documents the {count, next, previous, results} envelope of GET.
    pagination_class = StandardPagination

    def get_permissions(self):
        # Creating accounts is for staff; looking them up (to add members by name) for any project's manager.
        request = getattr(self, "request", None)
        return [IsAdminUser()] if request is None or request.method == "POST" else [IsAuthenticated()]

    @extend_schema(
        parameters=[OpenApiParameter("search", str, description="Part of the username (case-insensitive).")],
        responses=s.UserOutputSerializer(many=True),
        operation_id="users_list",
        description="Active users by username, to add members by name (POST /api/projects/{pid}/members/ "
        "takes the id). Staff and managers of at least one project only.",
    )
    def get(self, request):
        permissions.require_member_manager(user=request.user)
        search = request.query_params.get("search", "").strip()
        paginator = StandardPagination()
        page = paginator.paginate_queryset(selectors.user_search(search=search), request, view=self)
        return paginator.get_paginated_response(s.UserOutputSerializer(page, many=True).data)

    @extend_schema(request=s.UserCreateInputSerializer, responses={201: s.UserOutputSerializer})
    def post(self, request):
        data = s.UserCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            user = project_services.user_create(**data.validated_data)
        return Response(s.UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)
