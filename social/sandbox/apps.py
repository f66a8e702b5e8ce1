from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "social.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox platforms"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (marks accounts connected through the sandbox)
