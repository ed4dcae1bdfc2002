"""API rate limits per caller, counted in Redis so that every web process and host shares one count.

An endpoint opts in with `**rate_limited("scope")` in its route decorator; the numbers are
`settings.API_RATE_LIMITS[scope]` ("5/s", "30/m", "600/h"; empty: no limit), read on each
request so that tests and benchmarks can raise them. Over the limit the caller gets 429
`rate_limited` with `Retry-After` (the shell's handler of ninja's `Throttled` writes the body).

Why not ninja's own `SimpleRateThrottle` on the cache: it reads the caller's history with
`cache.get` and writes it back with `cache.set`, so two gunicorn workers answering the same
buyer at once both read the same list and one write is lost: each process lets the limit
through. Here the check and the count are one Lua script on the cache's Redis (atomic, on
Redis' own clock), a sliding window: never more than N in any window, not 2N across the edge
of two fixed windows. We keep ninja's hook (`throttle=`), so the check runs after the
token is known and before the body is parsed.

Sign-in is throttled differently on purpose (django-axes: a lockout after failed passwords,
per username and address, kept in the database with an audit of the attempts); that is
about guessing passwords, this is about how often a known caller may ask.
"""
import logging
import math
import secrets
import threading

from django.conf import settings
from django.core import checks
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600}

# KEYS[1] the caller's window; ARGV limit, window (µs), a unique member. Returns 0 (counted) or µs to wait.
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""


def rate_parse(rate: str) -> tuple[int, int]:
    """"5/s" -> (5, 1); "30/m" -> (30, 60); "100/10s" -> (100, 10): requests allowed and the window in seconds."""
    count, _, period = rate.partition("/")
    unit = period.lstrip("0123456789")
    multiplier = period[: len(period) - len(unit)] or "1"
    if unit not in _PERIODS or not count.isdigit() or not multiplier.isdigit() or int(count) < 1 or int(multiplier) < 1:
        raise ValueError(f"bad rate {rate!r}: use N/s, N/m or N/h")
    return int(count), int(multiplier) * _PERIODS[unit]


@checks.register()
def rate_limits_check(app_configs=None, **kwargs) -> list:
    """A typo in API_RATE_LIMIT_* is refused when the server starts (and by manage.py check), not at the first order."""
    problems = []
    for scope, rate in settings.API_RATE_LIMITS.items():
        try:
            rate and rate_parse(rate)
        except ValueError:
            problems.append(checks.Error(f"API_RATE_LIMITS[{scope!r}] = {rate!r}: use N/s, N/m or N/h", id="shop_admin.E101"))
    return problems


_script = []


def _sliding_window_script(client):
    """The script with its SHA1, made once; any client of any Redis may run it."""
    if not _script:
        _script.append(client.register_script(_SLIDING_WINDOW))
    return _script[0]


def rate_limit_take(*, scope: str, caller: str, limit: int, window_seconds: int) -> float:
    """Count one request of `caller` in `scope`: 0 if it is within the limit, else the seconds until one is.

    Redis away: the request goes through (a limit is a protection, never a reason to refuse orders).
    """
    key = cache.make_key(f"ratelimit:{scope}:{caller}")
    try:
        client = cache._cache.get_client(key, write=True)
        # EVALSHA: the script's text is sent once per Redis (redis-py loads it again if Redis forgot it).
        waited = _sliding_window_script(client)(keys=[key], args=[limit, window_seconds * 1_000_000, secrets.token_hex(8)], client=client)
    except RedisError as exc:
        logger.warning("rate limit not checked: %s", exc)
        return 0
    return waited / 1_000_000


def caller_of(request: HttpRequest) -> str | None:
    """The authenticated caller (a buyer, a merchant's user), whichever of its tokens it used."""
    principal = getattr(request, "auth", None)
    if principal is None or getattr(principal, "pk", None) is None:
        return None
    return f"{principal._meta.label_lower}:{principal.pk}"


class RateLimit(BaseThrottle):
    """ninja's throttle hook over `rate_limit_take`; one instance serves every thread of the process."""

    def __init__(self, scope: str):
        self.scope = scope
        self._last = threading.local()  # ninja asks wait() right after allow_request(), in the same thread

    def allow_request(self, request: HttpRequest) -> bool:
        self._last.wait = 0.0
        rate = settings.API_RATE_LIMITS.get(self.scope) if settings.API_RATE_LIMITS_ENABLED else None
        caller = caller_of(request)
        if not rate or caller is None:
            return True
        limit, window = rate_parse(rate)
        self._last.wait = rate_limit_take(scope=self.scope, caller=caller, limit=limit, window_seconds=window)
        return self._last.wait == 0

    def wait(self) -> float:
        # Whole seconds, at least 1: what Retry-After and details.retry_after say.
        return max(1, math.ceil(getattr(self._last, "wait", 0)))


def rate_limited(scope: str) -> dict:
    """Route keywords for a rate-limited endpoint: the throttle, and its 429 (body: ERRORS) documented with Retry-After."""
    return {
        "throttle": RateLimit(scope),
        "openapi_extra": {
            "responses": {
                429: {
                    "description": f"Too many requests (limit `API_RATE_LIMITS[{scope!r}]` per caller)",
                    "headers": {
                        "Retry-After": {"description": "seconds until a request is counted again", "schema": {"type": "integer"}}
                    },
                }
            }
        },
    }
