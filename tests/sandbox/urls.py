"""The project's URLs with the sandbox mounted, as unipulse/urls.py does when SOCIAL_SANDBOX is on."""

from django.urls import include, path

from unipulse.urls import handler404, handler500  # noqa: F401
from unipulse.urls import urlpatterns as project_urls

urlpatterns = [path("sandbox/", include("sandbox.urls")), *project_urls]
