from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events and webhooks"

    def ready(self) -> None:
        from unipulse import hooks

        from .services import record

        hooks.record_event.provide(record)
