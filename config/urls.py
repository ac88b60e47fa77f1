from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.favicon import favicon
from config.health import health
from config.login import ThrottledLoginView

handler404 = "config.not_found.not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    # Throttled: the stock LoginView lets a password be guessed at full speed (hardening, issue 9).
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz/", health, name="health"),
    path("favicon.ico", favicon, name="favicon"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("annotation.urls_api")),
    path("api/", include("ingress.urls_api")),
    path("api/", include("quality.urls_api")),
    path("api/", include("quality.urls_review_api")),
    path("api/", include("activelearning.urls_api")),
    path("api/", include("datasets.urls_api")),
    path("api/", include("accounts.urls_api")),
    path("", include("annotation.urls")),
    path("", include("ingress.urls")),
    path("", include("quality.urls")),
    path("", include("quality.urls_review")),
    path("", include("quality.dashboard.urls")),
    path("", include("activelearning.urls")),
    path("", include("datasets.urls")),
    path("", include("accounts.urls")),
]
