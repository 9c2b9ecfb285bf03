from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from portal.observability import health, metrics

urlpatterns = [
    path("metrics", metrics.metrics_view, name="metrics"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("onboarding.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("onboarding.history.urls")),
    path("", include("onboarding.urls")),
]
if settings.OIDC_ENABLED:
    # Single sign-on: /oidc/authenticate/ starts the code flow, /oidc/callback/ finishes it.
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))
