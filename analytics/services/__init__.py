"""Business logic of the analytics app (plain functions; see STYLE.md).

sync.py: a run over one account (the platforms' own code is in analytics/platforms/); store.py: writing
what it fetched; reports.py: reading it; tracking.py: the posts UniPulse published; periods.py: ?from=&to=.
"""

from .periods import InvalidPeriodError, parse_period
from .reports import (
    get_account_report_in_workspace,
    get_post_targets_in_workspace,
    get_summary_in_workspace,
    get_tracked_post_in_workspace,
    get_tracked_posts_in_workspace,
    get_video_comment_counts_in_workspace,
)
from .sync import request_sync, sync_account
from .tracking import register_published_post, track_published_target

__all__ = [
    "InvalidPeriodError", "get_account_report_in_workspace", "get_post_targets_in_workspace",
    "get_summary_in_workspace", "get_tracked_post_in_workspace", "get_tracked_posts_in_workspace",
    "get_video_comment_counts_in_workspace", "parse_period", "register_published_post", "request_sync",
    "sync_account", "track_published_target",
]
