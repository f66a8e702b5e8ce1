"""The policy every actor shares for platform errors.

- RateLimitedError: not a failure. Re-send the same message after the platform's wait, without
  spending a retry, so a worker never sleeps and other users' jobs keep moving.
- TransientError (5xx, timeouts): re-raise; Dramatiq's Retries middleware backs off, bounded by the
  actor's max_retries.
- Any other PlatformError is permanent (reconnect, permission, blocked, invalid): the service has
  already written the outcome on its row; retrying would not help, so the message ends here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import dramatiq
from django.conf import settings

from .broker import requeue_later
from .platform_errors import PlatformError, RateLimitedError, TransientError

logger = logging.getLogger(__name__)

# Retry policy per queue: (max_retries, min_backoff ms, max_backoff ms, time_limit ms)
QUEUE_POLICY = {
    "publish": dict(max_retries=5, min_backoff=15_000, max_backoff=600_000,
                    time_limit=settings.PUBLISH_TIME_LIMIT_SECONDS * 1000),
    "analytics-sync": dict(max_retries=5, min_backoff=30_000, max_backoff=1_800_000, time_limit=900_000),
    "ice-process": dict(max_retries=8, min_backoff=5_000, max_backoff=600_000, time_limit=300_000),
    "webhook-process": dict(max_retries=10, min_backoff=1_000, max_backoff=600_000, time_limit=120_000),
    "token-refresh": dict(max_retries=6, min_backoff=10_000, max_backoff=900_000, time_limit=120_000),
    # Outgoing webhooks plan their own retries (events.delivery); these cover a database hiccup only.
    "webhook-deliver": dict(max_retries=3, min_backoff=5_000, max_backoff=60_000, time_limit=60_000),
}


def run_platform_job(actor: dramatiq.Actor, args: tuple, work: Callable[..., object]) -> None:
    try:
        work(*args)
    except RateLimitedError as error:
        logger.info("%s%r rate limited (%s); re-enqueued in %d s", actor.actor_name, args, error.scope, error.retry_after)
        requeue_later(actor, args, error.retry_after)
    except TransientError:
        raise
    except PlatformError as error:
        logger.warning("%s%r stopped: %s %s", actor.actor_name, args, type(error).__name__, error.error_code)
