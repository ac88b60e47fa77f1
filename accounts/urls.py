from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from accounts.password_reset import ThrottledPasswordResetView

urlpatterns = [
    path("projects/<int:pid>/members/", views.members, name="project-members"),
    path("projects/<int:pid>/members/invite/", views.invite, name="member-invite"),
    path("projects/<int:pid>/members/account/", views.account_create, name="member-account-create"),
    path("projects/<int:pid>/members/existing/", views.member_add, name="member-add-existing"),
    path("projects/<int:pid>/members/<int:uid>/role/", views.member_role, name="member-role"),
    path("projects/<int:pid>/members/<int:uid>/remove/", views.member_remove, name="member-remove"),
    path("projects/<int:pid>/members/<int:uid>/deactivate/", views.user_deactivate, name="member-deactivate"),
    path("invites/<str:token>/", views.invite_accept, name="invite-accept"),
    path("password-reset/", ThrottledPasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"
    ),
]
