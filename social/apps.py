from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "social"

    def ready(self) -> None:
        from . import checks, receivers  # noqa: F401  (system checks on the keys; account receivers)
