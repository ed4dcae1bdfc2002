"""The RQ queues web processes enqueue on: one connection pool per process, with timeouts so a hung Redis never stalls a request.

Also the one pipeline of Redis commands a transaction sends once it commits (`redis_after_commit`):
an order submission schedules its pay-timeout wake-up and drops its shop's cached tab counts, and
both go to Redis in one round trip instead of one each.
"""
import logging
from collections.abc import Callable
from functools import lru_cache

import django_rq
import redis
from django.conf import settings
from django.db import transaction
from redis.exceptions import RedisError
from rq import Queue

logger = logging.getLogger(__name__)


@lru_cache(maxsize=16)
def redis_connection(url: str) -> redis.Redis:
    """This process's client of the Redis at `url` (its pool is shared by every thread)."""
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


@lru_cache(maxsize=16)
def _queue(name: str, url: str) -> Queue:
    return django_rq.get_queue(name, connection=redis_connection(url))


def rq_queue(name: str) -> Queue:
    """The queue `name` of RQ_QUEUES (a settings override in tests gets its own pool)."""
    return _queue(name, settings.RQ_QUEUES[name]["URL"])


class _AfterCommit:
    """The commands for one Redis queued by one transaction (at one savepoint level), sent in one pipeline."""

    def __init__(self, url: str):
        self.url = url
        self.steps: list[tuple[Callable, Callable | None]] = []

    def __call__(self) -> None:
        # Sent in one write, run in order; no MULTI/EXEC: nothing here needs another client kept out between them.
        pipe = redis_connection(self.url).pipeline(transaction=False)
        try:
            for add, _on_error in self.steps:
                add(pipe)
            pipe.execute()
        except RedisError as exc:
            for _add, on_error in self.steps:
                if on_error is not None:
                    on_error(exc)
            if not any(on_error for _add, on_error in self.steps):
                logger.warning("Redis commands after commit skipped: %s", exc)


def redis_after_commit(url: str, add: Callable[[redis.client.Pipeline], object], *, on_error: Callable | None = None) -> None:
    """Once the current transaction commits, `add(pipeline)` queues its commands on the Redis at `url`.

    Every call of one transaction (at one savepoint level) shares one pipeline, sent in one round
    trip; outside a transaction it is sent at once. If Redis fails, each caller's `on_error(exc)`
    is told (a lost wake-up or invalidation must be something the caller can live with).
    """
    conn = transaction.get_connection()
    if conn.in_atomic_block:
        level = set(conn.savepoint_ids)
        # Django keeps the callbacks of the open transaction as (savepoint ids, callable, robust): join ours if queued.
        for sids, func, *_rest in getattr(conn, "run_on_commit", []):
            if isinstance(func, _AfterCommit) and func.url == url and sids == level:
                func.steps.append((add, on_error))
                return
    batch = _AfterCommit(url)
    batch.steps.append((add, on_error))
    transaction.on_commit(batch)
