from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "publishing"

    def ready(self) -> None:
        from unipulse import hooks

        from .platforms.tiktok import apply_publish_event
        from .services.posts import get_platform_posts_in_workspace

        hooks.post_platform_posts.provide(get_platform_posts_in_workspace)
        hooks.tiktok_publish_event.provide(apply_publish_event)
