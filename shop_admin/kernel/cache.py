"""The shared cache on Redis, which degrades to "no cache" when Redis is away instead of failing the page."""
import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class ForgivingRedisCache(RedisCache):
    """Counts and charts are conveniences: a Redis outage must cost a recomputation, never a 500."""

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
