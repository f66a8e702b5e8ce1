from django.urls import path

from .api import refresh_account

urlpatterns = [
    path("accounts/<int:pk>/refresh/", refresh_account, name="account-refresh"),
]
