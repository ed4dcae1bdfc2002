"""Say in one line whether Redis answers at REDIS_URL, and how to start it if not (exit 1)."""
import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Check that Redis answers at REDIS_URL."

    def handle(self, *args, **options):
        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            raise CommandError(
                f"Redis is not reachable at {settings.REDIS_URL} ({exc.__class__.__name__}); the console runs without "
                "deadlines. Start it with: redis-server --daemonize yes --port 6379 --save '' --appendonly no"
            ) from None
        self.stdout.write(f"Redis OK at {settings.REDIS_URL}")
