from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "sandbox"
    label = "sandbox"  # its tables are sandbox_*, wherever the module lives
    verbose_name = "Sandbox platforms"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (marks accounts connected through the sandbox)
