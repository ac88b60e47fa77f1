from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.links import invite_url, set_password_url
from accounts.models import Invite, MemberEvent
from annotation.models import Role
from core.api.base import ProjectScopedApi
from core.api.openapi import error_response
from core.api.pagination import StandardPagination
from core.errors import NotFound


class InviteCreateInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, default=Role.ANNOTATOR)
    # no default: the schema would declare "" as an e-mail; left out means an invite by link
    email = serializers.EmailField(required=False, allow_blank=True)


class InviteOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invite
        fields = ["id", "role", "email", "created_at", "expires_at"]


class InviteCreatedOutputSerializer(InviteOutputSerializer):
    url = serializers.CharField(help_text="The one-time link; shown only in this answer.")

    class Meta(InviteOutputSerializer.Meta):
        fields = [*InviteOutputSerializer.Meta.fields, "url"]


class AccountCreateInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.ANNOTATOR)


class MemberAccountOutputSerializer(serializers.Serializer):
    user = serializers.IntegerField(source="pk")
    username = serializers.CharField()
    email = serializers.CharField()


class MemberRoleInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class MemberRoleOutputSerializer(serializers.Serializer):
    user = serializers.IntegerField(source="user_id")
    username = serializers.CharField(source="user.username")
    role = serializers.CharField()


class MemberEventOutputSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None)

    class Meta:
        model = MemberEvent
        fields = ["id", "kind", "actor", "subject", "subject_name", "detail", "created_at"]


class UserDeactivateOutputSerializer(serializers.Serializer):
    user = serializers.IntegerField(source="pk")
    username = serializers.CharField()
    is_active = serializers.BooleanField()


class InviteListCreateApi(ProjectScopedApi):
    required_role = Role.MANAGER
    pagination_class = StandardPagination

    @extend_schema(responses=InviteOutputSerializer(many=True), operation_id="invites_list")
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        paginator = StandardPagination()
        rows = selectors.invites_open_for_project(project=project, now=timezone.now())
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(InviteOutputSerializer(page, many=True).data)

    @extend_schema(
        request=InviteCreateInputSerializer,
        responses={201: InviteCreatedOutputSerializer},
        description="Invite by link (no e-mail) or by e-mail (the link is also sent there). The link works once, "
        "until expires_at.",
    )
    def post(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        data = InviteCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invite, token = services.invite_create(
            project=project,
            actor=request.user,
            role=data.validated_data["role"],
            email=data.validated_data.get("email", ""),
            accept_url_for=lambda t: invite_url(request, t),
        )
        body = {**InviteOutputSerializer(invite).data, "url": invite_url(request, token)}
        return Response(body, status=status.HTTP_201_CREATED)


class AccountCreateApi(ProjectScopedApi):
    required_role = Role.MANAGER

    @extend_schema(
        request=AccountCreateInputSerializer,
        responses={201: MemberAccountOutputSerializer},
        description="Create an account (no password) that joins this project; a link to choose a password is "
        "e-mailed to it.",
    )
    def post(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        data = AccountCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.account_create(
            project=project,
            actor=request.user,
            set_password_url_for=lambda u: set_password_url(request, u),
            **data.validated_data,
        )
        return Response(MemberAccountOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(ProjectScopedApi):
    required_role = Role.MANAGER

    def _membership(self, request, pid: int, uid: int):
        project, _ = self.project_for(request, pid)
        membership = selectors.membership_in_project(project=project, user_id=uid)
        if membership is None:
            raise NotFound("No member with that id in this project.")
        return membership

    @extend_schema(
        request=MemberRoleInputSerializer,
        responses={200: MemberRoleOutputSerializer, 400: error_response("role: e.g. the last manager.")},
        operation_id="members_role_update",
    )
    def patch(self, request, pid: int, uid: int):
        membership = self._membership(request, pid, uid)
        data = MemberRoleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.member_role_change(
            actor=request.user, membership=membership, role=data.validated_data["role"]
        )
        return Response(MemberRoleOutputSerializer(membership).data)

    @extend_schema(
        responses={204: None, 400: error_response("user: the project's last manager.")},
        operation_id="members_remove",
    )
    def delete(self, request, pid: int, uid: int):
        membership = self._membership(request, pid, uid)
        services.member_remove(actor=request.user, membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberEventListApi(ProjectScopedApi):
    required_role = Role.MANAGER
    pagination_class = StandardPagination

    @extend_schema(responses=MemberEventOutputSerializer(many=True), operation_id="member_events_list")
    def get(self, request, pid: int):
        project, _ = self.project_for(request, pid)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(
            selectors.member_events_for_project(project=project), request, view=self
        )
        return paginator.get_paginated_response(MemberEventOutputSerializer(page, many=True).data)


class UserDeactivateApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        request=None, responses={200: UserDeactivateOutputSerializer}, operation_id="users_deactivate"
    )
    def post(self, request, uid: int):
        user = get_user_model().objects.filter(pk=uid).first()
        if user is None:
            raise NotFound("No user with that id.")
        user = services.user_deactivate(actor=request.user, user=user)
        return Response(UserDeactivateOutputSerializer(user).data)
