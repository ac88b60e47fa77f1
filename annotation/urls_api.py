from django.urls import path

from annotation.api import annotating, items, projects
from core.api import jobs

urlpatterns = [
    path("auth/token/", jobs.TokenObtainApi.as_view(), name="api-token"),
    path("users/", projects.UserListCreateApi.as_view(), name="api-users"),
    path("jobs/<uuid:job_id>/", jobs.JobDetailApi.as_view(), name="api-job"),
    path("projects/", projects.ProjectListCreateApi.as_view(), name="api-projects"),
    path("projects/<int:pid>/", projects.ProjectDetailApi.as_view(), name="api-project"),
    # A label value may hold a slash; <path:> takes it whole.
    path("projects/<int:pid>/labels/<path:value>/", projects.LabelUpdateApi.as_view(), name="api-label"),
    path("projects/<int:pid>/members/", projects.MembershipListCreateApi.as_view(), name="api-members"),
    path("projects/<int:pid>/guidelines/", projects.GuidelineListCreateApi.as_view(), name="api-guidelines"),
    path(
        "projects/<int:pid>/guidelines/acknowledge/",
        projects.GuidelineAcknowledgeApi.as_view(),
        name="api-guideline-ack",
    ),
    path("projects/<int:pid>/items/", items.ItemListApi.as_view(), name="api-items"),
    path("projects/<int:pid>/next/", annotating.NextApi.as_view(), name="api-next"),
    path("projects/<int:pid>/progress/", annotating.ProgressApi.as_view(), name="api-progress"),
    path("projects/<int:pid>/assignments/<int:aid>/skip/", annotating.SkipApi.as_view(), name="api-skip"),
    path("projects/<int:pid>/my-recent/", annotating.RecentOwnApi.as_view(), name="api-my-recent"),
    path("projects/<int:pid>/annotations/", annotating.AnnotationCreateApi.as_view(), name="api-annotations"),
]
