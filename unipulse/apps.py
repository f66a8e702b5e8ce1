from django.apps import AppConfig


class UniPulseConfig(AppConfig):
    name = "unipulse"
    verbose_name = "UniPulse"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
