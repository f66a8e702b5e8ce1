from django.urls import path

import unipulse.converters  # noqa: F401  (registers <id:...>)

from .api import refresh_account

urlpatterns = [
    path("accounts/<id:pk>/refresh/", refresh_account, name="account-refresh"),
]
