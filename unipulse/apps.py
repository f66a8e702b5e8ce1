from django.apps import AppConfig


class UniPulseConfig(AppConfig):
    name = "unipulse"
    verbose_name = "UniPulse"

