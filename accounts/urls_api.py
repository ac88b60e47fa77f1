from django.urls import path

from accounts import api

urlpatterns = [
    path("projects/<int:pid>/invites/", api.InviteListCreateApi.as_view(), name="api-invites"),
    path("projects/<int:pid>/accounts/", api.AccountCreateApi.as_view(), name="api-member-accounts"),
    path("projects/<int:pid>/members/<int:uid>/", api.MemberDetailApi.as_view(), name="api-member"),
    path("projects/<int:pid>/member-events/", api.MemberEventListApi.as_view(), name="api-member-events"),
    path("users/<int:uid>/deactivate/", api.UserDeactivateApi.as_view(), name="api-user-deactivate"),
]
