"""The shared cache on Redis, which degrades to "no cache" when Redis is away instead of failing the page."""
import logging

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import transaction
from redis.exceptions import RedisError

from shop_admin.kernel.queues import redis_after_commit

logger = logging.getLogger(__name__)


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's client builds a new `redis.Redis` for every call (its table of reply
    parsers is rebuilt, a measurable share of a cached page); one per server is kept here instead (a `redis.Redis` is safe to share between threads)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class ForgivingRedisCache(RedisCache):
    """Counts and charts are conveniences: a Redis outage must cost a recomputation, never a 500."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError as exc:
            logger.warning("cache get skipped: %s", exc)
            return default

    def set(self, key, value, timeout=None, version=None):
        try:
            return super().set(key, value, timeout, version)
        except RedisError as exc:
            logger.warning("cache set skipped: %s", exc)

    def add(self, key, value, timeout=None, version=None):
        # get_or_set stores through add: without Redis the value is computed and not kept.
        try:
            return super().add(key, value, timeout, version)
        except RedisError as exc:
            logger.warning("cache add skipped: %s", exc)
            return False

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError as exc:
            logger.warning("cache get skipped: %s", exc)
            return {}

    def clear(self):
        """Drop our keys only: RQ's queues and scheduled deadlines share this Redis and must survive."""
        try:
            client = self._cache.get_client(None, write=True)
            pattern = self.make_key("*")
            for chunk in _chunks(client.scan_iter(match=pattern, count=500), 500):
                client.delete(*chunk)
        except RedisError as exc:
            logger.warning("cache clear skipped: %s", exc)
        return True

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError as exc:
            logger.warning("cache delete skipped: %s", exc)
            return False


def _chunks(iterable, size):
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def cache_delete_on_commit(*keys: str, alias: str = "default") -> None:
    """Drop these keys of the cache once the current transaction commits.

    On a Redis cache with one server the DEL joins the transaction's other Redis commands after
    commit (`redis_after_commit`: one round trip for all); otherwise it is the cache's own delete.
    """
    backend = caches[alias]
    servers = getattr(backend, "_servers", None)
    if isinstance(backend, ForgivingRedisCache) and servers and len(servers) == 1:
        made = [backend.make_key(key) for key in keys]
        redis_after_commit(servers[0], lambda pipe: pipe.delete(*made), on_error=lambda exc: logger.warning("cache delete skipped: %s", exc))
        return

    def forget() -> None:
        for key in keys:
            backend.delete(key)

    transaction.on_commit(forget)
