"""The RQ queues web processes enqueue on: one connection pool per process, with timeouts so a hung Redis never stalls a request."""
from functools import lru_cache

import django_rq
import redis
from django.conf import settings
from rq import Queue


@lru_cache(maxsize=16)
def _queue(name: str, url: str) -> Queue:
    connection = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    return django_rq.get_queue(name, connection=connection)


def rq_queue(name: str) -> Queue:
    """The queue `name` of RQ_QUEUES (a settings override in tests gets its own pool)."""
    return _queue(name, settings.RQ_QUEUES[name]["URL"])
