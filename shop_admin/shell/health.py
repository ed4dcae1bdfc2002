"""The balancer's two probes, answered before any other middleware (no host check, no HTTPS redirect, no session).

`/healthz`: the process serves; touches nothing. `/readyz`: the primary, Redis and the migrations answer (503 naming
what is down otherwise); each replica's state is reported but never makes the node unready, since reads fall back
to the primary and a balancer must not drop a node for a lagging standby.
"""
import logging
import math

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import JsonResponse

from shop_admin.kernel.queues import redis_connection
from shop_admin.kernel.replicas import replica_aliases, replica_lag

logger = logging.getLogger(__name__)
_migrations_applied = False


def _database() -> str:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # any driver error means the same to a balancer: not ready
        logger.warning("readyz: database down: %s", exc)
        return "down"


def _migrations() -> str:
    # Once everything is applied in this process it stays so (migrations run before a deploy's new processes start).
    global _migrations_applied
    if _migrations_applied:
        return "ok"
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        logger.warning("readyz: migrations unknown: %s", exc)
        return "down"
    _migrations_applied = not pending
    return "ok" if not pending else "pending"


def _redis() -> str:
    try:
        redis_connection(settings.REDIS_URL).ping()
        return "ok"
    except Exception as exc:
        logger.warning("readyz: redis down: %s", exc)
        return "down"


def _replica(alias: str) -> dict:
    lag = replica_lag(alias)
    if lag is None:
        return {"status": "down"}
    return {"status": "ok" if lag <= settings.REPLICA_MAX_LAG_S else "behind", "lag_s": round(lag, 1) if math.isfinite(lag) else None}


def readiness() -> tuple[bool, dict]:
    database = _database()
    body = {
        "database": database,
        "migrations": _migrations() if database == "ok" else "unknown",
        "redis": _redis(),
        "replicas": {alias: _replica(alias) for alias in replica_aliases()},
    }
    ready = body["database"] == "ok" and body["migrations"] == "ok" and body["redis"] == "ok"
    return ready, body


class HealthMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return JsonResponse({"status": "ok"})
        if request.path == "/readyz":
            ready, body = readiness()
            return JsonResponse(body, status=200 if ready else 503)
        return self.get_response(request)
