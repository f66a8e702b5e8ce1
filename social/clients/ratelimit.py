"""The one place that decides whether a platform call may go out.

- Budgets: Meta allows `META_CALLS_PER_HOUR` calls per rolling hour per user token (the product's
  "200 calls per hour per user"), counted in Redis (a sorted set per user, updated by one Lua script)
  so every web and worker process shares the count. Without REDIS_URL the same logic runs in process.
- Pauses: when a platform says "slow down" (usage headers near 100 %, a rate-limit code, HTTP 429),
  the scope it names (the app, a user, a Page or IG account, a TikTok user) is paused until a time.
  A paused scope raises RateLimitedError before any HTTP is sent, so a job re-enqueues itself with a
  delay instead of sleeping a worker.
- Counters: every outgoing call is counted per account and endpoint, for the API and admin.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import threading
import time
import uuid
from collections import defaultdict, deque

from django.conf import settings

from unipulse.platform_errors import RateLimitedError

logger = logging.getLogger(__name__)

_TAKE_SCRIPT = """
local key, now, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local used = redis.call('ZCARD', key)
if used >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {0, tostring(oldest[2])}
end
redis.call('ZADD', key, now, member)
redis.call('EXPIRE', key, math.ceil(window))
return {1, tostring(used + 1)}
"""


class _RedisStore:
    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self.prefix = prefix
        self._take = self.redis.register_script(_TAKE_SCRIPT)

    def _k(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def take(self, key: str, limit: int, window: int, now: float) -> tuple[bool, float]:
        ok, value = self._take(keys=[self._k("budget", key)], args=[now, window, limit, uuid.uuid4().hex])
        value = float(value)
        return (True, 0.0) if int(ok) else (False, value + window - now)

    def used(self, key: str, window: int, now: float) -> int:
        return int(self.redis.zcount(self._k("budget", key), now - window, "+inf"))

    def set_pause(self, key: str, until: float) -> None:
        ttl = max(1, int(until - time.time()) + 1)
        current = self.redis.get(self._k("pause", key))
        if current is None or float(current) < until:
            self.redis.set(self._k("pause", key), str(until), ex=ttl)

    def get_pause(self, key: str) -> float | None:
        value = self.redis.get(self._k("pause", key))
        return float(value) if value is not None else None

    def count_call(self, account_key: str, endpoint: str) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.hincrby(self._k("calls", account_key), endpoint, 1)
        pipe.hincrby(self._k("calls", "total"), endpoint, 1)
        pipe.execute()

    def calls(self, account_key: str) -> dict[str, int]:
        raw = self.redis.hgetall(self._k("calls", account_key))
        return {k.decode(): int(v) for k, v in raw.items()}

    def calls_many(self, account_keys: list[str]) -> list[dict[str, int]]:
        """calls() of several accounts in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for key in account_keys:
            pipe.hgetall(self._k("calls", key))
        return [{k.decode(): int(v) for k, v in raw.items()} for raw in pipe.execute()]

    def used_many(self, keys: list[str], window: int, now: float) -> list[int]:
        """used() of several budgets in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.zcount(self._k("budget", key), now - window, "+inf")
        return [int(n) for n in pipe.execute()]

    def strike(self, key: str, ttl: int) -> int:
        pipe = self.redis.pipeline()
        pipe.incr(self._k("strike", key))
        pipe.expire(self._k("strike", key), ttl)
        return int(pipe.execute()[0])

    def clear_strikes(self, key: str) -> None:
        self.redis.delete(self._k("strike", key))

    def clear(self) -> None:
        keys = list(self.redis.scan_iter(match=f"{self.prefix}:*", count=500))
        if keys:
            self.redis.delete(*keys)


class _MemoryStore:
    """In-process twin of _RedisStore for the embedded mode (one process, several threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clear()

    def take(self, key: str, limit: int, window: int, now: float) -> tuple[bool, float]:
        with self.lock:
            stamps = self.budgets[key]
            while stamps and stamps[0] <= now - window:
                stamps.popleft()
            if len(stamps) >= limit:
                return False, stamps[0] + window - now
            stamps.append(now)
            return True, 0.0

    def used(self, key: str, window: int, now: float) -> int:
        with self.lock:
            return sum(1 for t in self.budgets.get(key, ()) if t > now - window)

    def set_pause(self, key: str, until: float) -> None:
        with self.lock:
            self.pauses[key] = max(until, self.pauses.get(key, 0.0))

    def get_pause(self, key: str) -> float | None:
        with self.lock:
            until = self.pauses.get(key)
            return until if until and until > time.time() else None

    def count_call(self, account_key: str, endpoint: str) -> None:
        with self.lock:
            self.counts[account_key][endpoint] += 1
            self.counts["total"][endpoint] += 1

    def calls(self, account_key: str) -> dict[str, int]:
        with self.lock:
            return dict(self.counts.get(account_key, {}))

    def calls_many(self, account_keys: list[str]) -> list[dict[str, int]]:
        with self.lock:
            return [dict(self.counts.get(key, {})) for key in account_keys]

    def used_many(self, keys: list[str], window: int, now: float) -> list[int]:
        with self.lock:
            return [sum(1 for t in self.budgets.get(key, ()) if t > now - window) for key in keys]

    def strike(self, key: str, ttl: int) -> int:
        with self.lock:
            self.strikes[key] += 1
            return self.strikes[key]

    def clear_strikes(self, key: str) -> None:
        with self.lock:
            self.strikes.pop(key, None)

    def clear(self) -> None:
        self.budgets: dict[str, deque] = defaultdict(deque)
        self.pauses: dict[str, float] = {}
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.strikes: dict[str, int] = defaultdict(int)


@functools.lru_cache(maxsize=1)
def get_store() -> _RedisStore | _MemoryStore:
    if settings.REDIS_URL:
        return _RedisStore(settings.REDIS_URL, settings.RATE_LIMIT_KEY_PREFIX)
    return _MemoryStore()


# ---- scopes -------------------------------------------------------------------------------------

META_APP = "meta:app"


def meta_user_key(platform_user_id: str) -> str:
    return f"meta:user:{platform_user_id}"


def meta_object_key(object_id: str) -> str:
    return f"meta:obj:{object_id}"


INSTAGRAM_APP = "instagram:app"  # the Instagram app of the Instagram Login path (its own app usage)


def instagram_user_key(ig_user_id: str) -> str:
    """The hourly budget of one Instagram Login account (its token belongs to the Instagram user)."""
    return f"instagram:user:{ig_user_id}"


def tiktok_user_key(open_id: str) -> str:
    return f"tiktok:user:{open_id}"


# ---- decisions ----------------------------------------------------------------------------------

def check_paused(keys: list[str], platform: str) -> None:
    """Raise RateLimitedError if any scope is paused; send nothing in that case."""
    store, now = get_store(), time.time()
    for key in keys:
        until = store.get_pause(key)
        if until and until > now:
            scope = key.split(":")[1] if ":" in key else key
            raise RateLimitedError(
                f"{platform.title()} asked us to slow down; calls resume in {int(until - now) + 1} s.",
                platform=platform, retry_after=int(until - now) + 1, scope=scope,
            )


def take_budget(key: str, platform: str, limit: int | None = None, window: int = 3600) -> None:
    """Spend one call from a rolling-window budget, or raise RateLimitedError(scope='budget')."""
    limit = settings.META_CALLS_PER_HOUR if limit is None else limit
    ok, wait = get_store().take(key, limit, window, time.time())
    if not ok:
        raise RateLimitedError(
            f"The hourly call budget for this {platform.title()} user is spent; it frees up in {int(wait) + 1} s.",
            platform=platform, retry_after=int(wait) + 1, scope="budget",
        )


def remaining_budget(key: str, limit: int | None = None, window: int = 3600) -> int:
    limit = settings.META_CALLS_PER_HOUR if limit is None else limit
    return max(0, limit - get_store().used(key, window, time.time()))


def pause(key: str, seconds: float, reason: str) -> None:
    logger.warning("Pausing platform calls for %s for %d s: %s", key, int(seconds), reason)
    get_store().set_pause(key, time.time() + seconds)


def count_call(platform: str, endpoint: str, account_id: int | None) -> None:
    try:
        get_store().count_call(str(account_id) if account_id else f"{platform}:app", f"{platform}:{endpoint}")
    except Exception:  # noqa: BLE001 - counting must never break a platform call
        logger.warning("Could not count a %s call", platform, exc_info=True)


def get_call_counts(account_id: int) -> dict[str, int]:
    return get_store().calls(str(account_id))


def get_call_counts_many(account_ids: list[int]) -> dict[int, dict[str, int]]:
    """get_call_counts() of several accounts with one Redis round trip (for lists)."""
    ids = list(dict.fromkeys(account_ids))
    return dict(zip(ids, get_store().calls_many([str(i) for i in ids]), strict=True)) if ids else {}


def remaining_budgets(keys: list[str], limit: int | None = None, window: int = 3600) -> dict[str, int]:
    """remaining_budget() of several keys with one Redis round trip (for lists)."""
    limit = settings.META_CALLS_PER_HOUR if limit is None else limit
    keys = list(dict.fromkeys(keys))
    used = get_store().used_many(keys, window, time.time()) if keys else []
    return {key: max(0, limit - n) for key, n in zip(keys, used, strict=True)}


def backoff_after_429(key: str, retry_after_header: str | None) -> int:
    """Seconds to wait after an HTTP 429: the platform's Retry-After, else exponential with jitter."""
    strikes = get_store().strike(key, ttl=3600)
    if retry_after_header and retry_after_header.strip().isdigit():
        return max(1, int(retry_after_header))
    base = min(60 * 2 ** (strikes - 1), 900)
    return int(base * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not security


def clear_backoff(key: str) -> None:
    get_store().clear_strikes(key)


def apply_meta_usage_headers(headers, user_key: str | None, app_key: str = META_APP) -> None:
    """Read X-App-Usage / X-Business-Use-Case-Usage and pause the scopes that near 100 %.

    `app_key`: whose app usage X-App-Usage reports (the Facebook app, or the Instagram app of graph.instagram.com)."""
    threshold = settings.META_USAGE_PAUSE_PERCENT
    app_usage = _parse_json_header(headers.get("X-App-Usage"))
    if isinstance(app_usage, dict):
        peak = max((_num(v) for v in app_usage.values()), default=0)
        if peak >= 100:
            pause(app_key, 3600, f"X-App-Usage at {peak}%")
        elif peak >= threshold:
            pause(app_key, 300, f"X-App-Usage at {peak}%")
    for header in ("X-Business-Use-Case-Usage", "X-Page-Usage"):
        usage = _parse_json_header(headers.get(header))
        if not isinstance(usage, dict):
            continue
        if header == "X-Page-Usage":  # same three fields as X-App-Usage, for the calling user/page
            peak = max((_num(v) for v in usage.values()), default=0)
            if peak >= threshold and user_key:
                pause(user_key, 300 if peak < 100 else 3600, f"X-Page-Usage at {peak}%")
            continue
        for object_id, entries in usage.items():
            for entry in entries if isinstance(entries, list) else []:
                regain_minutes = _num(entry.get("estimated_time_to_regain_access"))
                peak = max(_num(entry.get(f)) for f in ("call_count", "total_time", "total_cputime"))
                if regain_minutes > 0:
                    pause(meta_object_key(str(object_id)), regain_minutes * 60, f"BUC {entry.get('type')} regain")
                elif peak >= threshold:
                    pause(meta_object_key(str(object_id)), 300 if peak < 100 else 3600, f"BUC {entry.get('type')} at {peak}%")


def regain_seconds_from_buc(headers, object_id: str) -> int | None:
    usage = _parse_json_header(headers.get("X-Business-Use-Case-Usage"))
    if not isinstance(usage, dict):
        return None
    waits = [_num(e.get("estimated_time_to_regain_access")) for e in usage.get(object_id, []) if isinstance(e, dict)]
    waits = [w for w in waits if w > 0]
    return int(max(waits) * 60) if waits else None


def _parse_json_header(value: str | None):
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _num(value) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0
