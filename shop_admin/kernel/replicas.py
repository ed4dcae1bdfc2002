"""Where a read goes: the primary, unless it is marked lag-tolerant, nothing was written yet, and a replica keeps up.

The rule is the simple one on purpose. Every read goes to the primary (`DATABASE_URL`) by default: a service's
own reads (the refund cap, the one-open-case check, the idempotency lookup, a `refresh_from_db()` after a
change), sessions, users and memberships, related managers, migrations and commands. A read goes to a streaming
replica only inside `lag_tolerant(...)`, which the list, the dashboard tiles and the CSV export use, and only when

- no transaction is open on the primary (what a transaction reads it may write back),
- this request or job has written nothing (read-your-writes; a transaction opened on the primary counts as a
  write), nor has this browser in the last REPLICA_MAX_LAG_S + LAG_CHECK_EVERY_S seconds (a cookie, so the page
  a form redirects to shows what the form did),
- the replica answers and is at most REPLICA_MAX_LAG_S behind; each process asks each replica its lag at most
  once a LAG_CHECK_EVERY_S and keeps the verdict, so the check costs one small query a second, not one a read.

A replica that fails during a lag-tolerant read is marked down and the read runs again on the primary: a stopped
standby costs a moment, never an error page.
"""
import contextvars
import logging
import math
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.db.backends.signals import connection_created
from django.dispatch import receiver

logger = logging.getLogger(__name__)
T = TypeVar("T")

LAG_CHECK_EVERY_S = 1.0  # how long a process keeps a replica's measured lag
DOWN_RETRY_AFTER_S = 10.0  # how long a replica that did not answer is left alone (an unreachable host costs a timeout)
PIN_COOKIE = "primary_reads_until"

# Replay lag in seconds: how long ago the primary committed the newest transaction the standby has applied, when WAL
# it has received is still waiting to be applied; 0 when it has applied all it received (also on a primary).
# Received but nothing applied yet since it started: unknown, so infinitely behind.
LAG_SQL = (
    "SELECT CASE WHEN pg_is_in_recovery() AND pg_last_wal_receive_lsn() IS DISTINCT FROM pg_last_wal_replay_lsn()"
    " THEN COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 'Infinity') ELSE 0 END"
)

_wrote: contextvars.ContextVar[bool] = contextvars.ContextVar("db_wrote", default=False)
_pinned: contextvars.ContextVar[bool] = contextvars.ContextVar("db_pinned", default=False)  # a recent request wrote
_reading: contextvars.ContextVar[str | None] = contextvars.ContextVar("db_replica_reading", default=None)
_lags: dict[str, tuple[float, float | None]] = {}  # alias -> (monotonic time measured, lag in seconds or None: down)


def replica_aliases() -> list[str]:
    """The configured replicas' connection names (`replica0`, ...)."""
    return [alias for alias in connections if alias != DEFAULT_DB_ALIAS]


def replica_lag(alias: str) -> float | None:
    """The replica's replay lag in seconds (math.inf when unknown), or None when it does not answer."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(LAG_SQL)
            return float(cursor.fetchone()[0])
    except Exception as exc:  # whatever stops a replica answering means the same here: read the primary
        logger.warning("replica %s does not answer: %s", alias, exc)
        _close_quietly(alias)
        return None


def _close_quietly(alias: str) -> None:
    # A connection to a stopped server fails to close too; the next use opens a new one either way.
    try:
        connections[alias].close()
    except Exception:
        pass


def _keeps_up(alias: str) -> bool:
    now = time.monotonic()
    measured = _lags.get(alias)
    if measured is None or now - measured[0] >= (DOWN_RETRY_AFTER_S if measured[1] is None else LAG_CHECK_EVERY_S):
        measured = _lags[alias] = (now, replica_lag(alias))
    return measured[1] is not None and measured[1] <= settings.REPLICA_MAX_LAG_S


@receiver(setting_changed)
def _replica_lags_forget(*, setting, **kwargs) -> None:
    # Other databases, or another bound: what was measured of the replicas before does not answer for them.
    if setting in ("DATABASES", "DATABASE_ROUTERS", "REPLICA_MAX_LAG_S"):
        _lags.clear()


def _replica_for_read() -> str | None:
    if _wrote.get() or _pinned.get() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return None
    aliases = replica_aliases()
    for alias in random.sample(aliases, len(aliases)):
        if _keeps_up(alias):
            return alias
    return None


def lag_tolerant(read: Callable[[], T]) -> T:
    """`read()` with its reads on a replica when the rules above allow one, else on the primary.

    For reads a few seconds old are good enough for (a list, a tile's count, an export): `read` must only
    read, and must finish its reading before it returns (a lazy queryset evaluated later reads the primary).
    """
    alias = _replica_for_read()
    if alias is None:
        return read()
    token = _reading.set(alias)
    try:
        return read()
    except (OperationalError, InterfaceError) as exc:
        logger.warning("replica %s failed a read, reading the primary: %s", alias, exc)
        _lags[alias] = (time.monotonic(), None)
        _close_quietly(alias)
    finally:
        _reading.reset(token)
    return read()


def read_alias() -> str:
    """The connection an ORM read uses now (the router's answer)."""
    alias = _reading.get()
    if alias is None or _wrote.get() or _pinned.get() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return alias


def writes_noted() -> None:
    """This request or job wrote: the rest of it reads the primary."""
    _wrote.set(True)


def writes_begin(*, pinned: bool = False) -> tuple[contextvars.Token, contextvars.Token]:
    """A request or job starts with nothing written (`pinned`: reading the primary all the same); `writes_end` ends it."""
    return _wrote.set(False), _pinned.set(pinned)


def writes_end(tokens: tuple[contextvars.Token, contextvars.Token]) -> bool:
    """Ends what `writes_begin` began; whether anything was written meanwhile."""
    wrote = _wrote.get()
    _wrote.reset(tokens[0])
    _pinned.reset(tokens[1])
    return wrote


def _pin_inside_transaction(execute, sql, params, many, context):
    # Hand-written SQL (rawsql) writes without asking the router; every such write runs inside a service's transaction.
    if context["connection"].in_atomic_block:
        _wrote.set(True)
    return execute(sql, params, many, context)


@receiver(connection_created)
def _primary_watch(sender, connection, **kwargs) -> None:
    # Only with replicas configured: one database has no reads to route.
    if connection.alias == DEFAULT_DB_ALIAS and _pin_inside_transaction not in connection.execute_wrappers and replica_aliases():
        connection.execute_wrappers.insert(0, _pin_inside_transaction)


class ReadYourWritesMiddleware:
    """Each request starts with nothing written; one that wrote pins its browser to the primary while a replica may lag."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_aliases():
            return self.get_response(request)
        now = time.time()
        try:
            pinned = float(request.COOKIES.get(PIN_COOKIE, "0")) > now
        except ValueError:
            pinned = False
        tokens = writes_begin(pinned=pinned)
        try:
            response = self.get_response(request)
        finally:
            wrote = writes_end(tokens)
        if wrote:
            window = settings.REPLICA_MAX_LAG_S + LAG_CHECK_EVERY_S
            response.set_cookie(
                PIN_COOKIE, str(math.ceil(now + window)), max_age=math.ceil(window), httponly=True,
                samesite="Lax", secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
