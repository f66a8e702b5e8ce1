from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self) -> None:
        from unipulse import hooks

        from .services.best_times import get_best_slots_in_workspace
        from .services.reports import get_video_comment_counts_in_workspace
        from .services.tracking import track_published_target

        hooks.video_comment_counts.provide(get_video_comment_counts_in_workspace)
        hooks.best_posting_hours.provide(get_best_slots_in_workspace)
        hooks.target_published.connect(track_published_target, dispatch_uid="analytics.track_published_target")
