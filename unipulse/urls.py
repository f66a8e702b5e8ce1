from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .auth import RateLimitedObtainAuthToken
from .health import healthz

api_v1 = [
    path("", include("conversations.webhook_urls")),  # first: the busiest endpoints resolve in three tries
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("auth/token/", RateLimitedObtainAuthToken.as_view(), name="api-token"),
    path("", include("workspaces.urls")),
    path("", include("social.urls")),
    path("", include("tokens.urls")),
    path("", include("publishing.urls")),
    path("", include("analytics.urls")),
    path("", include("conversations.urls")),
    path("", include("events.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # Uploaded media must be reachable by the platforms, which pull it by URL.
    *([path("sandbox/", include("sandbox.urls"))] if settings.SOCIAL_SANDBOX else []),
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}),
]

handler404 = "unipulse.api_errors.json_404"
handler500 = "unipulse.api_errors.json_500"
